//! One replica of the 2025 KV service (lab 4B): the `KVServer` RPC service
//! on top of [`rsm::Rsm`], which replicates a [`KvStore`].
//!
//! This file is yours, like `client.rs` and `store.rs`; modules of your own
//! go under `src/server/` (declare them here). Keep the public API of
//! [`KvServer`]: the tests and the KV test library call it.

use std::sync::{Arc, Weak};

use labrpc::{ClientEnd, Persister, Service};
use rsm::{Rsm, RsmError};

use crate::rpc::{GetArgs, GetReply, KvError, PutArgs, PutReply};
use crate::store::KvStore;

/// A replica of the 2025 KV service. Its RPC services are `KVServer`
/// (methods `Get` and `Put`, see [`crate::rpc`]) and Raft's.
pub struct KvServer {
    /// The replicated state machine: every request goes through its log.
    rsm: Arc<Rsm<KvStore>>,
    /// This server itself, so the RPC handlers can call its methods.
    this: Weak<KvServer>,
}

impl KvServer {
    /// Starts replica `me` of the group reached through `servers`
    /// (`servers[me]` is this replica), restoring from `persister`.
    /// `maxraftstate`: snapshot when the persisted Raft state grows past this
    /// many bytes (`None`: never). Returns at once.
    ///
    /// # Errors
    /// What [`Rsm::new`] reports: the persisted Raft state or snapshot does
    /// not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> Result<Arc<KvServer>, RsmError> {
        let rsm = Rsm::new(servers, me, persister, maxraftstate, KvStore::new())?;
        Ok(Arc::new_cyclic(|this| KvServer {
            rsm,
            this: this.clone(),
        }))
    }

    /// Handles `KVServer.Get`.
    ///
    /// Contract: submits the read through the [`Rsm`] (so a leader cut off
    /// in a minority never answers from stale state) and returns what the
    /// [`KvStore`] answered: `Ok((value, version))` or `Err(KvError::NoKey)`.
    /// Returns `Err(KvError::WrongLeader)` when the submit fails (this replica
    /// is not the leader, lost leadership, or was killed): the Clerk then
    /// tries another server.
    pub fn get(&self, args: GetArgs) -> GetReply {
        let _ = args;
        panic!("KvServer::get is not implemented yet (lab 4B)")
    }

    /// Handles `KVServer.Put`.
    ///
    /// Contract: submits the write through the [`Rsm`] and returns what the
    /// [`KvStore`] answered: `Ok(())` when the key was at `args.version` (it
    /// now holds `args.value` at the next version; version 0 creates a
    /// missing key), `Err(KvError::Version)` when the key exists at another
    /// version (nothing changed), `Err(KvError::NoKey)` when `args.version >
    /// 0` and the key does not exist. `Err(KvError::WrongLeader)` as for
    /// [`KvServer::get`]. The server remembers nothing about earlier attempts:
    /// a re-sent Put that already happened gets `Err(KvError::Version)`.
    pub fn put(&self, args: PutArgs) -> PutReply {
        let _ = args;
        panic!("KvServer::put is not implemented yet (lab 4B)")
    }

    /// The replicated state machine under this server (the tests ask its
    /// Raft who leads).
    pub fn rsm(&self) -> &Rsm<KvStore> {
        &self.rsm
    }

    /// The RPC services to register on the network: `KVServer`, whose
    /// handlers call [`KvServer::get`] and [`KvServer::put`], then Raft's.
    pub fn services(&self) -> Vec<Service> {
        let (for_get, for_put) = (self.this.clone(), self.this.clone());
        let kv = Service::new("KVServer")
            .handler("Get", move |args: GetArgs| match for_get.upgrade() {
                Some(server) => server.get(args),
                None => Err(KvError::WrongLeader),
            })
            .handler("Put", move |args: PutArgs| match for_put.upgrade() {
                Some(server) => server.put(args),
                None => Err(KvError::WrongLeader),
            });
        let mut services = vec![kv];
        services.extend(self.rsm.services());
        services
    }

    /// Stops the server: requests waiting in it and later ones answer
    /// `ErrWrongLeader` (through [`Rsm::kill`]), and its Raft stops.
    pub fn kill(&self) {
        self.rsm.kill();
    }
}

impl tester::TestServer for KvServer {
    fn services(&self) -> Vec<Service> {
        KvServer::services(self)
    }

    fn kill(&self) {
        KvServer::kill(self);
    }
}
