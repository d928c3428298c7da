//! Scripted rsm scenarios (ours, not in the Go suite): each drives one
//! situation step by step, where the ported tests only reach it by chance.

use labrt::time::{Duration, Instant};
use std::sync::Arc;

use labrpc::{ClientEnd, Persister};
use labrt::channel::{self, Receiver};
use labrt::sync::{Condvar, Mutex};
use rsm::{Rsm, StateMachine, SubmitError};
use serde::{Deserialize, Serialize};
use tester::{Config, Gid, TestServer};

/// Servers per test.
const NSRV: usize = 3;

/// Padding of the new leader's op in `lost_submit_4a`: big enough that the old
/// leader's persisted Raft state visibly grows once it has stored that entry.
const PAD: usize = 4000;

/// How long a scripted step may take before the scenario gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// A named op: applying it increments the counter; the padding only makes the
/// log entry big.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Req {
    name: String,
    pad: Vec<u8>,
}

impl Req {
    fn new(name: &str, pad: usize) -> Req {
        Req {
            name: name.to_string(),
            pad: vec![7; pad],
        }
    }
}

/// What applying a [`Req`] returns: which op it was and the counter after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rep {
    name: String,
    n: i64,
}

/// Holds a replica's applies while closed: the replica's apply path stops
/// inside `StateMachine::apply`, and whatever Raft commits meanwhile queues up
/// behind it.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    closed: bool,
    /// Applies currently waiting at the closed gate.
    waiting: usize,
}

impl Gate {
    fn close(&self) {
        self.state.lock().closed = true;
    }

    fn open(&self) {
        self.state.lock().closed = false;
        self.changed.notify_all();
    }

    /// Called by `apply`: waits while the gate is closed.
    fn pass(&self) {
        let mut state = self.state.lock();
        if state.closed {
            state.waiting += 1;
            self.changed.notify_all();
            while state.closed {
                self.changed.wait(&mut state);
            }
            state.waiting -= 1;
        }
    }

    /// Waits until an apply is held at the gate; false after `timeout`.
    fn wait_held(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        while state.waiting == 0 {
            if self.changed.wait_until(&mut state, deadline).timed_out() {
                return state.waiting > 0;
            }
        }
        true
    }
}

/// The counter state machine, with its replica's gate.
struct Gated {
    counter: i64,
    gate: Arc<Gate>,
}

impl StateMachine for Gated {
    type Op = Req;
    type Output = Rep;

    fn apply(&mut self, req: Req) -> Rep {
        self.gate.pass();
        self.counter += 1;
        Rep {
            name: req.name,
            n: self.counter,
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labgob::encode(&self.counter)
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        self.counter = labgob::decode(snapshot)?;
        Ok(())
    }
}

struct Srv {
    rsm: Arc<Rsm<Gated>>,
}

impl TestServer for Srv {
    fn services(&self) -> Vec<labrpc::Service> {
        self.rsm.services()
    }

    fn kill(&self) {
        self.rsm.kill();
    }
}

/// Three gated counter replicas on a reliable network.
struct Scenario {
    cfg: Config<Srv>,
    gates: Vec<Arc<Gate>>,
}

impl Scenario {
    fn new() -> Scenario {
        let gates: Vec<Arc<Gate>> = (0..NSRV).map(|_| Arc::default()).collect();
        let make = {
            let gates = gates.clone();
            Arc::new(
                move |ends: Vec<ClientEnd>, _gid: Gid, me: usize, persister: Persister| {
                    let sm = Gated {
                        counter: 0,
                        gate: Arc::clone(&gates[me]),
                    };
                    let rsm = Rsm::new(ends, me, persister, None, sm)
                        .unwrap_or_else(|e| panic!("server {me} failed to start: {e}"));
                    Arc::new(Srv { rsm })
                },
            )
        };
        Scenario {
            cfg: Config::new(NSRV, true, make),
            gates,
        }
    }

    fn srv(&self, i: usize) -> Arc<Srv> {
        self.cfg.group().service(i).expect("server is up")
    }

    /// Submits `req` to the servers in `among` in turn until one commits it;
    /// the server that did and its result.
    #[track_caller]
    fn commit(&self, among: &[usize], req: &Req) -> (usize, Rep) {
        let start = Instant::now();
        while start.elapsed() < STEP_TIMEOUT {
            for &i in among {
                if let Ok(rep) = self.srv(i).rsm.submit(req.clone()) {
                    return (i, rep);
                }
            }
            labrt::thread::sleep(Duration::from_millis(50));
        }
        self.cfg.fatal(format!(
            "servers {among:?} did not commit {} within {STEP_TIMEOUT:?}",
            req.name
        ))
    }

