//! One test's world: the network, the group of servers, the clients, the
//! banner and the "Passed" line, the seed, the watchdog (spec/tester.md §2, §6).

use crate::annotate;
use crate::clnts::Clnt;
use crate::failure::{self, FailureHandle};
use crate::group::Group;
use crate::server::{GRP0, MakeServer, TestServer};
use labrpc::Network;
use labrt::channel::{self, Sender};
use labrt::sync::Mutex;
use labrt::time::{Duration, Instant};
use std::fmt::Display;
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How long a test may run: past it, [`Config::end`] fails the test, and the
/// watchdog ends a test that is still running (dumping the group's state).
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Set to `off` to keep the watchdog from ending a long test (e.g. while
/// sitting in a debugger).
pub const WATCHDOG_VAR: &str = "LAB_WATCHDOG";

/// In simulation, how long past the watchdog's verdict the test may take to
/// fail and end before the process is ended after all.
const WATCHDOG_GRACE: Duration = Duration::from_secs(30);

struct Stats {
    t0: Instant,
    rpcs0: usize,
}

/// One test: a network, group 0 of `n` servers built by the lab's factory
/// (started and connected), the clients, and the statistics of the Passed
/// line. Dropping it cleans up: clients' ends deleted, every server killed,
/// the network shut down, the fault timeline written if the test failed.
pub struct Config<S: TestServer> {
    net: Network,
    group: Arc<Group<S>>,
    clnts: Mutex<Vec<Clnt>>,
    start: Instant,
    stats: Mutex<Stats>,
    ops: AtomicUsize,
    seed: u64,
    test_name: String,
    failure: FailureHandle,
    fatal_called: AtomicBool,
    watchdog: Option<Sender<()>>,
}

static CPU_WARNING: Once = Once::new();

impl<S: TestServer> Config<S> {
    /// Makes the network and group 0 of `n` servers, starts and connects
    /// them, and only then sets the network's reliability (so servers start
    /// on a reliable network, as in Go).
    ///
    /// The seed is `LAB_SEED` if set, else fresh; it is printed when the test
    /// fails.
    pub fn new(n: usize, reliable: bool, make: MakeServer<S>) -> Self {
        // A simulated world runs one thread at a time (and is pinned to one
        // CPU): the warning is about real runs.
        CPU_WARNING.call_once(|| {
            if !labrt::simulated()
                && std::thread::available_parallelism().map_or(1, |p| p.get()) < 2
            {
                println!("warning: only one CPU, which may conceal locking bugs");
            }
        });
        let seed = labrpc::rng::test_seed();
        labrpc::rng::reseed(seed);
        let test_name = std::thread::current()
            .name()
            .unwrap_or("unnamed-test")
            .to_string();
        crate::logging::start_test(&test_name, seed);
        let failure = FailureHandle::default();
        failure::begin_test(seed, &test_name, failure.clone());
        annotate::test(&test_name, n);

        let net = Network::new();
        let group = Arc::new(Group::new(net.clone(), GRP0, n, make));
        group.start_servers();
        let start = Instant::now();
        net.set_reliable(reliable);
        let watchdog = start_watchdog(&test_name, seed, group.clone());
        Self {
            net: net.clone(),
            group,
            clnts: Mutex::new(Vec::new()),
            start,
            stats: Mutex::new(Stats {
                t0: start,
                rpcs0: net.total_count(),
            }),
            ops: AtomicUsize::new(0),
            seed,
            test_name,
            failure,
            fatal_called: AtomicBool::new(false),
            watchdog,
        }
    }

    /// The seed this test runs with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Group 0.
    pub fn group(&self) -> &Group<S> {
        &self.group
    }

    /// Group 0, shared (for a check that outlives a borrow of the Config,
    /// such as a simulated world's step check).
    pub fn shared_group(&self) -> Arc<Group<S>> {
        Arc::clone(&self.group)
    }

    /// Prints `<desc> (reliable network)...` (or unreliable) and starts the
    /// statistics of the Passed line.
    pub fn begin(&self, desc: &str) {
        self.check_failure();
        let kind = if self.is_reliable() {
            "reliable"
        } else {
            "unreliable"
        };
        println!("{desc} ({kind} network)...");
        *self.stats.lock() = Stats {
            t0: Instant::now(),
            rpcs0: self.net.total_count(),
        };
        self.ops.store(0, Ordering::Relaxed);
    }

    /// Counts one client operation.
    pub fn op(&self) {
        self.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// How many client operations were counted since [`begin`](Self::begin).
    pub fn ops(&self) -> usize {
        self.ops.load(Ordering::Relaxed)
    }

    /// Checks the time limit and background failures, then prints
    /// `  ... Passed --  time  4.6s #peers 3 #RPCs    62 #Ops    0`.
    #[track_caller]
    pub fn end(&self) {
        self.check_timeout();
        self.check_failure();
        let stats = self.stats.lock();
        println!(
            "  ... Passed --  time {:4.1}s #peers {} #RPCs {:5} #Ops {:4}",
            stats.t0.elapsed().as_secs_f64(),
            self.group.n(),
            self.net.total_count() - stats.rpcs0,
            self.ops(),
        );
    }

    /// Fails the test now: prints `Fatal: <msg>` and panics.
    #[track_caller]
    pub fn fatal(&self, msg: impl Display) -> ! {
        self.fatal_called.store(true, Ordering::Relaxed);
        println!("Fatal: {msg}");
        log::error!(target: "tester::test", "Fatal: {msg}");
        panic!("{msg}");
    }

    /// A handle that background threads use to fail the test.
    pub fn failure(&self) -> FailureHandle {
        self.failure.clone()
    }

    /// Fails the test (on this, the test's thread) if a background thread
    /// failed or panicked.
    #[track_caller]
    pub fn check_failure(&self) {
        if let Some(message) = self.failure.get() {
            self.fatal(format!("failure on a background thread: {message}"));
        }
    }

    /// Sleeps for `d`, or fails the test (on the calling thread) as soon as a
    /// background thread fails or panics meanwhile: a test's pauses never
    /// outlast its failure.
    #[track_caller]
    pub fn sleep(&self, d: Duration) {
        if let Some(message) = self.failure.wait_for(d) {
            self.fatal(format!("failure on a background thread: {message}"));
        }
    }

    /// Fails the test if it has run for more than 120 seconds.
    #[track_caller]
    pub fn check_timeout(&self) {
        if self.start.elapsed() > TEST_TIME_LIMIT {
            self.fatal("test took longer than 120 seconds");
        }
    }

    /// Sets the network's reliability.
    pub fn set_reliable(&self, yes: bool) {
        self.net.set_reliable(yes);
    }

    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.net.is_reliable()
    }

    /// Turns long reordering on or off.
    pub fn set_long_reordering(&self, yes: bool) {
        self.net.set_long_reordering(yes);
    }

    /// Turns long delays on or off.
    pub fn set_long_delays(&self, yes: bool) {
        self.net.set_long_delays(yes);
    }

    /// RPCs made so far.
    pub fn rpc_total(&self) -> usize {
        self.net.total_count()
    }

    /// Bytes sent so far.
    pub fn bytes_total(&self) -> usize {
        self.net.total_bytes()
    }

    /// A client that may reach every server.
    pub fn make_client(&self) -> Clnt {
        let clnt = Clnt::new(self.net.clone(), None);
        self.clnts.lock().push(clnt.clone());
        clnt
    }

    /// A client that may reach only the servers named in `servers`.
    pub fn make_client_to(&self, servers: &[String]) -> Clnt {
        let clnt = Clnt::new(self.net.clone(), Some(servers.to_vec()));
        self.clnts.lock().push(clnt.clone());
        clnt
    }

    /// Removes a client's ends from the network.
    pub fn delete_client(&self, clnt: &Clnt) {
        clnt.delete_ends();
    }
}

impl<S: TestServer> Drop for Config<S> {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        let failed =
            panicking || self.fatal_called.load(Ordering::Relaxed) || self.failure.get().is_some();
        for clnt in self.clnts.lock().drain(..) {
            clnt.delete_ends();
        }
        self.group.cleanup();
        self.net.cleanup();
        self.watchdog.take();
        annotate::finish(failed);
        crate::logging::finish_test(failed);
        if let Some(line) = failure::trace_line() {
            println!("{line}");
        }
        if failed && !panicking {
            println!("{}", failure::replay_line(self.seed, &self.test_name));
        }
        failure::end_test();
        if !panicking {
            if let Some(message) = self.failure.get() {
                panic!("failure on a background thread: {message}");
            }
            if self.start.elapsed() > TEST_TIME_LIMIT {
                println!("Fatal: test took longer than 120 seconds");
                panic!("test took longer than 120 seconds");
            }
        }
    }
}

