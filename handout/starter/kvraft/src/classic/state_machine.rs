//! The replicated part of the classic service (lab 3A; snapshots in lab
//! 3B): the key/value map and the duplicate table, changed only by applying
//! [`KvOp`]s in log order.
//!
//! This file is yours, like `server.rs` and `clerk.rs` next to it; modules
//! of your own go under `src/classic/state_machine/` (declare them here).
//! Keep [`ClassicKv`], [`KvOp`] and [`KvOutput`]: `classic/mod.rs`, which is
//! given, exports them.

use rsm::StateMachine;
use serde::{Deserialize, Serialize};

use super::rpc::{GetArgs, GetReply, PutAppendArgs, PutAppendReply};

/// One request as it travels through the Raft log: the RPC's arguments
/// (a write's carry the Clerk's id and sequence number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// A `KVServer.Get`.
    Get(GetArgs),
    /// A `KVServer.PutAppend`.
    PutAppend(PutAppendArgs),
}

/// What applying a [`KvOp`] returns to the server that submitted it: the
/// RPC's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOutput {
    /// The reply to a [`KvOp::Get`]: status `Ok` with the value, or `NoKey`
    /// with "".
    Get(GetReply),
    /// The reply to a [`KvOp::PutAppend`]: status `Ok`.
    PutAppend(PutAppendReply),
}

/// The key/value map plus the duplicate table.
///
/// Contract of [`StateMachine::apply`] (the same on every replica, so it
/// depends only on the state and the operation):
/// - `Get`: the key's value, or `NoKey` and "" for a key without one.
/// - `Put` replaces the key's value; `Append` adds to the end of it (a
///   missing key counts as ""). Both answer `Ok`.
/// - Exactly once: each write is applied at most once per (Clerk id,
///   sequence number), however often the Clerk re-sends it and however often
///   it reaches the log. A duplicate changes nothing and still answers `Ok`.
///   A Clerk sends one request at a time with increasing sequence numbers,
///   so the duplicate table needs one small entry per Clerk.
///
/// [`StateMachine::snapshot`] encodes the map and the duplicate table (with
/// labgob), and [`StateMachine::restore`] replaces both with decoded ones
/// (lab 3B): a replica restored from a snapshot must still recognise
/// duplicates of writes made before it. Keep snapshots small: the 3B tests
/// want one key's snapshot under 500 bytes.
#[derive(Debug, Default)]
pub struct ClassicKv {
    // Your state here: the map, and the duplicate table.
}

impl ClassicKv {
    /// An empty store.
    pub fn new() -> ClassicKv {
        ClassicKv::default()
    }
}

impl StateMachine for ClassicKv {
    type Op = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: KvOp) -> KvOutput {
        let _ = op;
        panic!("ClassicKv::apply is not implemented yet (lab 3A)")
    }

    fn snapshot(&self) -> Vec<u8> {
        panic!("ClassicKv::snapshot is not implemented yet (lab 3B)")
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        let _ = snapshot;
        panic!("ClassicKv::restore is not implemented yet (lab 3B)")
    }
}
