//! The Go raft suite's wrapper (raft1/test.go + raft1/server.go) on top of the
//! tester: a server wrapper per Raft peer that records what it applies, the
//! plain and snapshot appliers with their checks, and the helper checks the
//! tests call (check_one_leader, one, wait, n_committed, ...).
//!
//! Safety is checked all the time, in every test, without the test asking:
//!
//! - the appliers check what every peer applies: the same command at an index
//!   on every peer (Go's checks), in order, never an index twice or backwards
//!   within one incarnation (snapshot deliveries included), and never two
//!   different commands at one index by any peer in any incarnation, crashed
//!   ones included (State Machine Safety, §5.4.3);
//! - an observer thread samples every live peer's `get_state` every
//!   [`OBSERVE_EVERY`] and fails the test the moment two different peers have
//!   claimed leadership of the same term (Election Safety, §5.2), or a peer's
//!   term went backwards. In simulation mode the same checks run after every
//!   scheduling step instead (`labrt::sim::set_step_check`), so a violation
//!   is caught at the step it happens, however briefly it lasts.
//!
//! A failure fails the test at once, through the tester's failure record: the
//! first one is printed (`Fatal: ...`) and kept, and every helper of this
//! module that waits ([`sleep`], [`Test::one`], [`Test::wait`],
//! [`Test::check_one_leader`], ...) ends the test as soon as it is recorded,
//! on whichever thread of the test it runs (client threads too), so no test
//! waits out a pause, or on something the failure left blocked. The seed is
//! printed as for any failure. The applier that found an error stops.
#![allow(dead_code)]

use labrt::thread::JoinHandle;
use labrt::time::{Duration, Instant};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use labrpc::{CallInfo, Verdict};
use labrt::channel::{self, Receiver};
use labrt::sync::Mutex;
use raft::{ApplyMsg, Raft};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tester::{Config, FailureHandle, Group, Persister, TestServer};

/// The tester's election timeout.
pub const RAFT_ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The snapshot applier snapshots after every index i with (i + 1) % 10 == 0.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// The largest persisted Raft state (bytes) the 3D tests allow.
pub const MAX_LOG_SIZE: usize = 2000;

/// A test command: the Go tests replicate ints and strings and compare them
/// with `!=`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestCmd {
    /// An integer command.
    Int(i64),
    /// A string command.
    Str(String),
}

impl fmt::Display for TestCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestCmd::Int(i) => write!(f, "{i}"),
            // Long strings (rpc_bytes_3b's, the scenarios') by their start.
            TestCmd::Str(s) if s.len() > 40 => {
                let start: String = s.chars().take(24).collect();
                write!(f, "{start}...({} bytes)", s.len())
            }
            TestCmd::Str(s) => write!(f, "{s}"),
        }
    }
}

impl From<i64> for TestCmd {
    fn from(i: i64) -> Self {
        TestCmd::Int(i)
    }
}

/// A random non-negative 63-bit int (Go's `rand.Int()`).
pub fn rand_int() -> i64 {
    labrpc::rng::with(|r| r.random::<i64>() & i64::MAX)
}

/// A random int in `0..n` (Go's `rand.Int() % n`).
pub fn rand_below(n: i64) -> i64 {
    rand_int() % n
}

/// How often the safety observer samples every live peer's `get_state`.
pub const OBSERVE_EVERY: Duration = Duration::from_millis(5);

/// How many of its latest snapshots each incarnation keeps for the scenario
/// tests to recognise them on the wire.
const SNAPSHOTS_KEPT: usize = 4;

