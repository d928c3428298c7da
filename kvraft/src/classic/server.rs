//! One replica of the classic service: RPC handlers over [`rsm::Rsm`].

use std::sync::Arc;

use labrpc::{ClientEnd, Persister, Service};
use rsm::{Rsm, SubmitError};

use super::rpc::{
    GET, GetArgs, GetReply, PUT_APPEND, PutAppendArgs, PutAppendReply, SERVICE, Status, WriteKind,
};
use super::state_machine::{ClassicKv, KvOp, KvOutput};

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The replicated state machine (or its Raft peer) could not start, e.g.
    /// because the persisted Raft state or snapshot does not decode.
    #[error("classic KV server {me} could not start: {source}")]
    Rsm {
        /// The server's index in its group.
        me: usize,
        /// What rsm reported.
        #[source]
        source: rsm::RsmError,
    },
}

/// One replica of the classic Put/Append/Get service.
pub struct ClassicServer {
    me: usize,
    rsm: Arc<Rsm<ClassicKv>>,
}

impl ClassicServer {
    /// Starts replica `me` of the group reached through `servers` (an end to
    /// every replica, itself included), restoring from `persister`.
    /// `maxraftstate`: snapshot when the persisted Raft state nears this many
    /// bytes; `None` never snapshots.
    pub fn start(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
    ) -> Result<Arc<ClassicServer>, StartError> {
        let rsm = Rsm::new(servers, me, persister, maxraftstate, ClassicKv::new())
            .map_err(|source| StartError::Rsm { me, source })?;
        Ok(Arc::new(ClassicServer { me, rsm }))
    }

    /// This replica's index in its group.
    pub fn me(&self) -> usize {
        self.me
    }

    /// The replica's (term, is_leader), as its Raft peer sees them now.
    pub fn raft_state(&self) -> (u64, bool) {
        self.rsm.raft().get_state()
    }

    /// The replicated state machine (for inspection in tests and tools).
    pub fn rsm(&self) -> &Rsm<ClassicKv> {
        &self.rsm
    }

    /// Handles `KVServer.Get`: the read goes through the log, so only a
    /// leader that still leads when it commits answers it.
    pub fn get(&self, args: GetArgs) -> GetReply {
        handle_get(&self.rsm, self.me, args)
    }

    /// Handles `KVServer.PutAppend`.
    pub fn put_append(&self, args: PutAppendArgs) -> PutAppendReply {
        handle_put_append(&self.rsm, self.me, args)
    }

    /// Stops the replica: pending requests answer [`Status::WrongLeader`] and
    /// Raft falls silent.
    pub fn kill(&self) {
        self.rsm.kill();
    }

    /// The labrpc services to register for this replica: `KVServer` and Raft's.
    pub fn services(&self) -> Vec<Service> {
        let get_rsm = Arc::clone(&self.rsm);
        let put_rsm = Arc::clone(&self.rsm);
        let me = self.me;
        let kv = Service::new(SERVICE)
            .handler(method_name(GET), move |args: GetArgs| {
                handle_get(&get_rsm, me, args)
            })
            .handler(method_name(PUT_APPEND), move |args: PutAppendArgs| {
                handle_put_append(&put_rsm, me, args)
            });
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
        ClassicServer::kill(self)
    }
}

/// "KVServer.Get" -> "Get": `Service::handler` takes the bare method name.
fn method_name(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

fn handle_get(rsm: &Rsm<ClassicKv>, me: usize, args: GetArgs) -> GetReply {
    let outcome = rsm.submit(KvOp::Get { key: args.key });
    if log::log_enabled!(target: "kvraft::server", log::Level::Debug) {
        let term = rsm.raft().get_state().0;
        log::debug!(target: "kvraft::server", "S{me} T{term} Get -> {outcome:?}");
    }
    match outcome {
        Ok(KvOutput::Value(Some(value))) => GetReply {
            status: Status::Ok,
            value,
        },
        Ok(KvOutput::Value(None)) => GetReply {
            status: Status::NoKey,
            value: String::new(),
        },
        Ok(KvOutput::Written) => unreachable!("ClassicKv answered a Get with Written"),
        Err(SubmitError::WrongLeader) => GetReply {
            status: Status::WrongLeader,
            value: String::new(),
        },
    }
}

fn handle_put_append(rsm: &Rsm<ClassicKv>, me: usize, args: PutAppendArgs) -> PutAppendReply {
    let PutAppendArgs {
        key,
        value,
        kind,
        client_id: client,
        seq,
    } = args;
    let op = match kind {
        WriteKind::Put => KvOp::Put {
            key,
            value,
            client,
            seq,
        },
        WriteKind::Append => KvOp::Append {
            key,
            value,
            client,
            seq,
        },
    };
    let described =
        log::log_enabled!(target: "kvraft::server", log::Level::Debug).then(|| format!("{op:?}"));
    let status = match rsm.submit(op) {
        Ok(KvOutput::Written) => Status::Ok,
        Ok(KvOutput::Value(_)) => unreachable!("ClassicKv answered a write with a value"),
        Err(SubmitError::WrongLeader) => Status::WrongLeader,
    };
    if let Some(described) = described {
        let term = rsm.raft().get_state().0;
        log::debug!(target: "kvraft::server", "S{me} T{term} {described} -> {status:?}");
    }
    PutAppendReply { status }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(network: &labrpc::Network) -> Vec<ClientEnd> {
        vec![network.make_end("classic-start-test")]
    }

    /// A snapshot that does not decode stops the start with an error naming
    /// the server and the snapshot, instead of a panic.
    #[test]
    fn corrupt_snapshot_fails_start() {
        let network = labrpc::Network::new();
        let persister = Persister::new();
        persister.save(
            Vec::new(),
            Some(std::sync::Arc::from(&[0xff_u8, 0xff, 0xff][..])),
        );
        let error = ClassicServer::start(ends(&network), 0, persister, Some(1000))
            .err()
            .expect("a corrupt snapshot must not start");
        let text = error.to_string();
        assert!(text.contains("classic KV server 0"), "{text}");
        assert!(text.contains("snapshot"), "{text}");
        network.cleanup();
    }

    /// Raft state that does not decode stops the start with an error.
    #[test]
    fn corrupt_raft_state_fails_start() {
        let network = labrpc::Network::new();
        let persister = Persister::new();
        persister.save(vec![0xff; 7], None);
        let error = ClassicServer::start(ends(&network), 0, persister, None)
            .err()
            .expect("corrupt raft state must not start");
        assert!(matches!(error, StartError::Rsm { me: 0, .. }), "{error}");
        network.cleanup();
    }
}
