//! The classic (2021–2024) key/value flavour: `Put`, `Append` and `Get` with
//! exactly-once execution of every Clerk write.
//!
//! A [`ClassicServer`] runs one replica: RPC handlers turn each request into a
//! [`KvOp`] and submit it through [`rsm::Rsm`], which replicates it with Raft and
//! applies it to a [`ClassicKv`] state machine on every replica in log order.
//! A [`Clerk`] finds the leader, remembers it, and retries until its request is
//! executed. Writes carry the Clerk's random id and a per-Clerk sequence number,
//! so a write that is re-sent (to a new leader, in a new term, after a lost
//! reply) is applied once; the duplicate table keeps one small entry per Clerk
//! and travels inside snapshots.
//!
//! Reads go through the Raft log like writes, so a minority replica never
//! answers one.

mod clerk;
mod rpc;
mod server;
mod state_machine;

pub use clerk::{Clerk, ClerkError};
pub use rpc::{ClientId, GetArgs, GetReply, PutAppendArgs, PutAppendReply, Status, WriteKind};
pub use server::{ClassicServer, StartError};
pub use state_machine::{ClassicKv, KvOp, KvOutput};
