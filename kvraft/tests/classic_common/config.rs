//! The classic `config`: a group of [`ClassicServer`]s on a `tester::Config`,
//! with the old suite's clerks, banner and `Passed` line.

use labrt::time::{Duration, Instant};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kvraft::classic::{ClassicServer, Clerk};
use labrt::sync::Mutex;
use rand::seq::SliceRandom;
use tester::{Clnt, Config, MakeServer};

/// Go's `electionTimeout`: how long the tests wait for a new leader.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The Clerk the tests use: classic, over the tester's clerk-side ends.
pub type TestClerk = Clerk<Clnt>;

/// The old config's 120-second limit on a whole test.
const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Statistics taken at `begin`, reported by `end`.
struct Phase {
    started: Instant,
    rpcs_at_start: usize,
}

/// One test's cluster: `n` classic servers, their clerks and counters.
pub struct ClassicConfig {
    cfg: Config<ClassicServer>,
    n: usize,
    maxraftstate: Option<usize>,
    made: Instant,
    ops: AtomicUsize,
    phase: Mutex<Phase>,
    /// Every Clerk's client, for [`ClassicConfig::stop_clerks`].
    clnts: Mutex<Vec<Clnt>>,
}

impl ClassicConfig {
    /// Go's `make_config(t, n, unreliable, maxraftstate)`: starts and connects
    /// `n` servers, then sets the network's reliability. `maxraftstate` None
    /// is Go's -1 (no snapshots).
    pub fn new(n: usize, unreliable: bool, maxraftstate: Option<usize>) -> Arc<ClassicConfig> {
        let make: MakeServer<ClassicServer> = Arc::new(move |ends, _gid, me, persister| {
            ClassicServer::start(ends, me, persister, maxraftstate)
                .unwrap_or_else(|error| panic!("{error}"))
        });
        let cfg = Config::new(n, !unreliable, make);
        let now = Instant::now();
        Arc::new(ClassicConfig {
            n,
            maxraftstate,
            made: now,
            ops: AtomicUsize::new(0),
            phase: Mutex::new(Phase {
                started: now,
                rpcs_at_start: cfg.rpc_total(),
            }),
            clnts: Mutex::new(Vec::new()),
            cfg,
        })
    }

    /// The tester underneath (network, group, failure handles).
    pub fn tester(&self) -> &Config<ClassicServer> {
        &self.cfg
    }

    /// Number of servers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The snapshot threshold the servers were started with.
    pub fn maxraftstate(&self) -> Option<usize> {
        self.maxraftstate
    }

    /// Every server index, 0..n.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Old-format banner: `<desc> ...`; resets the phase's counters.
    pub fn begin(&self, description: &str) {
        println!("{description} ...");
        let mut phase = self.phase.lock();
        phase.started = Instant::now();
        phase.rpcs_at_start = self.cfg.rpc_total();
        self.ops.store(0, Ordering::SeqCst);
    }

    /// Counts one Clerk operation made through the test's wrappers.
    pub fn op(&self) {
        self.ops.fetch_add(1, Ordering::SeqCst);
    }

    /// Old-format summary: `  ... Passed --  <time>  <peers> <rpcs> <ops>`,
    /// after the 120-second check.
    #[track_caller]
    pub fn end(&self) {
        self.cfg.check_failure();
        self.check_timeout();
        let phase = self.phase.lock();
        let seconds = phase.started.elapsed().as_secs_f64();
        let rpcs = self.cfg.rpc_total() - phase.rpcs_at_start;
        let ops = self.ops.load(Ordering::SeqCst);
        println!(
            "  ... Passed --  {seconds:4.1}  {} {rpcs:5} {ops:4}",
            self.n
        );
    }

    /// Fails the test if it has run longer than 120 s since it was made.
    #[track_caller]
    pub fn check_timeout(&self) {
        if self.made.elapsed() > TEST_TIME_LIMIT {
            panic!("test took longer than 120 seconds");
        }
    }

    /// Stops every Clerk of the test for good, for a test that has failed:
    /// the network shuts down and the Clerks' ends are cut, so each Clerk call
    /// in flight or to come gives up at once
    /// ([`ClerkError::NetworkGone`](kvraft::classic::ClerkError)) and the
    /// threads blocked in them end.
    pub fn stop_clerks(&self) {
        self.cfg.net().cleanup();
        for clnt in self.clnts.lock().iter() {
            clnt.disconnect_all();
        }
    }

    /// Server names for the given indices.
    fn names(&self, servers: &[usize]) -> Vec<String> {
        servers
            .iter()
            .map(|&i| self.cfg.group().srv_name(i))
            .collect()
    }

    /// Go's `makeClient(to)`: a Clerk that knows every server, in a random
    /// order, but can reach only those in `to`.
    pub fn make_client(&self, to: &[usize]) -> Arc<TestClerk> {
        let clnt = self.cfg.make_client_to(&self.names(to));
        self.clnts.lock().push(clnt.clone());
        let mut servers = self.names(&self.all());
        servers.shuffle(&mut labrpc::rng::child());
        Arc::new(Clerk::new(clnt, servers).expect("a cluster has servers"))
    }

    /// Go's `deleteClient`.
    pub fn delete_client(&self, ck: &TestClerk) {
        self.cfg.delete_client(ck.transport());
    }

    /// Go's `ConnectClient(ck, to)`: lets the Clerk reach `to` as well.
    pub fn connect_client(&self, ck: &TestClerk, to: &[usize]) {
        ck.transport().connect_to(&self.names(to));
    }

    /// Go's `ConnectAll`.
    pub fn connect_all(&self) {
        self.cfg.group().connect_all();
    }

    /// Go's `partition(p1, p2)`.
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        self.cfg.group().partition(p1, p2);
    }

    /// Go's `Leader()`: a server whose Raft believes it leads, if any.
    pub fn leader(&self) -> Option<usize> {
        let group = self.cfg.group();
        (0..self.n).find(|&i| group.service(i).is_some_and(|server| server.raft_state().1))
    }

    /// Go's `make_partition()`: the leader (server 0 when there is none) goes
    /// last into the minority.
    pub fn make_partition(&self) -> (Vec<usize>, Vec<usize>) {
        self.cfg.group().make_partition(self.leader().unwrap_or(0))
    }

    /// Go's `ShutdownServer(i)`.
    pub fn shutdown_server(&self, i: usize) {
        self.cfg.group().shutdown_server(i);
    }

    /// Go's `StartServer(i)` (does not connect it).
    pub fn start_server(&self, i: usize) {
        self.cfg.group().start_server(i);
    }

    /// Largest persisted Raft state over the servers, in bytes.
    pub fn log_size(&self) -> usize {
        self.cfg.group().log_size()
    }

    /// Largest snapshot over the servers, in bytes.
    pub fn snapshot_size(&self) -> usize {
        self.cfg.group().snapshot_size()
    }
}
