//! One KV replica: the `KVServer` RPC service on top of rsm.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::{ClientEnd, Persister, Service};
use rsm::{Rsm, RsmError};

use crate::rpc::{GetArgs, GetReply, KvError, PutArgs, PutReply};
use crate::store::{KvOp, KvOutput, KvStore};

/// A replica of the 2025 KV service. Its RPC services are `KVServer` (methods
/// `Get` and `Put`) and `Raft`.
pub struct KvServer {
    rsm: Arc<Rsm<KvStore>>,
    dead: Arc<AtomicBool>,
}

impl KvServer {
    /// Starts replica `me` of the group `servers`, restoring from `persister`.
    /// `maxraftstate`: snapshot when the persisted Raft state reaches this many
    /// bytes (`None`: never). Returns at once.
    ///
    /// Errors: the persisted snapshot or Raft state does not decode.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> Result<Arc<KvServer>, RsmError> {
        let rsm = Rsm::new(servers, me, persister, maxraftstate, KvStore::new())?;
        Ok(Arc::new(KvServer {
            rsm,
            dead: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// Handles `KVServer.Get`.
    pub fn get(&self, args: GetArgs) -> GetReply {
        get(&self.rsm, &self.dead, args)
    }

    /// Handles `KVServer.Put`.
    pub fn put(&self, args: PutArgs) -> PutReply {
        put(&self.rsm, &self.dead, args)
    }

    /// The replicated state machine under this server.
    pub fn rsm(&self) -> &Rsm<KvStore> {
        &self.rsm
    }

    /// The RPC services to register: `KVServer`, then `Raft`.
    pub fn services(&self) -> Vec<Service> {
        let (rsm_get, dead_get) = (Arc::clone(&self.rsm), Arc::clone(&self.dead));
        let (rsm_put, dead_put) = (Arc::clone(&self.rsm), Arc::clone(&self.dead));
        let kv = Service::new("KVServer")
            .handler("Get", move |args: GetArgs| get(&rsm_get, &dead_get, args))
            .handler("Put", move |args: PutArgs| put(&rsm_put, &dead_put, args));
        let mut services = vec![kv];
        services.extend(self.rsm.services());
        services
    }

    /// Stops the server: pending and later requests get `ErrWrongLeader`.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        self.rsm.kill();
    }

    /// True once [`KvServer::kill`] ran.
    pub fn killed(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }
}

fn get(rsm: &Rsm<KvStore>, dead: &AtomicBool, args: GetArgs) -> GetReply {
    if dead.load(Ordering::SeqCst) {
        return Err(KvError::WrongLeader);
    }
    match rsm.submit(KvOp::Get(args)) {
        Ok(KvOutput::Get(reply)) => reply,
        Ok(other) => unreachable!("a Get applied as {other:?}"),
        Err(_) => Err(KvError::WrongLeader),
    }
}

fn put(rsm: &Rsm<KvStore>, dead: &AtomicBool, args: PutArgs) -> PutReply {
    if dead.load(Ordering::SeqCst) {
        return Err(KvError::WrongLeader);
    }
    match rsm.submit(KvOp::Put(args)) {
        Ok(KvOutput::Put(reply)) => reply,
        Ok(other) => unreachable!("a Put applied as {other:?}"),
        Err(_) => Err(KvError::WrongLeader),
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
