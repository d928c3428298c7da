//! The errors of the rsm API.

/// Why a submitted operation has no result from this replica. Always retriable
/// on another replica (or on this one later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// This replica is not the leader, lost leadership (its term changed) before
    /// the operation committed, saw another operation committed at its index, or
    /// has been killed. The operation may or may not end up committed.
    #[error("ErrWrongLeader")]
    WrongLeader,
}

/// Why a replica could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RsmError {
    /// Raft refused to start, e.g. its persisted state does not decode.
    #[error("raft could not start: {0}")]
    Raft(#[from] raft::RaftError),
    /// The persisted snapshot does not decode into the service's state.
    #[error("replica {me}: the persisted snapshot ({bytes} bytes) does not decode: {source}")]
    Snapshot {
        /// The replica's index.
        me: usize,
        /// The snapshot's size.
        bytes: usize,
        /// What the state machine's decoder reported.
        source: labgob::DecodeError,
    },
}
