//! The RPCs peers exchange (Figure 2 of the Raft paper, plus the fast-backup
//! hints and InstallSnapshot).

use serde::{Deserialize, Serialize};

use crate::log::Entry;
use crate::types::{LogIndex, PeerId, Term};

/// RequestVote arguments: a candidate asks for a vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestVoteArgs {
    pub(crate) term: Term,
    pub(crate) candidate: PeerId,
    pub(crate) last_log_index: LogIndex,
    pub(crate) last_log_term: Term,
}

/// RequestVote reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestVoteReply {
    pub(crate) term: Term,
    pub(crate) vote_granted: bool,
}

/// AppendEntries arguments: replication and heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppendEntriesArgs<C> {
    pub(crate) term: Term,
    pub(crate) leader: PeerId,
    pub(crate) prev_log_index: LogIndex,
    pub(crate) prev_log_term: Term,
    pub(crate) entries: Vec<Entry<C>>,
    pub(crate) leader_commit: LogIndex,
}

/// AppendEntries reply. On a failed consistency check the follower names where
/// the leader should retry, so a leader backs up a whole term per round trip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppendEntriesReply {
    pub(crate) term: Term,
    pub(crate) success: bool,
    /// With `success == false` and a current term: the follower's first index of
    /// `conflict_term`, or its log length + 1 if it has no entry at prev_log_index.
    pub(crate) conflict_index: LogIndex,
    /// The term of the follower's entry at prev_log_index, if it has one.
    pub(crate) conflict_term: Option<Term>,
}

/// InstallSnapshot arguments: the leader sends its whole snapshot in one piece.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InstallSnapshotArgs {
    pub(crate) term: Term,
    pub(crate) leader: PeerId,
    pub(crate) last_included_index: LogIndex,
    pub(crate) last_included_term: Term,
    pub(crate) data: Vec<u8>,
}

/// InstallSnapshot reply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InstallSnapshotReply {
    pub(crate) term: Term,
}

/// A request one peer sends another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request<C> {
    Vote(RequestVoteArgs),
    Append(AppendEntriesArgs<C>),
    Snapshot(InstallSnapshotArgs),
}

/// The answer to a [`Request`] of the same kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    Vote(RequestVoteReply),
    Append(AppendEntriesReply),
    Snapshot(InstallSnapshotReply),
}

/// A request the core wants sent, tagged so its outcome can be matched up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outgoing<C> {
    pub(crate) to: PeerId,
    /// Increases with every request the core makes.
    pub(crate) seq: u64,
    pub(crate) request: Request<C>,
}

/// The labrpc method names of the Raft service.
pub(crate) mod method {
    pub(crate) const SERVICE: &str = "Raft";
    pub(crate) const REQUEST_VOTE: &str = "RequestVote";
    pub(crate) const APPEND_ENTRIES: &str = "AppendEntries";
    pub(crate) const INSTALL_SNAPSHOT: &str = "InstallSnapshot";
    pub(crate) const FULL_REQUEST_VOTE: &str = "Raft.RequestVote";
    pub(crate) const FULL_APPEND_ENTRIES: &str = "Raft.AppendEntries";
    pub(crate) const FULL_INSTALL_SNAPSHOT: &str = "Raft.InstallSnapshot";
}
