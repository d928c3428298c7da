//! The Go raft suite's wrapper (raft1/test.go + raft1/server.go) on top of the
//! tester: a server wrapper per Raft peer that records what it applies, the
//! plain and snapshot appliers with their checks, and the helper checks the
//! tests call (check_one_leader, one, wait, n_committed, ...).
//!
//! Apply errors fail the test deterministically: the first one is recorded,
//! printed, and reported by the next helper check (and at the end of the test);
//! the applier that found it stops.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver};
use parking_lot::Mutex;
use raft::{ApplyMsg, Raft};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tester::{Config, Group, Persister, TestServer};

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

/// Sleeps where the Go test sleeps.
pub fn sleep(d: Duration) {
    std::thread::sleep(d);
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
    raft: Mutex<Option<Raft<TestCmd>>>,
    persister: Persister,
    applied: Mutex<Applied>,
}

impl RfSrv {
    /// The live Raft, or `None` once this incarnation was crashed.
    pub fn raft(&self) -> Option<Raft<TestCmd>> {
        self.raft.lock().clone()
    }
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
}

impl Checks {
    fn record_apply_error(&self, err: String) {
        println!("apply error: {err}");
        self.apply_err.lock().get_or_insert(err);
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
            let (mut err, prev_ok) = self.check_logs(&srv, index, &command);
            if index > 1 && !prev_ok {
                err = Some(format!("server {} apply out of order {index}", srv.me));
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
                            "server {} apply out of order, expected index {}, got {index}",
                            srv.me,
                            last_applied + 1
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
                    if (index + 1) % SNAPSHOT_INTERVAL == 0 {
                        let bytes = {
                            let applied = srv.applied.lock();
                            let xlog: Vec<Option<TestCmd>> =
                                (0..=index).map(|j| applied.logs.get(&j).cloned()).collect();
                            let mut enc = labgob::Encoder::new();
                            enc.encode(&index).encode(&xlog);
                            enc.finish()
                        };
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

/// One raft test: the tester's Config with Raft servers, plus the checks.
pub struct Test {
    cfg: Config<RfSrv>,
    checks: Arc<Checks>,
    n: usize,
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
        });
        let make = {
            let checks = Arc::clone(&checks);
            Arc::new(move |ends, _gid, i: usize, persister: Persister| {
                let (tx, rx) = channel::bounded(0);
                let raft = Raft::new(ends, i, persister.clone(), tx)
                    .unwrap_or_else(|e| panic!("server {i}: {e}"));
                let srv = Arc::new(RfSrv {
                    me: i,
                    raft: Mutex::new(Some(raft)),
                    persister: persister.clone(),
                    applied: Mutex::new(Applied::default()),
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
                std::thread::Builder::new()
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
            })
        };
        let cfg = Config::new(n, reliable, make);
        cfg.set_long_delays(true);
        Test { cfg, checks, n }
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
        if !std::thread::panicking() {
            if let Some(err) = self.checks.apply_err.lock().clone() {
                self.cfg.fatal(format!("apply error: {err}"));
            }
            self.cfg.end();
        }
    }
}
