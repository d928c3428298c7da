//! kvraft: a fault-tolerant key/value service on rsm and Raft.
//!
//! Two API flavours share the replication machinery:
//! - the 2025 versioned service at the crate root: `put(key, value, version)`
//!   succeeds only at the key's current version, `get(key)` returns the value
//!   and its version ([`KvServer`], [`Clerk`], [`rpc`]);
//! - the classic Put/Append/Get service with exactly-once writes ([`classic`]).
//!
//! [`kvtest`] is the shared KV test library (clerk workers, recorded histories,
//! the partitioner, porcupine checks), used by the test suites and by tools.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod classic;
mod client;
pub mod kvtest;
pub mod rpc;
mod server;
mod store;
mod transport;

pub use client::Clerk;
pub use server::KvServer;
pub use store::{KvOp, KvOutput, KvStore};
pub use transport::Transport;