/// Ends the process if the test is still running at the time limit (plus a
/// little grace for the test to finish on its own and fail in `end`),
/// after printing why, the group's state and the seed.
fn start_watchdog<S: TestServer>(
    test_name: &str,
    seed: u64,
    group: Arc<Group<S>>,
) -> Option<Sender<()>> {
    if std::env::var(WATCHDOG_VAR).is_ok_and(|v| v == "off") {
        return None;
    }
    let (cancel, cancelled) = channel::bounded::<()>(0);
    let test_name = test_name.to_string();
    labrt::thread::Builder::new()
        .name(format!("watchdog-{test_name}"))
        .spawn(move || {
            let limit = TEST_TIME_LIMIT + Duration::from_secs(10);
            if cancelled.recv_timeout(limit).is_err_and(|e| e.is_timeout()) {
                let fatal = format!(
                    "Fatal: test {test_name} took longer than 120 seconds; still running at {limit:?}"
                );
                eprintln!("{fatal}");
                eprintln!("group state:\n{}", group.dump());
                // In a simulated world (a swarm runs many in one process) the
                // test's thread fails with it, as for a deadlock; only if the
                // test has not ended a grace period later does the process.
                if labrt::sim::fail(fatal)
                    && !cancelled
                        .recv_timeout(WATCHDOG_GRACE)
                        .is_err_and(|e| e.is_timeout())
                {
                    return;
                }
                eprintln!("threads still running (name, state, kernel wait):\n{}", crate::threads::dump());
                eprintln!("{}", failure::replay_line(seed, &test_name));
                std::process::exit(1);
            }
        })
        .expect("cannot spawn the watchdog");
    Some(cancel)
}
