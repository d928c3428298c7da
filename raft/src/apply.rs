//! What Raft hands to the service above it.

/// A message on the apply channel. Raft delivers them in log order: every
/// command exactly once per incarnation, and a snapshot only when it moves the
/// service forward past commands it has not yet seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyMsg<C> {
    /// A committed log entry.
    Command {
        /// Its log index (the first command has index 1).
        index: u64,
        /// The term in which a leader appended it.
        term: u64,
        /// The command the service passed to [`crate::Raft::start`].
        command: C,
    },
    /// A snapshot received from the leader; the service must replace its state with
    /// it. Commands after it start at `index + 1`.
    Snapshot {
        /// The last log index the snapshot covers.
        index: u64,
        /// The term of the entry at `index`.
        term: u64,
        /// The service's snapshot bytes, as given to [`crate::Raft::snapshot`] on the leader.
        data: Vec<u8>,
    },
}
