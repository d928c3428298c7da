//! Raft consensus for the 6.5840 labs: leader election, log replication,
//! persistence and snapshots.
//!
//! The rules of Raft live in a pure core (no threads, no clock, no network) that
//! turns events into actions; a thin thread layer feeds it RPCs, timer expiries
//! and proposals, and carries out what it asks (send, persist, apply).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod core;
mod error;
mod link;
mod log;
mod messages;
mod node;
mod persist;
mod types;

pub use apply::ApplyMsg;
pub use error::RaftError;
pub use node::Raft;

/// Anything Raft can replicate: the tests use an enum of ints and strings, rsm
/// its own operation type.
pub trait Command:
    Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
}

impl<T> Command for T where
    T: Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static
{
}
