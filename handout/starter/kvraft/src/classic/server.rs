//! One replica of the classic service (lab 3A; snapshots in lab 3B): the
//! `KVServer` RPC handlers over [`rsm::Rsm`], which replicates a
//! [`ClassicKv`].
//!
//! This file is yours, like `clerk.rs` and `state_machine.rs` next to it;
//! modules of your own go under `src/classic/server/` (declare them here).
//! Keep the public API of [`ClassicServer`] and [`StartError`]: the tests and
//! kvsim use them.

use std::sync::{Arc, Weak};

use labrpc::{ClientEnd, Persister, Service};
use rsm::{Rsm, RsmError};

use super::rpc::{
    GET, GetArgs, GetReply, PUT_APPEND, PutAppendArgs, PutAppendReply, SERVICE, Status,
};
use super::state_machine::ClassicKv;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The replicated state machine could not start, e.g. because the
    /// persisted Raft state or snapshot does not decode.
    #[error("classic KV server {me} did not start: {source}")]
    Replication {
        /// The server's index in its group.
        me: usize,
        /// What [`Rsm::new`] reported.
        source: RsmError,
    },
}

/// One replica of the classic Put/Append/Get service. Its RPC services are
/// `KVServer` (methods `Get` and `PutAppend`) and Raft's.
pub struct ClassicServer {
    /// The replicated state machine: every request goes through its log.
    rsm: Arc<Rsm<ClassicKv>>,
    /// This server itself, so the RPC handlers can call its methods.
    this: Weak<ClassicServer>,
}

impl ClassicServer {
    /// Starts replica `me` of the group reached through `servers` (an end to
    /// every replica, itself included), restoring from `persister`.
    /// `maxraftstate`: snapshot when the persisted Raft state grows past this
    /// many bytes (`None`: never). Returns at once.
    ///
    /// # Errors
    /// [`StartError::Replication`] when [`Rsm::new`] fails: the persisted
    /// Raft state or snapshot does not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> Result<Arc<ClassicServer>, StartError> {
        // For instance: an Rsm over ClassicKv::new() (its error becomes
        // StartError::Replication), then the server, built with
        // Arc::new_cyclic so that `this` points at it (see KvServer::start).
        let _ = (servers, me, persister, maxraftstate);
        panic!("ClassicServer::start is not implemented yet (lab 3A)")
    }

    /// This replica's (term, is_leader), as its Raft peer sees them now.
    pub fn raft_state(&self) -> (u64, bool) {
        self.rsm.raft().get_state()
    }

    /// Handles `KVServer.Get`.
    ///
    /// Contract: submits the read through the [`Rsm`] (so a leader cut off
    /// in a minority never answers) and replies status `Ok` with the value,
    /// or `NoKey` with "". Replies `WrongLeader` when the submit fails (this
    /// replica is not the leader, lost leadership, or was killed).
    pub fn get(&self, args: GetArgs) -> GetReply {
        let _ = args;
        panic!("ClassicServer::get is not implemented yet (lab 3A)")
    }

    /// Handles `KVServer.PutAppend`.
    ///
    /// Contract: submits the write through the [`Rsm`] and replies `Ok` once
    /// it is applied, now or earlier (a duplicate of an applied write is not
    /// applied again, see [`ClassicKv`]). Replies `WrongLeader` when the
    /// submit fails.
    pub fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        let _ = args;
        panic!("ClassicServer::put_append is not implemented yet (lab 3A)")
    }

    /// Stops the replica: requests waiting in it and later ones reply
    /// `WrongLeader` (through [`Rsm::kill`]), and its Raft stops.
    pub fn kill(&self) {
        self.rsm.kill();
    }

    /// The RPC services to register on the network: `KVServer`, whose
    /// handlers call [`ClassicServer::get`] and [`ClassicServer::put_append`],
    /// then Raft's.
    pub fn services(&self) -> Vec<Service> {
        let (for_get, for_write) = (self.this.clone(), self.this.clone());
        let kv = Service::new(SERVICE)
            .handler(method(GET), move |args: GetArgs| match for_get.upgrade() {
                Some(server) => server.get(args),
                None => GetReply {
                    status: Status::WrongLeader,
                    value: String::new(),
                },
            })
            .handler(
                method(PUT_APPEND),
                move |args: PutAppendArgs| match for_write.upgrade() {
                    Some(server) => server.put_append(args),
                    None => PutAppendReply {
                        status: Status::WrongLeader,
                    },
                },
            );
        let mut services = vec![kv];
        services.extend(self.rsm.services());
        services
    }
}

impl tester::TestServer for ClassicServer {
    fn services(&self) -> Vec<Service> {
        ClassicServer::services(self)
    }

    fn kill(&self) {
        ClassicServer::kill(self);
    }
}

/// "KVServer.Get" -> "Get": a [`Service`] registers its methods' bare names.
fn method(full_name: &str) -> &str {
    full_name
        .split_once('.')
        .map_or(full_name, |(_, method)| method)
}
