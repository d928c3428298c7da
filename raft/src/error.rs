//! The one error type of the raft API.

/// Why a Raft peer could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaftError {
    /// The persister holds Raft state (or a snapshot reference inside it) that does
    /// not decode. Fatal: the peer refuses to start rather than run from a silently
    /// empty state.
    #[error("corrupt persisted raft state ({len} bytes): {reason}")]
    CorruptState {
        /// Size of the persisted Raft state that failed to decode.
        len: usize,
        /// What the decoder found wrong.
        reason: String,
    },
    /// The arguments of [`crate::Raft::new`] do not describe a valid peer (e.g. `me`
    /// is not an index into `peers`).
    #[error("invalid raft configuration: {0}")]
    InvalidConfig(String),
    /// The operating system refused to start the peer's threads.
    #[error("cannot start the peer's threads: {0}")]
    Threads(String),
}
