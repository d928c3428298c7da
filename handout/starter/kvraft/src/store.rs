//! The state machine every KV replica applies (lab 4B; snapshots in lab 4C):
//! each key's value and version.
//!
//! This file is yours, like `server.rs` and `client.rs`; modules of your own
//! go under `src/store/` (declare them here). Keep [`KvStore`], [`KvOp`] and
//! [`KvOutput`]: `lib.rs`, which is given, exports them.

use rsm::StateMachine;
use serde::{Deserialize, Serialize};

use crate::rpc::{GetArgs, GetReply, PutArgs, PutReply};

/// One request as it travels through the Raft log: the RPC's arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// A `KVServer.Get`.
    Get(GetArgs),
    /// A `KVServer.Put`.
    Put(PutArgs),
}

/// What applying a [`KvOp`] returns to the server that submitted it: the
/// RPC's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOutput {
    /// The reply to a [`KvOp::Get`].
    Get(GetReply),
    /// The reply to a [`KvOp::Put`].
    Put(PutReply),
}

/// The replicated key/value map: for each key, its value and its version.
///
/// Contract of [`StateMachine::apply`] (the same on every replica, so it
/// depends only on the state and the operation):
/// - `Get(key)`: `Ok((value, version))`, or `Err(KvError::NoKey)` for a key
///   that does not exist.
/// - `Put(key, value, version)`: if the key exists and `version` is its
///   current version, stores `value`, adds one to the version and answers
///   `Ok(())`. If the key exists at another version: `Err(KvError::Version)`,
///   nothing changes. If the key does not exist: `version == 0` creates it
///   with `value` at version 1 (`Ok(())`); `version > 0` answers
///   `Err(KvError::NoKey)`.
/// - It never answers `WrongLeader`: that is the server's answer when
///   [`rsm::Rsm::submit`] fails.
///
/// [`StateMachine::snapshot`] encodes the whole map (with labgob) and
/// [`StateMachine::restore`] replaces the map with a decoded one (lab 4C).
/// Keep snapshots small: the 4C tests want one key's snapshot under 500 bytes.
#[derive(Debug, Default)]
pub struct KvStore {
    // Your state here: each key's value and version.
}

impl KvStore {
    /// An empty store.
    pub fn new() -> KvStore {
        KvStore::default()
    }
}

impl StateMachine for KvStore {
    type Op = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: KvOp) -> KvOutput {
        let _ = op;
        panic!("KvStore::apply is not implemented yet (lab 4B)")
    }

    fn snapshot(&self) -> Vec<u8> {
        panic!("KvStore::snapshot is not implemented yet (lab 4C)")
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        let _ = snapshot;
        panic!("KvStore::restore is not implemented yet (lab 4C)")
    }
}
