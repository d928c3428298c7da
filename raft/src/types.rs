//! Newtypes for the numbers Raft must never mix up.

use serde::{Deserialize, Serialize};

/// A Raft term (election epoch). Terms only grow.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub(crate) struct Term(pub u64);

/// A 1-based position in the replicated log; 0 means "before the first entry".
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub(crate) struct LogIndex(pub u64);

impl LogIndex {
    /// The index right after this one.
    pub(crate) fn next(self) -> LogIndex {
        LogIndex(self.0 + 1)
    }

    /// The index right before this one (0 stays 0).
    pub(crate) fn prev(self) -> LogIndex {
        LogIndex(self.0.saturating_sub(1))
    }

    /// This index moved forward by `n` entries.
    pub(crate) fn plus(self, n: usize) -> LogIndex {
        LogIndex(self.0 + n as u64)
    }
}

/// A peer's position in the cluster's list of peers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub(crate) struct PeerId(pub usize);

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for LogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