/// Sleeps where the Go test sleeps; if the test fails meanwhile (an apply
/// error, the observer, a panic on another thread), panics at once instead of
/// sleeping on, on whichever thread of the test called it.
pub fn sleep(d: Duration) {
    match tester::current_failure() {
        Some(failure) => {
            if let Some(message) = failure.wait_for(d) {
                panic!("failure on a background thread: {message}");
            }
        }
        None => labrt::thread::sleep(d),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What one server incarnation has applied.
#[derive(Default)]
struct Applied {
    logs: HashMap<u64, TestCmd>,
    last_applied: u64,
}

/// One incarnation of a Raft server (Go's `rfsrv`).
pub struct RfSrv {
    me: usize,
    /// Numbers every incarnation of every server of the test, from 1.
    incarnation: u64,
    raft: Mutex<Option<Raft<TestCmd>>>,
    persister: Persister,
    applied: Mutex<Applied>,
    /// The latest snapshots this incarnation's applier made, newest last.
    snapshots: Mutex<Vec<Arc<[u8]>>>,
}

impl RfSrv {
    /// The live Raft, or `None` once this incarnation was crashed.
    pub fn raft(&self) -> Option<Raft<TestCmd>> {
        self.raft.lock().clone()
    }
}

/// Who first applied a command at an index.
struct Origin {
    cmd: TestCmd,
    server: usize,
    incarnation: u64,
}

impl TestServer for RfSrv {
    fn services(&self) -> Vec<labrpc::Service> {
        self.raft().map(|r| r.service()).into_iter().collect()
    }

    fn kill(&self) {
        let raft = self.raft.lock().take();
        if let Some(raft) = raft {
            raft.kill();
        }
        // Like a KV server would: save again what is saved (a no-op here).
        let state = self.persister.read_raft_state().to_vec();
        let snapshot = self.persister.read_snapshot();
        self.persister.save(state, Some(snapshot));
    }
}

/// Everything the servers and the helper checks share (Go's `Test` fields).
struct Checks {
    n: usize,
    /// The current incarnation of each server (a crashed one stays until restart).
    srvs: Mutex<Vec<Option<Arc<RfSrv>>>>,
    max_index: AtomicU64,
    apply_err: Mutex<Option<String>>,
    finished: AtomicBool,
    /// The first command applied at each index by any incarnation of any server.
    history: Mutex<HashMap<u64, Origin>>,
    incarnations: AtomicU64,
    /// Every end a server was started with: name -> (from, to).
    ends: Arc<Mutex<HashMap<String, (usize, usize)>>>,
    /// The test's failure record, once the Config exists.
    failure: OnceLock<FailureHandle>,
    /// The snapshot applier snapshots after every index i with
    /// (i + 1) % interval == 0 ([`SNAPSHOT_INTERVAL`] unless a test says).
    snapshot_interval: AtomicU64,
}

impl Checks {
    /// Records the first apply error and fails the test at once.
    fn record_apply_error(&self, err: String) {
        self.apply_err.lock().get_or_insert(err.clone());
        match self.failure.get().cloned().or_else(tester::current_failure) {
            Some(failure) => failure.fail(format!("apply error: {err}")),
            None => println!("apply error: {err}"),
        }
    }

    /// State Machine Safety across incarnations: `cmd` at `index` must be
    /// what anybody ever applied there; records it if it is the first.
    fn check_history(&self, srv: &RfSrv, index: u64, cmd: &TestCmd) -> Option<String> {
        let mut history = self.history.lock();
        match history.get(&index) {
            Some(first) if first.cmd != *cmd => Some(format!(
                "index {index} applied twice with different commands: server {} \
                 (incarnation {}) applied {cmd}, server {} (incarnation {}) had applied {}",
                srv.me, srv.incarnation, first.server, first.incarnation, first.cmd
            )),
            Some(_) => None,
            None => {
                history.insert(
                    index,
                    Origin {
                        cmd: cmd.clone(),
                        server: srv.me,
                        incarnation: srv.incarnation,
                    },
                );
                None
            }
        }
    }

    /// Checks that every server that applied `index` applied `cmd` there, then
    /// records it for server `i`; also says whether `i` had applied `index - 1`.
    fn check_logs(&self, srv: &RfSrv, index: u64, cmd: &TestCmd) -> (Option<String>, bool) {
        let srvs = self.srvs.lock();
        let mut err = None;
        for (j, other) in srvs.iter().enumerate() {
            let Some(other) = other else { continue };
            let old = if std::ptr::eq(Arc::as_ptr(other), srv) {
                srv.applied.lock().logs.get(&index).cloned()
            } else {
                other.applied.lock().logs.get(&index).cloned()
            };
            if let Some(old) = old
                && old != *cmd
            {
                err = Some(format!(
                    "commit index={index} server={} {cmd} != server={j} {old}",
                    srv.me
                ));
            }
        }
        drop(srvs);
        if err.is_none() {
            err = self.check_history(srv, index, cmd);
        }
        let mut mine = srv.applied.lock();
        let prev_ok = mine.logs.contains_key(&(index.wrapping_sub(1)));
        mine.logs.insert(index, cmd.clone());
        self.max_index.fetch_max(index, Ordering::SeqCst);
        (err, prev_ok)
    }

    /// Replaces `srv`'s record by the snapshot's (Go's `ingestSnap`).
    fn ingest(&self, srv: &RfSrv, snapshot: &[u8], index: Option<u64>) -> Option<String> {
        if snapshot.is_empty() {
            return Some("nil snapshot".into());
        }
        let decoded = (|| {
            let mut dec = labgob::Decoder::new(snapshot);
            let last: u64 = dec.decode().ok()?;
            let xlog: Vec<Option<TestCmd>> = dec.decode().ok()?;
            Some((last, xlog))
        })();
        let Some((last, xlog)) = decoded else {
            return Some("snapshot decode error".into());
        };
        if index.is_some_and(|i| i != last) {
            return Some(format!(
                "server {} snapshot doesn't match m.SnapshotIndex",
                srv.me
            ));
        }
        {
            let applied = srv.applied.lock();
            if index.is_some() && last < applied.last_applied {
                return Some(format!(
                    "server {} got a snapshot through {last} after applying through {}: \
                     its applied index would go backwards",
                    srv.me, applied.last_applied
                ));
            }
        }
        for (j, cmd) in xlog.iter().enumerate() {
            if let Some(cmd) = cmd
                && let Some(err) = self.check_history(srv, j as u64, cmd)
            {
                return Some(format!("in a snapshot: {err}"));
            }
        }
        let mut applied = srv.applied.lock();
        applied.logs = xlog
            .into_iter()
            .enumerate()
            .filter_map(|(j, c)| c.map(|c| (j as u64, c)))
            .collect();
        applied.last_applied = last;
        None
    }

    /// The plain applier: checks every command, ignores snapshots.
    fn applier(&self, srv: Arc<RfSrv>, rx: Receiver<ApplyMsg<TestCmd>>) {
        for m in rx {
            let ApplyMsg::Command { index, command, .. } = m else {
                continue;
            };
            let last_applied = std::mem::replace(&mut srv.applied.lock().last_applied, index);
            let (mut err, prev_ok) = self.check_logs(&srv, index, &command);
            if index > 1 && !prev_ok {
                err = Some(format!("server {} apply out of order {index}", srv.me));
            }
            if index <= last_applied {
                err = Some(format!(
                    "server {} applied index {index} after index {last_applied}: \
                     an index twice, or backwards",
                    srv.me
                ));
            }
            if let Some(err) = err {
                self.record_apply_error(err);
                return;
            }
        }
    }

    /// The snapshot applier: commands strictly in order, a snapshot through
    /// every index i with (i + 1) % 10 == 0, snapshots from the leader ingested.
    fn applier_snap(&self, srv: Arc<RfSrv>, rx: Receiver<ApplyMsg<TestCmd>>) {
        let Some(raft) = srv.raft() else { return };
        for m in rx {
            let err = match m {
                ApplyMsg::Snapshot { index, data, .. } => self.ingest(&srv, &data, Some(index)),
                ApplyMsg::Command { index, command, .. } => {
                    let last_applied = srv.applied.lock().last_applied;
                    let mut err = None;
                    if index != last_applied + 1 {
                        err = Some(format!(
                            "server {} apply out of order, expected index {}, got {index}{}",
                            srv.me,
                            last_applied + 1,
                            if index <= last_applied {
                                " (an index twice, or backwards)"
                            } else {
                                ""
                            }
                        ));
                    }
                    if err.is_none() {
                        let (e, prev_ok) = self.check_logs(&srv, index, &command);
                        err = e;
                        if index > 1 && !prev_ok {
                            err = Some(format!("server {} apply out of order {index}", srv.me));
                        }
                    }
                    srv.applied.lock().last_applied = index;
                    if (index + 1) % self.snapshot_interval.load(Ordering::Relaxed) == 0 {
                        let bytes = {
                            let applied = srv.applied.lock();
                            let xlog: Vec<Option<TestCmd>> =
                                (0..=index).map(|j| applied.logs.get(&j).cloned()).collect();
                            let mut enc = labgob::Encoder::new();
                            enc.encode(&index).encode(&xlog);
                            enc.finish()
                        };
                        {
                            let mut made = srv.snapshots.lock();
                            if made.len() == SNAPSHOTS_KEPT {
                                made.remove(0);
                            }
                            made.push(bytes.clone().into());
                        }
                        raft.snapshot(index, bytes);
                    }
                    err
                }
            };
            if let Some(err) = err {
                self.record_apply_error(err);
                return;
            }
        }
    }
}

/// The safety observer: a thread that samples every live peer's `get_state`
/// every [`OBSERVE_EVERY`] until it is dropped.
struct Observer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Observer {
    fn start(checks: Arc<Checks>, failure: FailureHandle) -> Observer {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = labrt::thread::Builder::new()
            .name("safety-observer".into())
            .spawn(move || observe(&checks, &failure, &stopped))
            .expect("spawn the safety observer");
        Observer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the safety checks remember between samples: Election Safety (at
/// most one leader per term, over the whole test, crashed incarnations
/// included) and terms that never go back within an incarnation.
#[derive(Default)]
struct Safety {
    leaders: HashMap<u64, usize>,
    /// Per server: (incarnation, highest term seen).
    terms: Vec<(u64, u64)>,
}

impl Safety {
    /// Samples every live peer's `get_state`; `Err` names the violation.
    fn sample(&mut self, checks: &Checks) -> Result<(), String> {
        if self.terms.len() != checks.n {
            self.terms = vec![(0, 0); checks.n];
        }
        let live: Vec<(usize, u64, Raft<TestCmd>)> = checks
            .srvs
            .lock()
            .iter()
            .enumerate()
            .filter_map(|(i, srv)| {
                let srv = srv.as_ref()?;
                Some((i, srv.incarnation, srv.raft()?))
            })
            .collect();
        for (i, incarnation, raft) in live {
            let (term, leader) = raft.get_state();
            let (seen_incarnation, seen_term) = &mut self.terms[i];
            if *seen_incarnation == incarnation && term < *seen_term {
                return Err(format!(
                    "safety observer: server {i}'s term went back from {seen_term} to {term} \
                     without a restart"
                ));
            }
            *seen_incarnation = incarnation;
            *seen_term = term;
            if !leader {
                continue;
            }
            match self.leaders.get(&term) {
                Some(&other) if other != i => {
                    return Err(format!(
                        "safety observer: servers {other} and {i} both claimed leadership \
                         of term {term} (Election Safety, §5.2)"
                    ));
                }
                Some(_) => {}
                None => {
                    self.leaders.insert(term, i);
                }
            }
        }
        Ok(())
    }
}

/// The observer's loop: samples [`Safety`] every [`OBSERVE_EVERY`]; stops at
/// the first violation, which fails the test.
fn observe(checks: &Checks, failure: &FailureHandle, stopped: &AtomicBool) {
    let mut safety = Safety::default();
    loop {
        // A plain sleep: a channel's timed receive spins before it parks,
        // which costs more CPU than the sampling itself.
        labrt::thread::sleep(OBSERVE_EVERY);
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        if let Err(violation) = safety.sample(checks) {
            failure.fail(violation);
            return;
        }
    }
}

/// In simulation mode, checks [`Safety`] after every scheduling step instead
/// of sampling (`labrt::sim::set_step_check`): a violation is caught at the
/// step it happens. Returns whether it is installed (false in real mode).
fn check_every_step(checks: &Arc<Checks>) -> bool {
    let checks = Arc::clone(checks);
    let mut safety = Safety::default();
    labrt::sim::set_step_check(Some(Box::new(move || safety.sample(&checks))))
}

/// A scenario's rule for the calls between servers: given the caller, the
/// callee and the call, what the network does with it.
pub type LinkRule = dyn Fn(usize, usize, &CallInfo<'_>) -> Verdict + Send + Sync;

/// One raft test: the tester's Config with Raft servers, plus the checks.
pub struct Test {
    cfg: Config<RfSrv>,
    checks: Arc<Checks>,
    n: usize,
    observer: Option<Observer>,
}

impl Test {
    /// Go's `makeTest`: `n` servers, reliable or not, with the snapshot
    /// applier or the plain one; long delays on.
    pub fn new(n: usize, reliable: bool, snapshot: bool) -> Test {
        let checks = Arc::new(Checks {
            n,
            srvs: Mutex::new(vec![None; n]),
            max_index: AtomicU64::new(0),
            apply_err: Mutex::new(None),
            finished: AtomicBool::new(false),
            history: Mutex::new(HashMap::new()),
            incarnations: AtomicU64::new(0),
            ends: Arc::new(Mutex::new(HashMap::new())),
            failure: OnceLock::new(),
            snapshot_interval: AtomicU64::new(SNAPSHOT_INTERVAL),
        });
        let make = {
            let checks = Arc::clone(&checks);
            Arc::new(
                move |ends: Vec<labrpc::ClientEnd>, _gid, i: usize, persister: Persister| {
                    {
                        let mut names = checks.ends.lock();
                        for (j, end) in ends.iter().enumerate() {
                            names.insert(end.name().to_string(), (i, j));
                        }
                    }
                    let (tx, rx) = channel::bounded(0);
                    let raft = Raft::new(ends, i, persister.clone(), tx)
                        .unwrap_or_else(|e| panic!("server {i}: {e}"));
                    let srv = Arc::new(RfSrv {
                        me: i,
                        incarnation: checks.incarnations.fetch_add(1, Ordering::SeqCst) + 1,
                        raft: Mutex::new(Some(raft)),
                        persister: persister.clone(),
                        applied: Mutex::new(Applied::default()),
                        snapshots: Mutex::new(Vec::new()),
                    });
                    if snapshot {
                        let data = persister.read_snapshot();
                        if !data.is_empty()
                            && let Some(err) = checks.ingest(&srv, &data, None)
                        {
                            checks.record_apply_error(err);
                        }
                    }
                    // Register the new incarnation before its applier can record.
                    checks.srvs.lock()[i] = Some(Arc::clone(&srv));
                    let (c, s) = (Arc::clone(&checks), Arc::clone(&srv));
                    labrt::thread::Builder::new()
                        .name(format!("applier-{i}"))
                        .spawn(move || {
                            if snapshot {
                                c.applier_snap(s, rx)
                            } else {
                                c.applier(s, rx)
                            }
                        })
                        .expect("spawn applier");
                    srv
                },
            )
        };
        let cfg = Config::new(n, reliable, make);
        cfg.set_long_delays(true);
        let _ = checks.failure.set(cfg.failure());
        // Safety after every step in simulation; sampled in real mode.
        let observer = if check_every_step(&checks) {
            None
        } else {
            Some(Observer::start(Arc::clone(&checks), cfg.failure()))
        };
        Test {
            cfg,
            checks,
            n,
            observer,
        }
    }

    /// The tester's Config.
    pub fn cfg(&self) -> &Config<RfSrv> {
        &self.cfg
    }

    /// Group 0.
    pub fn group(&self) -> &Group<RfSrv> {
        self.cfg.group()
    }

    /// Prints the banner.
    pub fn begin(&self, desc: &str) {
        self.cfg.begin(desc);
    }

    /// Fails the test.
    #[track_caller]
    pub fn fatal(&self, msg: impl fmt::Display) -> ! {
        self.cfg.fatal(msg)
    }

    /// The live Raft of server `i`, if it is running.
    pub fn raft(&self, i: usize) -> Option<Raft<TestCmd>> {
        self.checks.srvs.lock()[i].as_ref().and_then(|s| s.raft())
    }

    fn connected(&self, i: usize) -> bool {
        self.group().is_connected(i)
    }

    /// "restart i": a new incarnation from its persister, then reconnect everyone.
    pub fn restart(&self, i: usize) {
        self.group().start_server(i);
        self.group().connect_all();
    }

    /// Exactly one connected server claims leadership (of the newest term);
    /// returns it. Polls for about five seconds.
    #[track_caller]
    pub fn check_one_leader(&self) -> usize {
        for _ in 0..10 {
            sleep(ms(450 + rand_below(100) as u64));
            let mut leaders: HashMap<u64, Vec<usize>> = HashMap::new();
            for i in 0..self.n {
                if !self.connected(i) {
                    continue;
                }
                if let Some(raft) = self.raft(i) {
                    let (term, leader) = raft.get_state();
                    if leader {
                        leaders.entry(term).or_default().push(i);
                    }
                }
            }
            let mut last_term_with_leader = None;
            for (term, list) in &leaders {
                if list.len() > 1 {
                    self.fatal(format!("term {term} has {} (>1) leaders", list.len()));
                }
                if last_term_with_leader.is_none_or(|t| *term > t) {
                    last_term_with_leader = Some(*term);
                }
            }
            if let Some(term) = last_term_with_leader {
                return leaders[&term][0];
            }
        }
        self.fatal("expected one leader, got none")
    }

    /// Every connected server is in the same term; returns it (None if none is
    /// connected).
    #[track_caller]
    pub fn check_terms(&self) -> Option<u64> {
        let mut term = None;
        for i in 0..self.n {
            if !self.connected(i) {
                continue;
            }
            if let Some(raft) = self.raft(i) {
                let (xterm, _) = raft.get_state();
                match term {
                    None => term = Some(xterm),
                    Some(t) if t != xterm => self.fatal("servers disagree on term"),
                    Some(_) => {}
                }
            }
        }
        term
    }

    /// No connected server claims leadership.
    #[track_caller]
    pub fn check_no_leader(&self) {
        for i in 0..self.n {
            if !self.connected(i) {
                continue;
            }
            if let Some(raft) = self.raft(i)
                && raft.get_state().1
            {
                self.fatal(format!("leader = {i}"));
            }
        }
    }

    /// Nobody has applied `index`.
    #[track_caller]
    pub fn check_no_agreement(&self, index: u64) {
        let (n, _) = self.n_committed(index);
        if n > 0 {
            self.fatal(format!("{index} committed but no majority"));
        }
    }

    /// How many servers applied `index`, and what (after checking they agree).
    #[track_caller]
    pub fn n_committed(&self, index: u64) -> (usize, Option<TestCmd>) {
        if let Some(err) = self.checks.apply_err.lock().clone() {
            self.fatal(err);
        }
        self.cfg.check_failure();
        let srvs = self.checks.srvs.lock();
        let mut count = 0;
        let mut cmd: Option<TestCmd> = None;
        for srv in srvs.iter().flatten() {
            let applied = srv.applied.lock();
            if let Some(cmd1) = applied.logs.get(&index) {
                if let Some(cmd) = &cmd
                    && cmd != cmd1
                {
                    let msg =
                        format!("committed values at index {index} do not match ({cmd} != {cmd1})");
                    drop(applied);
                    drop(srvs);
                    self.fatal(msg);
                }
                count += 1;
                cmd = Some(cmd1.clone());
            }
        }
        (count, cmd)
    }

    /// Waits for at least `n` servers to apply `index` and returns the value;
    /// `None` if some server moved past `start_term` (the Go test's -1).
    #[track_caller]
    pub fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<TestCmd> {
        let mut to = ms(10);
        for _ in 0..30 {
            let (nd, _) = self.n_committed(index);
            if nd >= n {
                break;
            }
            sleep(to);
            if to < Duration::from_secs(1) {
                to *= 2;
            }
            if let Some(start_term) = start_term {
                for i in 0..self.n {
                    if let Some(raft) = self.raft(i)
                        && raft.get_state().0 > start_term
                    {
                        // Someone has moved on; can no longer guarantee that we'll "win".
                        return None;
                    }
                }
            }
        }
        let (nd, cmd) = self.n_committed(index);
        if nd < n {
            self.fatal(format!("only {nd} decided for index {index}; wanted {n}"));
        }
        cmd
    }

    /// Go's `one`: submits `cmd` to whichever connected server accepts it and
    /// waits for `expected_servers` to apply it; resubmits if `retry`. Returns
    /// the index (0 if the test finished meanwhile).
    #[track_caller]
    pub fn one(&self, cmd: impl Into<TestCmd>, expected_servers: usize, retry: bool) -> u64 {
        let cmd = cmd.into();
        let t0 = Instant::now();
        let mut starts = 0;
        while t0.elapsed() < Duration::from_secs(10) && !self.checks.finished.load(Ordering::SeqCst)
        {
            // Try all the servers, maybe one is the leader.
            let mut index = None;
            for _ in 0..self.n {
                starts = (starts + 1) % self.n;
                if !self.connected(starts) {
                    continue;
                }
                if let Some(raft) = self.raft(starts)
                    && let Some((i, _)) = raft.start(cmd.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            if let Some(index) = index {
                // Somebody claimed to be the leader and to have submitted our command.
                let t1 = Instant::now();
                while t1.elapsed() < Duration::from_secs(2) {
                    let (nd, cmd1) = self.n_committed(index);
                    if nd > 0 && nd >= expected_servers && cmd1.as_ref() == Some(&cmd) {
                        return index;
                    }
                    sleep(ms(20));
                }
                if !retry {
                    self.fatal(format!("one({cmd}) failed to reach agreement"));
                }
            } else {
                sleep(ms(50));
            }
        }
        if self.checks.finished.load(Ordering::SeqCst) {
            return 0;
        }
        self.fatal(format!("one({cmd}) failed to reach agreement"))
    }

    /// Fails the test now if a background check has failed.
    #[track_caller]
    pub fn check_failure(&self) {
        if let Some(err) = self.checks.apply_err.lock().clone() {
            self.fatal(err);
        }
        self.cfg.check_failure();
    }

    /// Server `i`'s (term, is_leader), if it is running.
    pub fn state(&self, i: usize) -> Option<(u64, bool)> {
        self.raft(i).map(|r| r.get_state())
    }

    /// The last index server `i`'s current incarnation has applied (or that
    /// its latest snapshot covers).
    pub fn last_applied(&self, i: usize) -> u64 {
        self.checks.srvs.lock()[i]
            .as_ref()
            .map_or(0, |s| s.applied.lock().last_applied)
    }

    /// What server `i`'s current incarnation applied at `index`, if it did.
    pub fn applied_at(&self, i: usize, index: u64) -> Option<TestCmd> {
        self.checks.srvs.lock()[i]
            .as_ref()
            .and_then(|s| s.applied.lock().logs.get(&index).cloned())
    }

    /// The latest snapshots server `i`'s current incarnation made (newest
    /// last), as it handed them to Raft.
    pub fn snapshots_made(&self, i: usize) -> Vec<Arc<[u8]>> {
        self.checks.srvs.lock()[i]
            .as_ref()
            .map_or_else(Vec::new, |s| s.snapshots.lock().clone())
    }

    /// Size of server `i`'s persisted Raft state.
    pub fn persisted_size(&self, i: usize) -> usize {
        self.group().persister(i).raft_state_size()
    }

    /// Polls `probe` every few milliseconds until it returns something, for at
    /// most `timeout`; `None` if it never did. Ends the test at once if a
    /// background check fails meanwhile.
    #[track_caller]
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let t0 = Instant::now();
        loop {
            self.check_failure();
            if let Some(found) = probe() {
                return Some(found);
            }
            if t0.elapsed() >= timeout {
                return None;
            }
            self.cfg.sleep(ms(5));
        }
    }

    /// Installs `rule` for every call from one server to another (calls of
    /// ends the tester did not make for a server are delivered as usual);
    /// servers restarted later are covered too. `None` removes it.
    pub fn set_links(&self, rule: Option<Arc<LinkRule>>) {
        let interceptor = rule.map(|rule| {
            let ends = Arc::clone(&self.checks.ends);
            Arc::new(move |call: &CallInfo<'_>| {
                let link = ends.lock().get(call.end).copied();
                match link {
                    Some((from, to)) => rule(from, to, call),
                    None => Verdict::Deliver,
                }
            }) as labrpc::Interceptor
        });
        self.cfg.net().set_interceptor(interceptor);
    }

    /// Makes the snapshot applier snapshot after every index i with
    /// (i + 1) % `interval` == 0 from now on (1 snapshots after every index).
    pub fn set_snapshot_interval(&self, interval: u64) {
        self.checks
            .snapshot_interval
            .store(interval.max(1), Ordering::Relaxed);
    }

    /// The largest index any server has applied.
    pub fn max_index(&self) -> u64 {
        self.checks.max_index.load(Ordering::SeqCst)
    }

    /// A handle background tasks use to run helper checks.
    pub fn finished(&self) -> bool {
        self.checks.finished.load(Ordering::SeqCst)
    }
}

impl Drop for Test {
    fn drop(&mut self) {
        self.checks.finished.store(true, Ordering::SeqCst);
        self.cfg.net().set_interceptor(None);
        self.observer.take();
        labrt::sim::set_step_check(None);
        if !std::thread::panicking() {
            if let Some(err) = self.checks.apply_err.lock().clone() {
                self.cfg.fatal(format!("apply error: {err}"));
            }
            self.cfg.end();
        }
    }
}
