//! The classic Clerk (lab 3A): Put, Append and Get, every write executed
//! exactly once.
//!
//! This file is yours, like `server.rs` and `state_machine.rs` next to it;
//! modules of your own go under `src/classic/clerk/` (declare them here).
//! Keep the public API of [`Clerk`] and [`ClerkError`]: the tests and kvsim
//! use them.

use crate::Transport;

/// Why a Clerk call gave up. A Clerk retries every server failure for ever;
/// it stops only when retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClerkError {
    /// [`Clerk::new`] was given no server names.
    #[error("no servers were given to the Clerk")]
    NoServers,
    /// A call failed with [`labrpc::CallError::NetworkClosed`]: the network
    /// was cleaned up (the test or the run is over).
    #[error("the network is closed")]
    NetworkGone,
}

/// A client of the classic service, reaching servers through `T` (the
/// tests' `tester::Clnt`).
///
/// Every call is retried until a server executes it: the server the Clerk
/// believes leads first, then the others in turn. RPCs: `KVServer.Get` with
/// [`GetArgs`](super::GetArgs) (reply [`GetReply`](super::GetReply)) and
/// `KVServer.PutAppend` with [`PutAppendArgs`](super::PutAppendArgs) (reply
/// [`PutAppendReply`](super::PutAppendReply)). Each write carries this Clerk's
/// id (a random [`ClientId`](super::ClientId)) and a sequence number that
/// re-sends keep, so the servers apply it once. The tests make one call at a
/// time per Clerk, but the methods take `&self`: keep what they change in
/// atomics or behind a lock.
pub struct Clerk<T> {
    transport: T,
    /// The servers' names, in the Clerk's own order.
    servers: Vec<String>,
}

impl<T: Transport> Clerk<T> {
    /// A Clerk that reaches the servers named `servers` (in any order)
    /// through `transport`.
    ///
    /// # Errors
    /// [`ClerkError::NoServers`] when `servers` is empty.
    pub fn new(transport: T, servers: Vec<String>) -> Result<Clerk<T>, ClerkError> {
        if servers.is_empty() {
            return Err(ClerkError::NoServers);
        }
        Ok(Clerk { transport, servers })
    }

    /// The value under `key`, "" if it has none. Retries until a server
    /// answers `Ok` or `NoKey`.
    ///
    /// # Errors
    /// [`ClerkError::NetworkGone`] once the network is closed.
    pub fn get(&self, key: &str) -> Result<String, ClerkError> {
        let _ = key;
        panic!("classic::Clerk::get is not implemented yet (lab 3A)")
    }

    /// Replaces the value under `key` with `value`, exactly once. Retries
    /// until a server answers `Ok`.
    ///
    /// # Errors
    /// [`ClerkError::NetworkGone`] once the network is closed.
    pub fn put(&self, key: &str, value: &str) -> Result<(), ClerkError> {
        let _ = (key, value);
        panic!("classic::Clerk::put is not implemented yet (lab 3A)")
    }

    /// Appends `value` to the value under `key` (like `put` on a missing
    /// key), exactly once. Retries until a server answers `Ok`.
    ///
    /// # Errors
    /// [`ClerkError::NetworkGone`] once the network is closed.
    pub fn append(&self, key: &str, value: &str) -> Result<(), ClerkError> {
        let _ = (key, value);
        panic!("classic::Clerk::append is not implemented yet (lab 3A)")
    }

    /// The transport this Clerk calls through (the tests connect and
    /// disconnect it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The server names this Clerk knows, in its own order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }
}
