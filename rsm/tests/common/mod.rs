//! The rsm tests' service and fixture (Go's `rsm/server.go` and `rsm/test.go`).
//!
//! The service is a replicated counter: `Inc` increments it and returns the new
//! value, `Null` returns nothing, and `Dec` must never be committed (applying it
//! records a test failure, where Go aborts the process).

#![allow(dead_code)]

use labrt::time::{Duration, Instant};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use labrpc::{ClientEnd, Persister};
use labrt::sync::Mutex;
use rsm::{Rsm, StateMachine};
use serde::{Deserialize, Serialize};
use tester::{Config, Gid, TestServer};

/// Servers per test.
pub const NSRV: usize = 3;
/// Seconds `one_partition` keeps retrying.
pub const NSEC: u64 = 10;
/// The group the tests use.
pub const GID: Gid = 0;

/// A request to the counter service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Req {
    /// Increment and return the new value.
    Inc,
    /// Do nothing.
    Null,
    /// Must never be applied.
    Dec,
}

/// The reply to an `Inc`: the counter right after that increment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncRep {
    pub n: i64,
}

/// What applying a request returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rep {
    Inc(IncRep),
    Null,
}

/// Failures seen inside state machines (Go aborts the process instead).
pub type Violations = Arc<Mutex<Vec<String>>>;

/// The counter state machine (Go's `rsmSrv`).
pub struct Counter {
    me: usize,
    counter: i64,
    violations: Violations,
}

impl StateMachine for Counter {
    type Op = Req;
    type Output = Rep;

