//! The classic Clerk: finds the leader, remembers it, retries until served.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Transport;

use super::rpc::ClientId;
use super::rpc::{
    GET, GetArgs, GetReply, PUT_APPEND, PutAppendArgs, PutAppendReply, Status, WriteKind,
};

/// Pause after a full round of servers refused or failed, doubling up to
/// [`MAX_ROUND_PAUSE`]: while no leader exists (an election, a partition) every
/// server answers at once, and retrying without a pause would spin.
const FIRST_ROUND_PAUSE: Duration = Duration::from_millis(1);
/// Longest pause between two rounds of retries.
const MAX_ROUND_PAUSE: Duration = Duration::from_millis(64);

/// Why a Clerk call gave up. A Clerk retries every server failure forever, as
/// the classic contract demands; it stops only when retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClerkError {
    /// [`Clerk::new`] was given no server names.
    #[error("a Clerk needs at least one server")]
    NoServers,
    /// The simulated network was cleaned up (the test is over).
    #[error("the network was shut down")]
    NetworkGone,
}

/// A client of the classic service, reaching servers through `T` (the tests'
/// `tester::Clnt`). It assumes one call at a time (the classic contract);
/// concurrent calls are safe but share the remembered leader.
pub struct Clerk<T> {
    transport: T,
    servers: Vec<String>,
    client_id: ClientId,
    last_seq: AtomicU64,
    leader: AtomicUsize,
}

impl<T: Transport> Clerk<T> {
    /// A Clerk that reaches the servers named `servers` (in any order)
    /// through `transport`, with a fresh random id.
    pub fn new(transport: T, servers: Vec<String>) -> Result<Clerk<T>, ClerkError> {
        if servers.is_empty() {
            return Err(ClerkError::NoServers);
        }
        Ok(Clerk {
            transport,
            servers,
            client_id: ClientId(labrt::rand::random_u64() >> 2),
            last_seq: AtomicU64::new(0),
            leader: AtomicUsize::new(0),
        })
    }

    /// This Clerk's id in the servers' duplicate tables.
    pub fn id(&self) -> ClientId {
        self.client_id
    }

    /// The transport this Clerk calls through (tests connect and disconnect it).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The server names this Clerk knows, in its own order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The value under `key`, "" if it has none.
    pub fn get(&self, key: &str) -> Result<String, ClerkError> {
        let args = GetArgs {
            key: key.to_owned(),
        };
        let reply: GetReply = self.call_until_served(GET, &args, |r: &GetReply| {
            matches!(r.status, Status::Ok | Status::NoKey)
        })?;
        Ok(reply.value)
    }

    /// Replaces the value under `key`, exactly once.
    pub fn put(&self, key: &str, value: &str) -> Result<(), ClerkError> {
        self.write(key, value, WriteKind::Put)
    }

    /// Appends `value` to the value under `key`, exactly once.
    pub fn append(&self, key: &str, value: &str) -> Result<(), ClerkError> {
        self.write(key, value, WriteKind::Append)
    }

    fn write(&self, key: &str, value: &str, kind: WriteKind) -> Result<(), ClerkError> {
        let args = PutAppendArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            kind,
            client_id: self.client_id,
            seq: self.last_seq.fetch_add(1, Ordering::Relaxed) + 1,
        };
        self.call_until_served(PUT_APPEND, &args, |r: &PutAppendReply| {
            r.status == Status::Ok
        })?;
        Ok(())
    }

    /// Calls `method` on the remembered leader, then on each other server in
    /// turn, until a reply passes `served`.
    fn call_until_served<A, R>(
        &self,
        method: &str,
        args: &A,
        served: impl Fn(&R) -> bool,
    ) -> Result<R, ClerkError>
    where
        A: Serialize,
        R: DeserializeOwned + std::fmt::Debug,
    {
        let n = self.servers.len();
        let mut pause = FIRST_ROUND_PAUSE;
        let mut tried_this_round = 0;
        loop {
            let server = self.leader.load(Ordering::Relaxed) % n;
            match self
                .transport
                .call::<A, R>(&self.servers[server], method, args)
            {
                Ok(reply) if served(&reply) => {
                    self.leader.store(server, Ordering::Relaxed);
                    return Ok(reply);
                }
                Ok(reply) => log::trace!(target: "kvraft::client",
                    "S{server} T0 {} {method} refused: {reply:?}", self.client_id),
                Err(error) if network_gone(&error) => return Err(ClerkError::NetworkGone),
                Err(error) => log::trace!(target: "kvraft::client",
                    "S{server} T0 {} {method} failed: {error}", self.client_id),
            }
            self.leader.store((server + 1) % n, Ordering::Relaxed);
            tried_this_round += 1;
            if tried_this_round == n {
                tried_this_round = 0;
                labrt::thread::sleep(pause);
                pause = (pause * 2).min(MAX_ROUND_PAUSE);
            }
        }
    }
}

fn network_gone(error: &labrpc::CallError) -> bool {
    matches!(error, labrpc::CallError::NetworkClosed)
}
