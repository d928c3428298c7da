//! The envelope every request travels in through the Raft log.

use serde::{Deserialize, Serialize};

/// Identifies one submitted operation, uniquely across replicas and restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpId {
    /// The submitting replica.
    pub me: u32,
    /// Random per replica incarnation, so a restarted replica's counter that
    /// starts again at 0 cannot match an entry of an earlier incarnation.
    pub incarnation: u32,
    /// Counts this incarnation's submits.
    pub seq: u64,
}

/// What rsm hands to Raft: the service's request plus the submit's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op<R> {
    /// Which submit this is.
    pub id: OpId,
    /// The service's request, applied on every replica.
    pub req: R,
}
