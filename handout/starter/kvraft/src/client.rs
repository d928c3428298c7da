//! The Clerk of the 2025 KV service (lab 4B).
//!
//! This file is yours, like `server.rs` and `store.rs`; modules of your own
//! go under `src/client/` (declare them here). Keep the public API: the KV
//! test library calls [`Clerk::new`], [`Clerk::get`], [`Clerk::put`] and
//! [`Clerk::transport`]. The [`Transport`] a Clerk calls servers through is
//! given (`transport.rs`).

use crate::Transport;
use crate::rpc::{KvError, Version};

/// A client of the 2025 KV service.
///
/// Its methods take `&self` and the tests share a Clerk between threads:
/// keep whatever it must change (the server it believes leads, say) in an
/// atomic or behind a lock.
pub struct Clerk<T> {
    transport: T,
    /// The servers' names, in index order.
    servers: Vec<String>,
}

impl<T: Transport> Clerk<T> {
    /// A Clerk for the servers named `servers` (in index order), reached
    /// through `transport`.
    pub fn new(transport: T, servers: Vec<String>) -> Clerk<T> {
        Clerk { transport, servers }
    }

    /// The value and version of `key`, or `Err(KvError::NoKey)`.
    ///
    /// Contract: calls [`crate::rpc::GET`] with a [`crate::rpc::GetArgs`]
    /// (reply type [`crate::rpc::GetReply`]) on one server after another,
    /// starting with the one that answered last, and keeps trying (for ever)
    /// while calls fail or servers answer `ErrWrongLeader`. Returns the first
    /// other answer; never `WrongLeader`.
    pub fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let _ = key;
        panic!("Clerk::get is not implemented yet (lab 4B)")
    }

    /// Writes `value` to `key` if the key is at `version` (0: the key must
    /// not exist yet).
    ///
    /// Contract: calls [`crate::rpc::PUT`] with a [`crate::rpc::PutArgs`]
    /// (reply type [`crate::rpc::PutReply`]), retrying like [`Clerk::get`].
    /// - `Ok(())`: the Put happened.
    /// - `Err(KvError::Version)`: the first attempt was refused: the Put did
    ///   not happen.
    /// - `Err(KvError::Maybe)`: a re-sent attempt was refused with
    ///   `ErrVersion`. An earlier attempt (whose reply was lost, or that was
    ///   answered `ErrWrongLeader` yet may still have committed) may have
    ///   happened.
    /// - `Err(KvError::NoKey)`: `version > 0` and the key does not exist.
    pub fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let _ = (key, value, version);
        panic!("Clerk::put is not implemented yet (lab 4B)")
    }

    /// The transport this Clerk calls through (the tests connect and
    /// disconnect it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The server names this Clerk knows, in index order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }
}
