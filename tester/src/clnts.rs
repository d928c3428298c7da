//! Clerk-side ends: how a KV client reaches the servers (spec/tester.md §5).

use crate::names::randstring;
use labrpc::{CallError, ClientEnd, Network};
use labrt::sync::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

struct State {
    /// One private end per server name, made on first use.
    ends: HashMap<String, ClientEnd>,
    /// The servers this client may reach; `None` means all of them.
    allowed: Option<Vec<String>>,
}

/// A client's view of the network: one private end per server, each enabled
/// only while the client is allowed to reach that server. Cloning shares it.
#[derive(Clone)]
pub struct Clnt {
    net: Network,
    state: Arc<Mutex<State>>,
}

impl Clnt {
    pub(crate) fn new(net: Network, allowed: Option<Vec<String>>) -> Self {
        Self {
            net,
            state: Arc::new(Mutex::new(State {
                ends: HashMap::new(),
                allowed,
            })),
        }
    }

    fn end_to(&self, server: &str) -> ClientEnd {
        let mut state = self.state.lock();
        if let Some(end) = state.ends.get(server) {
            return end.clone();
        }
        let name = randstring(20);
        let end = self.net.make_end(&name);
        self.net.connect(&name, server);
        let allowed = state
            .allowed
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == server));
        self.net.enable(&name, allowed);
        state.ends.insert(server.to_string(), end.clone());
        end
    }

    /// Calls `method` on `server` through this client's end to it.
    pub fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        server: &str,
        method: &str,
        args: &A,
    ) -> Result<R, CallError> {
        self.end_to(server).call(method, args)
    }

    /// Lets the client reach every server.
    pub fn connect_all(&self) {
        let mut state = self.state.lock();
        for end in state.ends.values() {
            self.net.enable(end.name(), true);
        }
        state.allowed = None;
    }

    /// Lets the client reach the servers in `servers` (others keep their
    /// current state).
    pub fn connect_to(&self, servers: &[String]) {
        let mut state = self.state.lock();
        for server in servers {
            if let Some(end) = state.ends.get(server) {
                self.net.enable(end.name(), true);
            }
        }
        state.allowed = Some(servers.to_vec());
    }

    /// Cuts the client off from `server`.
    pub fn disconnect(&self, server: &str) {
        let state = self.state.lock();
        if let Some(end) = state.ends.get(server) {
            self.net.enable(end.name(), false);
        }
    }

    /// Cuts the client off from every server.
    pub fn disconnect_all(&self) {
        let mut state = self.state.lock();
        for end in state.ends.values() {
            self.net.enable(end.name(), false);
        }
        state.allowed = Some(Vec::new());
    }

    /// Removes the client's ends from the network.
    pub(crate) fn delete_ends(&self) {
        let mut state = self.state.lock();
        for (_, end) in state.ends.drain() {
            self.net.delete_end(end.name());
        }
    }
}
