//! The Clerk: finds the leader, remembers it, retries until a definite answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Transport;
use crate::rpc::{GET, GetArgs, KvError, PUT, PutArgs, Version};

/// Pause after asking every server once without finding a leader: an election
/// is under way, and asking again at once would only burn RPCs.
const NO_LEADER_PAUSE: Duration = Duration::from_millis(10);

/// A client of the 2025 KV service.
pub struct Clerk<T> {
    transport: T,
    servers: Vec<String>,
    /// Index into `servers` of the server that answered last.
    leader: AtomicUsize,
}

impl<T: Transport> Clerk<T> {
    /// A Clerk for the servers named `servers` (in index order), reached
    /// through `transport`.
    pub fn new(transport: T, servers: Vec<String>) -> Clerk<T> {
        assert!(!servers.is_empty(), "a Clerk needs at least one server");
        Clerk {
            transport,
            servers,
            leader: AtomicUsize::new(0),
        }
    }

    /// The value and version of `key`, or `Err(KvError::NoKey)`. Retries until
    /// a leader answers.
    pub fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        let args = GetArgs {
            key: key.to_string(),
        };
        self.call_leader::<_, (String, Version)>(GET, &args).1
    }

    /// Writes `value` to `key` if the key is at `version` (0: must not exist).
    ///
    /// - `Ok(())`: the Put happened.
    /// - `Err(Version)`: it did not (the first attempt was refused).
    /// - `Err(Maybe)`: a resend was refused; an earlier attempt may have happened.
    /// - `Err(NoKey)`: `version > 0` and the key does not exist.
    pub fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let args = PutArgs {
            key: key.to_string(),
            value: value.to_string(),
            version,
        };
        match self.call_leader::<_, ()>(PUT, &args) {
            (true, Err(KvError::Version)) => Err(KvError::Maybe),
            (_, reply) => reply,
        }
    }

    /// The transport this Clerk calls through.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The server names this Clerk knows, in index order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// Sends `args` to the remembered leader, then to each server in turn,
    /// until one answers with something other than `ErrWrongLeader`. Returns
    /// that answer, and whether an earlier attempt was lost or refused as wrong
    /// leader (so the request may have been started before).
    fn call_leader<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        args: &A,
    ) -> (bool, Result<R, KvError>) {
        let mut resent = false;
        let mut leader = self.leader.load(Ordering::Relaxed);
        let mut tried = 0;
        loop {
            let reply: Result<Result<R, KvError>, _> =
                self.transport.call(&self.servers[leader], method, args);
            match reply {
                Ok(Err(KvError::WrongLeader)) | Err(_) => {
                    resent = true;
                    leader = (leader + 1) % self.servers.len();
                    tried += 1;
                    if tried % self.servers.len() == 0 {
                        labrt::thread::sleep(NO_LEADER_PAUSE);
                    }
                }
                Ok(answer) => {
                    self.leader.store(leader, Ordering::Relaxed);
                    return (resent, answer);
                }
            }
        }
    }
}
