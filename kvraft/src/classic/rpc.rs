//! The classic RPC vocabulary shared by [`Clerk`](super::Clerk) and
//! [`ClassicServer`](super::ClassicServer): service `KVServer`, methods `Get`
//! and `PutAppend`.

use serde::{Deserialize, Serialize};

/// A Clerk's identity: a random 62-bit number chosen when the Clerk is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientId(pub u64);

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "C{:x}", self.0)
    }
}

/// The labrpc service name of a classic KV server.
pub(crate) const SERVICE: &str = "KVServer";
/// Full method name of the read RPC.
pub(crate) const GET: &str = "KVServer.Get";
/// Full method name of the write RPC.
pub(crate) const PUT_APPEND: &str = "KVServer.PutAppend";

/// How a request ended at the server (Go's `OK`, `ErrNoKey`, `ErrWrongLeader`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// The operation was executed (Go's `OK`).
    Ok,
    /// A `Get` found no value under the key (Go's `ErrNoKey`); the value is "".
    NoKey,
    /// This server is not the leader, lost leadership before the operation
    /// committed, or was shut down (Go's `ErrWrongLeader`): try another server.
    WrongLeader,
}

/// Which write a [`PutAppendArgs`] asks for (Go's `Op` field, "Put" or "Append").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteKind {
    /// Replace the key's value.
    Put,
    /// Concatenate to the key's value (like `Put` on a missing key).
    Append,
}

/// Arguments of `KVServer.PutAppend`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendArgs {
    /// The key to write.
    pub key: String,
    /// The value to store or append.
    pub value: String,
    /// Put or Append.
    pub kind: WriteKind,
    /// The sending Clerk.
    pub client_id: ClientId,
    /// The Clerk's sequence number for this write; re-sends keep it.
    pub seq: u64,
}

/// Reply of `KVServer.PutAppend`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAppendReply {
    /// [`Status::Ok`] once the write has been applied (now or earlier).
    pub status: Status,
}

/// Arguments of `KVServer.Get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// Reply of `KVServer.Get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    /// [`Status::Ok`] or [`Status::NoKey`] when the read was served.
    pub status: Status,
    /// The value read ("" when the key is missing or the read was not served).
    pub value: String,
}
