//! The cluster: classic KV servers in a tester group on a simulated network,
//! and the ends through which clients reach them.

use std::collections::HashMap;
use std::sync::Arc;

use kvraft::Transport;
use kvraft::classic::{ClassicServer, Clerk};
use labrpc::{CallError, ClientEnd, Network};
use labrt::sync::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tester::{Group, MakeServer, TestServer};

/// One slot's server instance as the tester sees it. A server that could not
/// start (its persisted state did not decode) answers nothing, and the
/// cluster remembers why so the run can stop with that message.
pub enum SimServer {
    /// A running classic KV server.
    Running(Arc<ClassicServer>),
    /// Start-up failed; the run reports it.
    Failed,
}

impl TestServer for SimServer {
    fn services(&self) -> Vec<labrpc::Service> {
        match self {
            SimServer::Running(server) => server.services(),
            SimServer::Failed => Vec::new(),
        }
    }

    fn kill(&self) {
        if let SimServer::Running(server) = self {
            server.kill();
        }
    }
}

/// Which server leads, as the servers themselves report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leader {
    /// The leader's index.
    pub server: usize,
    /// Its term.
    pub term: u64,
}

/// The network and the group of servers.
pub struct Cluster {
    net: Network,
    group: Arc<Group<SimServer>>,
    start_failure: Arc<Mutex<Option<String>>>,
}

impl Cluster {
    /// Starts `n` classic KV servers (snapshotting at `maxraftstate` bytes of
    /// Raft state, never if `None`) on a new reliable network, all connected.
    pub fn start(n: usize, maxraftstate: Option<usize>) -> Cluster {
        let net = Network::new();
        let start_failure = Arc::new(Mutex::new(None));
        let failure = Arc::clone(&start_failure);
        let make: MakeServer<SimServer> = Arc::new(move |ends, _gid, me, persister| {
            match ClassicServer::start(ends, me, persister, maxraftstate) {
                Ok(server) => Arc::new(SimServer::Running(server)),
                Err(error) => {
                    failure.lock().get_or_insert(error.to_string());
                    Arc::new(SimServer::Failed)
                }
            }
        });
        let group = Arc::new(Group::new(net.clone(), tester::GRP0, n, make));
        group.start_servers();
        Cluster {
            net,
            group,
            start_failure,
        }
    }

    /// The simulated network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// The group (shared with the fault schedule).
    pub fn group(&self) -> &Arc<Group<SimServer>> {
        &self.group
    }

    /// Why a server could not start, if one could not.
    pub fn start_failure(&self) -> Option<String> {
        self.start_failure.lock().clone()
    }

    /// The running server claiming leadership in the highest term, if any.
    pub fn leader(&self) -> Option<Leader> {
        leader_of(&self.group)
    }

    /// A classic Clerk with its own ends to every server, all enabled.
    pub fn clerk(&self) -> Clerk<ClientEnds> {
        let names = self.group.srv_names();
        let ends = ClientEnds::new(&self.net, &names);
        Clerk::new(ends, names).expect("a cluster has at least one server")
    }

    /// Kills every server and shuts the network down: blocked calls return.
    pub fn shut_down(&self) {
        self.net.cleanup();
        self.group.cleanup();
    }
}

/// The running server of `group` claiming leadership in the highest term.
pub fn leader_of(group: &Group<SimServer>) -> Option<Leader> {
    group
        .services()
        .iter()
        .enumerate()
        .filter_map(|(server, slot)| match slot.as_deref() {
            Some(SimServer::Running(kv)) => {
                let (term, is_leader) = kv.raft_state();
                is_leader.then_some(Leader { server, term })
            }
            _ => None,
        })
        .max_by_key(|leader| leader.term)
}

/// A client's private ends, one per server, always enabled: the faults cut
/// links between servers, while a client can try any server.
pub struct ClientEnds {
    ends: HashMap<String, ClientEnd>,
}

impl ClientEnds {
    fn new(net: &Network, servers: &[String]) -> ClientEnds {
        let ends = servers
            .iter()
            .map(|server| {
                let name = format!("clerk-{}", tester::randstring(16));
                let end = net.make_end(&name);
                net.connect(&name, server);
                net.enable(&name, true);
                (server.clone(), end)
            })
            .collect();
        ClientEnds { ends }
    }
}

impl Transport for ClientEnds {
    fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        server: &str,
        method: &str,
        args: &A,
    ) -> Result<R, CallError> {
        match self.ends.get(server) {
            Some(end) => end.call(method, args),
            None => Err(CallError::Unreachable),
        }
    }
}