    /// Waits until every replica's counter is `n`.
    #[track_caller]
    fn check_counters(&self, n: i64) {
        let start = Instant::now();
        loop {
            let counters: Vec<i64> = (0..NSRV)
                .map(|i| self.srv(i).rsm.with_state_machine(|sm| sm.counter))
                .collect();
            if counters.iter().all(|&c| c == n) {
                return;
            }
            if start.elapsed() > STEP_TIMEOUT {
                self.cfg.fatal(format!(
                    "counters are {counters:?}, expected {n} everywhere"
                ));
            }
            labrt::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `cond` holds, polling; fails the test with `what` after
    /// [`STEP_TIMEOUT`].
    #[track_caller]
    fn wait_for(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while !cond() {
            if start.elapsed() > STEP_TIMEOUT {
                self.cfg
                    .fatal(format!("{what} did not happen within {STEP_TIMEOUT:?}"));
            }
            labrt::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        // No apply may stay held: a replica's apply thread must see its kill.
        for gate in &self.gates {
            gate.open();
        }
        if !std::thread::panicking() {
            self.cfg.end();
        }
    }
}

/// Runs `submit` on `srv` on its own thread; the receiver gets its result.
fn submit_in_background(srv: Arc<Srv>, req: Req) -> Receiver<Result<Rep, SubmitError>> {
    let (tx, rx) = channel::bounded(1);
    labrt::thread::spawn(move || {
        let _ = tx.send(srv.rsm.submit(req));
    });
    rx
}

/// A submit whose entry was overwritten by another op at its index returns
/// ErrWrongLeader, never that other op's result (rsm's one rule: a submit
/// returns what applying *its own* op produced).
///
/// The steps, and why they force the bug to show:
/// 1. Leader L commits op A, but L's apply of A is held at L's gate, so
///    everything L applies later queues behind A.
/// 2. L is cut off and accepts submit B at index i (it still believes it
///    leads; B can never commit: no other server has it).
/// 3. The other two elect a new leader, which commits op X at index i.
/// 4. L rejoins and stores X (its persisted state grows by X's padding, which
///    shows that it has X, and the new leader's commit index, which covers
///    X); only then is the gate opened.
///
/// L's apply path now holds A, then X at B's index, with L's step-down report
/// queued beside them. A submit that takes whatever op was applied at its
/// index returns X's result to B, however quickly the replica notices the
/// new term; a correct one returns ErrWrongLeader. (Without the gate the
/// step-down usually arrives first and hides the bug.)
#[test]
fn lost_submit_4a() {
    let ts = Scenario::new();
    ts.cfg
        .begin("Test: a cut-off leader's submit overwritten at its index (4A)");
    let group = ts.cfg.group();

    // A leader that has applied the first op everywhere.
    let (mut l, first) = ts.commit(&[0, 1, 2], &Req::new("first", 0));
    ts.check_counters(first.n);
    // An election in between would make the script's leader a follower.
    let mut term = 0;
    ts.wait_for("a stable leader", || {
        for i in 0..NSRV {
            let (t, leader) = ts.srv(i).rsm.raft().get_state();
            if leader {
                (l, term) = (i, t);
                return true;
            }
        }
        false
    });
    let others: Vec<usize> = (0..NSRV).filter(|&i| i != l).collect();

    // 1. L commits A; its apply of A is held at the gate.
    ts.gates[l].close();
    let a = submit_in_background(ts.srv(l), Req::new("A", 0));
    if !ts.gates[l].wait_held(STEP_TIMEOUT) {
        ts.cfg.fatal("the leader did not commit and apply op A");
    }
    // Every replica stores A; the followers applying it shows L committed it.
    ts.wait_for("the followers applying A", || {
        others
            .iter()
            .all(|&i| ts.srv(i).rsm.with_state_machine(|sm| sm.counter) == first.n + 1)
    });
    if ts.srv(l).rsm.raft().get_state() != (term, true) {
        ts.cfg.fatal(format!(
            "server {l} stopped leading term {term} before the scenario could cut it off"
        ));
    }

    // 2. L is cut off and accepts B.
    group.disconnect_all(l);
    let b = submit_in_background(ts.srv(l), Req::new("B", 0));

    // 3. The others elect a leader and commit X at B's index.
    let (_, x) = ts.commit(&others, &Req::new("X", PAD));
    if x.n != first.n + 2 {
        ts.cfg.fatal(format!(
            "the new leader's X is op {} instead of {}",
            x.n,
            first.n + 2
        ));
    }
    match b.try_recv() {
        Ok(Ok(rep)) => ts.cfg.fatal(format!(
            "submit B on the cut-off leader completed with {rep:?}"
        )),
        Ok(Err(e)) => ts.cfg.fatal(format!(
            "submit B on the cut-off leader returned {e} before it rejoined: it did not accept B"
        )),
        Err(_) => {}
    }

    // 4. L rejoins and stores X (its Raft state grows by X's padding).
    let before = group.persister(l).raft_state_size();
    ts.connect_and_wait_for_entry(l, before);
    ts.gates[l].open();

    match b.recv_timeout(STEP_TIMEOUT) {
        Ok(Err(SubmitError::WrongLeader)) => {}
        Ok(Ok(rep)) if rep.name != "B" => ts.cfg.fatal(format!(
            "submit B returned {rep:?}: the result of op {}, which the new leader committed at B's index",
            rep.name
        )),
        Ok(Ok(rep)) => ts
            .cfg
            .fatal(format!("submit B returned {rep:?}, but B was never committed")),
        Err(_) => ts.cfg.fatal(format!(
            "submit B did not return within {STEP_TIMEOUT:?} after its leader rejoined"
        )),
    }
    match a.recv_timeout(STEP_TIMEOUT) {
        Ok(Ok(rep)) if rep.name != "A" => ts
            .cfg
            .fatal(format!("submit A returned another op's result {rep:?}")),
        Ok(_) => {}
        Err(_) => ts.cfg.fatal("submit A did not return"),
    }
    ts.check_counters(x.n);
}

impl Scenario {
    /// Reconnects `l` and waits until its persisted Raft state has grown by
    /// most of [`PAD`] from `before`: it then stores the new leader's padded
    /// entry, received with a commit index that covers it. Then waits for a
    /// few more RPCs to reach it, so that its Raft has handed the entry to the
    /// apply path.
    #[track_caller]
    fn connect_and_wait_for_entry(&self, l: usize, before: usize) {
        let group = self.cfg.group();
        group.connect_one(l);
        self.wait_for("the old leader storing the new leader's entry", || {
            group.persister(l).raft_state_size() >= before + PAD / 2
        });
        let rpcs = group.rpc_count(l);
        self.wait_for("three more RPCs to the old leader", || {
            group.rpc_count(l) >= rpcs + 3
        });
    }
}
