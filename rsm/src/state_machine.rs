//! What a service provides to be replicated.

use std::fmt::Debug;

/// A deterministic service that [`crate::Rsm`] replicates.
///
/// Every replica calls [`StateMachine::apply`] for every committed operation, in
/// log order, so replicas that applied the same prefix of the log hold the same
/// state.
pub trait StateMachine: Send + 'static {
    /// One request, as it travels through the Raft log.
    type Op: raft::Command;
    /// What applying one request returns to the submitter.
    type Output: Clone + Debug + Send + 'static;

    /// Executes one committed request and returns its result. Must depend only on
    /// the current state and `op` (it runs on every replica).
    fn apply(&mut self, op: Self::Op) -> Self::Output;

    /// Serialises the whole state.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the whole state with one produced by [`StateMachine::snapshot`].
    /// The bytes are exactly those `snapshot` returned (rsm adds nothing).
    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError>;
}