    fn apply(&mut self, req: Req) -> Rep {
        match req {
            Req::Inc => {
                self.counter += 1;
                Rep::Inc(IncRep { n: self.counter })
            }
            Req::Null => Rep::Null,
            other => {
                let msg = format!("DoOp should execute only Inc and not {other:?}");
                eprintln!("{msg}");
                self.violations.lock().push(msg);
                Rep::Null
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labgob::encode(&self.counter)
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        self.counter = labgob::decode(snapshot).inspect_err(|e| {
            let msg = format!("{} couldn't decode counter: {e}", self.me);
            eprintln!("{msg}");
            self.violations.lock().push(msg);
        })?;
        Ok(())
    }
}

/// One server of the test: only its Raft is an RPC service (as in Go).
pub struct RsmSrv {
    pub me: usize,
    pub rsm: Arc<Rsm<Counter>>,
}

impl RsmSrv {
    /// The counter's current value.
    pub fn counter(&self) -> i64 {
        self.rsm.with_state_machine(|c| c.counter)
    }
}

impl TestServer for RsmSrv {
    fn services(&self) -> Vec<labrpc::Service> {
        self.rsm.services()
    }

    fn kill(&self) {
        self.rsm.kill();
    }
}

/// The fixture (Go's `rsm.Test`).
pub struct Test {
    pub cfg: Config<RsmSrv>,
    /// Each slot's latest instance, dead or alive (Go's `ts.srvs`).
    srvs: Arc<Mutex<Vec<Option<Arc<RsmSrv>>>>>,
    /// The server that last answered (Go's `ts.leader`).
    leader: AtomicUsize,
    violations: Violations,
}

impl Test {
    /// Starts `NSRV` servers on a reliable network (Go's `makeTest`).
    pub fn new(maxraftstate: Option<usize>) -> Test {
        let srvs: Arc<Mutex<Vec<Option<Arc<RsmSrv>>>>> = Arc::new(Mutex::new(vec![None; NSRV]));
        let violations: Violations = Arc::default();
        let make = {
            let srvs = Arc::clone(&srvs);
            let violations = Arc::clone(&violations);
            Arc::new(
                move |ends: Vec<ClientEnd>, _gid: Gid, me: usize, persister: Persister| {
                    let counter = Counter {
                        me,
                        counter: 0,
                        violations: Arc::clone(&violations),
                    };
                    let rsm = Rsm::new(ends, me, persister, maxraftstate, counter)
                        .unwrap_or_else(|e| panic!("server {me} failed to start: {e}"));
                    let srv = Arc::new(RsmSrv { me, rsm });
                    srvs.lock()[me] = Some(Arc::clone(&srv));
                    srv
                },
            )
        };
        let cfg = Config::new(NSRV, true, make);
        Test {
            cfg,
            srvs,
            leader: AtomicUsize::new(0),
            violations,
        }
    }

    /// Server `i`'s latest instance.
    pub fn srv(&self, i: usize) -> Arc<RsmSrv> {
        self.srvs.lock()[i].clone().expect("server was started")
    }

    #[track_caller]
    fn check_violations(&self) {
        if let Some(msg) = self.violations.lock().first() {
            self.cfg.fatal(msg);
        }
    }

    /// Submits `req` to the servers in `p` (all if `None`) that are connected,
    /// starting at the last leader, until one commits it; gives up after `NSEC`
    /// seconds.
    pub fn one_partition(&self, p: Option<&[usize]>, req: Req) -> Option<Rep> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(NSEC) {
            let first = self.leader.load(Ordering::SeqCst);
            for k in 0..NSRV {
                let index = (first + k) % NSRV;
                if !self.cfg.group().is_connected(index) {
                    continue;
                }
                if p.is_some_and(|p| !p.contains(&index)) {
                    continue;
                }
                let Some(srv) = self.srvs.lock()[index].clone() else {
                    continue;
                };
                if let Ok(rep) = srv.rsm.submit(req.clone()) {
                    self.leader.store(index, Ordering::SeqCst);
                    return Some(rep);
                }
            }
            labrt::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// [`Test::one_partition`] (all servers) for a thread that may outlive
    /// its test: it holds the fixture only weakly while a submit blocks, so a
    /// failed test is torn down on its own thread (its servers killed, which
    /// releases the submit). `None` also once the test is gone.
    pub fn one_partition_detached(this: &Weak<Test>, req: Req) -> Option<Rep> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(NSEC) {
            let candidates: Vec<(usize, Arc<RsmSrv>)> = {
                let ts = this.upgrade()?;
                let first = ts.leader.load(Ordering::SeqCst);
                let srvs = ts.srvs.lock().clone();
                (0..NSRV)
                    .map(|k| (first + k) % NSRV)
                    .filter(|&index| ts.cfg.group().is_connected(index))
                    .filter_map(|index| srvs[index].clone().map(|srv| (index, srv)))
                    .collect()
            };
            for (index, srv) in candidates {
                if let Ok(rep) = srv.rsm.submit(req.clone()) {
                    if let Some(ts) = this.upgrade() {
                        ts.leader.store(index, Ordering::SeqCst);
                    }
                    return Some(rep);
                }
            }
            labrt::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// [`Test::one_inc`] for a thread that may outlive its test (see
    /// [`Test::one_partition_detached`]); returns `None`, without failing,
    /// once the test is gone.
    #[track_caller]
    pub fn one_inc_detached(this: &Weak<Test>) -> Option<IncRep> {
        let result = Test::one_partition_detached(this, Req::Inc);
        let ts = this.upgrade()?;
        match result {
            Some(Rep::Inc(r)) => Some(r),
            Some(other) => ts.cfg.fatal(format!("Inc returned {other:?}")),
            None => ts
                .cfg
                .fatal(format!("no server committed an Inc within {NSEC} s")),
        }
    }

    /// One `Inc` committed by whichever server leads; fails the test if none
    /// commits within `NSEC` seconds (Go dereferences nil there).
    #[track_caller]
    pub fn one_inc(&self) -> IncRep {
        match self.one_partition(None, Req::Inc) {
            Some(Rep::Inc(r)) => r,
            Some(other) => self.cfg.fatal(format!("Inc returned {other:?}")),
            None => self
                .cfg
                .fatal(format!("no server committed an Inc within {NSEC} s")),
        }
    }

    /// One `Null` committed (or nothing, after `NSEC` seconds).
    pub fn one_null(&self) -> Option<Rep> {
        self.one_partition(None, Req::Null)
    }

    /// Waits (10 ms, doubling up to 1.28 s, 30 tries) until at least `nsrv`
    /// servers' counters equal `v`.
    #[track_caller]
    pub fn check_counter(&self, v: i64, nsrv: usize) {
        let mut to = Duration::from_millis(10);
        let mut n = 0;
        for _ in 0..30 {
            self.check_violations();
            n = self.count_value(v);
            if n >= nsrv {
                return;
            }
            labrt::thread::sleep(to);
            if to < Duration::from_secs(1) {
                to *= 2;
            }
        }
        self.cfg.fatal(format!(
            "checkCounter: only {n} srvs have {v} instead of {nsrv}"
        ));
    }

    fn count_value(&self, v: i64) -> usize {
        let srvs: Vec<Arc<RsmSrv>> = self.srvs.lock().iter().flatten().cloned().collect();
        srvs.iter().filter(|s| s.counter() == v).count()
    }

    /// Cuts the last leader off from everyone and returns its index.
    pub fn disconnect_leader(&self) -> usize {
        let l = self.leader.load(Ordering::SeqCst);
        self.cfg.group().disconnect_all(l);
        l
    }

    /// Reconnects server `i` to everyone connected.
    pub fn connect(&self, i: usize) {
        self.cfg.group().connect_one(i);
    }

    /// The first server whose Raft says it leads (Go's `rsm.Leader`).
    pub fn leader(&self) -> Option<usize> {
        let group = self.cfg.group();
        (0..group.n()).find(|&i| group.service(i).is_some_and(|s| s.rsm.raft().get_state().1))
    }
}

impl Drop for Test {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check_violations();
            self.cfg.end();
        }
    }
}
