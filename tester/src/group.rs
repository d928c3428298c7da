//! A group of servers: starting, crashing and restarting them, and cutting
//! and mending the links between them (spec/tester.md §3).

use crate::annotate;
use crate::names::{randstring, server_name};
use crate::server::{Gid, MakeServer, TestServer};
use labrpc::{ClientEnd, Network, Persister};
use labrt::sync::Mutex;
use std::fmt::Write as _;
use std::sync::Arc;

/// One server's place in the group: what survives its crashes.
struct Slot<S> {
    /// The persister the current (or next) instance uses.
    persister: Option<Persister>,
    /// The running instance, if any.
    server: Option<Arc<S>>,
    /// This slot's outgoing ends: `ends[j]` carries calls to server j.
    ends: Vec<ClientEnd>,
}

struct State<S> {
    slots: Vec<Slot<S>>,
    connected: Vec<bool>,
}

/// `n` servers named `server-<gid>-<i>`, each with outgoing ends to all the
/// others, started by the lab's factory.
pub struct Group<S: TestServer> {
    net: Network,
    gid: Gid,
    n: usize,
    make: MakeServer<S>,
    names: Vec<String>,
    state: Mutex<State<S>>,
}

impl<S: TestServer> Group<S> {
    /// A group of `n` stopped servers with fresh, disabled ends, none
    /// connected.
    pub fn new(net: Network, gid: Gid, n: usize, make: MakeServer<S>) -> Self {
        let names: Vec<String> = (0..n).map(|i| server_name(gid, i)).collect();
        let slots = (0..n)
            .map(|_| Slot {
                persister: None,
                server: None,
                ends: fresh_ends(&net, &names),
            })
            .collect();
        Self {
            net,
            gid,
            n,
            make,
            names,
            state: Mutex::new(State {
                slots,
                connected: vec![false; n],
            }),
        }
    }

    /// How many servers the group has.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The group's id.
    pub fn gid(&self) -> Gid {
        self.gid
    }

    /// The labrpc name of server `i`.
    pub fn srv_name(&self, i: usize) -> String {
        self.names[i].clone()
    }

    /// Every server's labrpc name, in index order.
    pub fn srv_names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The names of the servers in `list`.
    pub fn srv_names_to(&self, list: &[usize]) -> Vec<String> {
        list.iter().map(|&i| self.names[i].clone()).collect()
    }

    /// The running instance of server `i`, if it is up.
    pub fn service(&self, i: usize) -> Option<Arc<S>> {
        self.state.lock().slots[i].server.clone()
    }

    /// Every slot's running instance, in index order.
    pub fn services(&self) -> Vec<Option<Arc<S>>> {
        let state = self.state.lock();
        state.slots.iter().map(|s| s.server.clone()).collect()
    }

    /// Server `i`'s current persister (a new empty one if it never ran).
    pub fn persister(&self, i: usize) -> Persister {
        let mut state = self.state.lock();
        state.slots[i]
            .persister
            .get_or_insert_with(Persister::new)
            .clone()
    }

    /// Starts a new instance of server `i`, with new outgoing ends (disabled)
    /// and a copy of its persister, and registers it on the network in place
    /// of whatever was there. Connects nothing: follow with
    /// [`connect_one`](Self::connect_one) or [`connect_all`](Self::connect_all).
    pub fn start_server(&self, i: usize) {
        let (ends, persister) = {
            let mut state = self.state.lock();
            let ends = fresh_ends(&self.net, &self.names);
            let slot = &mut state.slots[i];
            let persister = match &slot.persister {
                Some(p) => p.copy(),
                None => Persister::new(),
            };
            slot.persister = Some(persister.clone());
            slot.ends = ends.clone();
            (ends, persister)
        };
        // The factory may take a while (restoring state): no lock held.
        let server = (self.make)(ends, self.gid, i, persister);
        let mut rpc_server = labrpc::Server::new();
        for service in server.services() {
            rpc_server.add_service(service);
        }
        self.state.lock().slots[i].server = Some(server);
        self.net.add_server(&self.names[i], rpc_server);
        annotate::restart(&[i]);
        log::debug!(target: "tester::test", "start server {}", self.names[i]);
    }

    /// Crashes server `i`: cuts its links, removes it from the network (so no
    /// reply of its can reach anybody any more), keeps exactly what it had
    /// saved by handing the slot a copy of its persister, and kills it.
    pub fn shutdown_server(&self, i: usize) {
        self.disconnect_quietly(i, &self.all());
        self.net.delete_server(&self.names[i]);
        let server = {
            let mut state = self.state.lock();
            let slot = &mut state.slots[i];
            if let Some(p) = &slot.persister {
                slot.persister = Some(p.copy());
            }
            slot.server.take()
        };
        if let Some(server) = server {
            server.kill();
        }
        annotate::shutdown(&[i]);
        log::debug!(target: "tester::test", "shut down server {}", self.names[i]);
    }

    /// Starts every server, then connects them all.
    pub fn start_servers(&self) {
        for i in 0..self.n {
            self.start_server(i);
        }
        self.connect_all();
    }

    /// Crashes every server.
    pub fn shutdown(&self) {
        for i in 0..self.n {
            self.shutdown_server(i);
        }
    }

    /// Kills every running instance without touching persisters (the end
    /// of a test).
    pub fn cleanup(&self) {
        let servers: Vec<Arc<S>> = {
            let mut state = self.state.lock();
            state
                .slots
                .iter_mut()
                .filter_map(|s| s.server.take())
                .collect()
        };
        for server in servers {
            server.kill();
        }
    }

    fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Marks `i` connected and enables its links, both ways, to every server
    /// in `to` that is connected (itself included).
    pub fn connect(&self, i: usize, to: &[usize]) {
        let state = &mut *self.state.lock();
        state.connected[i] = true;
        for &j in to {
            if state.connected[j] {
                self.net.enable(state.slots[i].ends[j].name(), true);
            }
        }
        for &j in to {
            if state.connected[j] {
                self.net.enable(state.slots[j].ends[i].name(), true);
            }
        }
        annotate::connection(&state.connected);
    }

    fn disconnect_quietly(&self, i: usize, from: &[usize]) {
        let state = &mut *self.state.lock();
        state.connected[i] = false;
        for &j in from {
            self.net.enable(state.slots[i].ends[j].name(), false);
            self.net.enable(state.slots[j].ends[i].name(), false);
        }
    }

    /// Marks `i` disconnected and disables its links, both ways, to every
    /// server in `from`.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        self.disconnect_quietly(i, from);
        annotate::connection(&self.connected());
    }

    /// Connects server `i` to every server.
    pub fn connect_one(&self, i: usize) {
        self.connect(i, &self.all());
    }

    /// Connects every server to every server (shut-down ones included: calls
    /// to them still fail, as no server is registered under their names).
    pub fn connect_all(&self) {
        for i in 0..self.n {
            self.connect_one(i);
        }
    }

    /// Disconnects server `i` from every server.
    pub fn disconnect_all(&self, i: usize) {
        self.disconnect(i, &self.all());
    }

    /// Full connectivity inside each of `p1` and `p2`, none across; servers in
    /// neither are left as they are.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        for &i in p1 {
            self.disconnect_quietly(i, p2);
            self.connect(i, p1);
        }
        for &i in p2 {
            self.disconnect_quietly(i, p1);
            self.connect(i, p2);
        }
        annotate::two_partitions(p1, p2);
    }

    /// A majority without `leader` and a minority whose last member is
    /// `leader` (for odd group sizes, as the labs use).
    pub fn make_partition(&self, leader: usize) -> (Vec<usize>, Vec<usize>) {
        let others: Vec<usize> = (0..self.n).filter(|&i| i != leader).collect();
        let majority = self.n / 2 + 1;
        let p1 = others[..majority.min(others.len())].to_vec();
        let mut p2: Vec<usize> = others[p1.len()..].to_vec();
        p2.push(leader);
        (p1, p2)
    }

    /// Whether server `i` is marked connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.state.lock().connected[i]
    }

    /// Every server's connected flag.
    pub fn connected(&self) -> Vec<bool> {
        self.state.lock().connected.clone()
    }

    /// Each server's persisted (snapshot, Raft state) sizes, in server order.
    pub fn persisted_sizes(&self) -> Vec<(usize, usize)> {
        (0..self.n())
            .map(|i| {
                let p = self.persister(i);
                (p.snapshot_size(), p.raft_state_size())
            })
            .collect()
    }

    /// Waits (checking every 20 ms; persisters announce nothing) until every
    /// server has a snapshot and a Raft state under `trimmed` bytes, i.e. its
    /// log no longer holds the early entries. After `timeout`, returns the
    /// sizes last seen.
    pub fn wait_snapshotted(
        &self,
        trimmed: usize,
        timeout: std::time::Duration,
    ) -> Result<(), Vec<(usize, usize)>> {
        let start = labrt::time::Instant::now();
        loop {
            let sizes = self.persisted_sizes();
            if sizes.iter().all(|&(snap, raft)| snap > 0 && raft < trimmed) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(sizes);
            }
            labrt::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The largest persisted Raft state of any server.
    pub fn log_size(&self) -> usize {
        let state = self.state.lock();
        state
            .slots
            .iter()
            .filter_map(|s| s.persister.as_ref())
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// The largest persisted snapshot of any server.
    pub fn snapshot_size(&self) -> usize {
        let state = self.state.lock();
        state
            .slots
            .iter()
            .filter_map(|s| s.persister.as_ref())
            .map(Persister::snapshot_size)
            .max()
            .unwrap_or(0)
    }

    /// How many RPCs the current instance of server `i` has received.
    pub fn rpc_count(&self, i: usize) -> usize {
        self.net.count(&self.names[i])
    }

    /// A human-readable account of the group: who is up, who is connected,
    /// RPC counts and persisted sizes (printed by the watchdog).
    pub fn dump(&self) -> String {
        let state = self.state.lock();
        let mut out = String::new();
        for (i, slot) in state.slots.iter().enumerate() {
            let (raft_state, snapshot) = slot
                .persister
                .as_ref()
                .map_or((0, 0), |p| (p.raft_state_size(), p.snapshot_size()));
            let _ = writeln!(
                out,
                "  {}: {} {} rpcs={} raftstate={}B snapshot={}B",
                self.names[i],
                if slot.server.is_some() { "up" } else { "down" },
                if state.connected[i] {
                    "connected"
                } else {
                    "disconnected"
                },
                self.net.count(&self.names[i]),
                raft_state,
                snapshot,
            );
        }
        out
    }
}

/// New ends with random names, wired to every server name, disabled.
fn fresh_ends(net: &Network, server_names: &[String]) -> Vec<ClientEnd> {
    server_names
        .iter()
        .map(|server| {
            let name = randstring(20);
            let end = net.make_end(&name);
            net.connect(&name, server);
            end
        })
        .collect()
}
