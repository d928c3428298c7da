//! Swarm tests (ours, not ported): per seed, a randomly drawn cluster and
//! fault schedule, run in simulation mode (a world of its own, whatever
//! `LAB_SIM` says), then healed and checked. They look for the bugs nobody
//! wrote a scenario for: a rare mix of delays, drops, partitions, crashes and
//! snapshots.
//!
//! Each seed draws (`tester::swarm`): 3, 5 or 7 peers; a reliable or
//! unreliable network, with or without long reordering; the plain applier or
//! the snapshotting one, and how often it snapshots; whether peers crash and
//! restart; whether the network partitions; whether one peer is cut off for
//! long stretches (it then catches up by InstallSnapshot when snapshots are
//! on); whether a peer is crashed right after it answered a RequestVote or an
//! AppendEntries (its answer still arrives); whether one request is held in
//! the network past an election timeout and delivered late; and a step
//! length. It then runs `secs` virtual seconds (default 10) of random client
//! submissions and faults, heals everything, and checks:
//! - every safety check of the suite, after every scheduling step (the
//!   harness's step check: at most one leader per term, terms never go back;
//!   the appliers: no index applied twice or with two commands, across peers
//!   and restarts);
//! - progress after healing: a new command reaches every peer within the
//!   harness's bound (`one`);
//! - every command seen committed (applied by a majority) during the run is
//!   applied, at its index, by every peer at the end;
//! - stability: once healed, the term stops moving (2 s without an election,
//!   within 12 s).
//!
//! Seeds: `SWARM_SEED=S SWARM_SEEDS=N`, or `LAB_SEED=S` for one seed, else 20
//! random ones; `SWARM_CONFIG="peers=3 crashes=off"` overrides knobs. A failure
//! names its seed, its configuration and the command that replays it exactly.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use common::{Test, TestCmd};
use labrpc::{Gate, Verdict};
use labrt::sync::Mutex;
use labrt::time::{Duration, Instant};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tester::swarm::{self, Draw, Spec};

/// One seed's cluster and fault schedule.
#[derive(Clone, Debug)]
struct Swarm {
    peers: usize,
    load: bool,
    unreliable: bool,
    reordering: bool,
    snapshots: bool,
    snap_every: u64,
    crashes: bool,
    partitions: bool,
    isolation: bool,
    crash_after_reply: bool,
    late_requests: bool,
    leader_crashes: bool,
    step_ms: u64,
    secs: u64,
}

fn draw(d: &mut Draw) -> Swarm {
    Swarm {
        peers: d.choice("peers", &[3, 3, 5, 5, 7]) as usize,
        load: d.flag("load", 1.0),
        unreliable: d.flag("unreliable", 0.6),
        reordering: d.flag("reordering", 0.3),
        snapshots: d.flag("snapshots", 0.5),
        snap_every: d.number("snap_every", 1..30),
        crashes: d.flag("crashes", 0.6),
        partitions: d.flag("partitions", 0.7),
        isolation: d.flag("isolation", 0.3),
        crash_after_reply: d.flag("crash_after_reply", 0.4),
        late_requests: d.flag("late_requests", 0.3),
        leader_crashes: d.flag("leader_crashes", 0.3),
        step_ms: d.number("step", 20..400),
        secs: d.length("secs", 10, 1),
    }
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} peers{}, {}",
            self.peers,
            if self.load { "" } else { " (elections only)" },
            if self.unreliable {
                "unreliable"
            } else {
                "reliable"
            }
        )?;
        for (on, what) in [
            (self.reordering, "long reordering".to_string()),
            (
                self.snapshots,
                format!("snapshots every {}", self.snap_every),
            ),
            (self.crashes, "crashes".to_string()),
            (self.partitions, "partitions".to_string()),
            (self.isolation, "isolation".to_string()),
            (self.crash_after_reply, "crashes after a reply".to_string()),
            (self.late_requests, "late requests".to_string()),
            (self.leader_crashes, "leader crashes".to_string()),
        ] {
            if on {
                write!(f, ", {what}")?;
            }
        }
        write!(f, ", steps of {} ms, {} s", self.step_ms, self.secs)
    }
}

/// What the one intercepted call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    /// The callee is crashed as soon as it has answered; the answer arrives.
    CrashAfterReply,
    /// The request is delivered late, past an election timeout.
    Late,
}

/// The interceptor's state: at most one call is held at a time.
#[derive(Default)]
struct Holding {
    /// The next call of this method (any Raft call if `None`) is held this
    /// way, at this gate.
    armed: Option<(Hold, Gate, Option<&'static str>)>,
    /// The call held: how, the gate, the callee, since when.
    held: Option<(Hold, Gate, usize, Instant)>,
}

/// How long a late request stays in the network.
const LATE_BY: Duration = Duration::from_millis(1500);

/// Runs one seed of the swarm in the calling (simulated) thread.
fn run_swarm(seed: u64, swarm: &Swarm) {
    let n = swarm.peers;
    let ts = Test::new(n, !swarm.unreliable, swarm.snapshots);
    ts.begin(&format!("Swarm (ours): seed {seed}: {swarm}"));
    ts.cfg().set_long_reordering(swarm.reordering);
    ts.set_snapshot_interval(swarm.snap_every);
    let holding = Arc::new(Mutex::new(Holding::default()));
    if swarm.crash_after_reply || swarm.late_requests {
        let holding = Arc::clone(&holding);
        ts.set_links(Some(Arc::new(move |_from, to, call| {
            let mut h = holding.lock();
            match h.armed.take() {
                Some((kind, gate, method)) if method.is_none_or(|m| m == call.method) => {
                    h.held = Some((kind, gate.clone(), to, Instant::now()));
                    match kind {
                        Hold::CrashAfterReply => Verdict::HoldReply(gate),
                        Hold::Late => Verdict::HoldRequest(gate),
                    }
                }
                other => {
                    h.armed = other;
                    Verdict::Deliver
                }
            }
        })));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut crashed = vec![false; n];
    let mut seen: BTreeMap<u64, TestCmd> = BTreeMap::new();
    let mut next_cmd: i64 = 1;
    let mut restart_next = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(swarm.secs) {
        let step_end = Instant::now() + Duration::from_millis(swarm.step_ms);
        let mut crash_gate = None;
        for _ in 0..rng.random_range(0..4) {
            let i = rng.random_range(0..n);
            if !swarm.load {
                continue;
            }
            if let Some(raft) = ts.raft(i) {
                let _ = raft.start(TestCmd::Int(next_cmd));
                next_cmd += 1;
            }
        }
        match rng.random_range(0..13) {
            0 | 1 if swarm.partitions => {
                let mut side: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
                side[rng.random_range(0..n)] = true;
                let p1: Vec<usize> = (0..n).filter(|&i| side[i]).collect();
                let p2: Vec<usize> = (0..n).filter(|&i| !side[i]).collect();
                ts.group().partition(&p1, &p2);
            }
            2 if swarm.partitions => ts.group().connect_all(),
            3 if swarm.crashes => {
                let i = rng.random_range(0..n);
                if !crashed[i] {
                    ts.group().shutdown_server(i);
                    crashed[i] = true;
                }
            }
            4 if swarm.crashes => {
                let i = rng.random_range(0..n);
                if crashed[i] {
                    ts.group().start_server(i);
                    ts.group().connect_one(i);
                    crashed[i] = false;
                }
            }
            5 if swarm.isolation => ts.group().disconnect_all(rng.random_range(0..n)),
            6 if swarm.isolation => ts.group().connect_one(rng.random_range(0..n)),
            7 | 8 if swarm.crash_after_reply || swarm.late_requests => {
                let mut h = holding.lock();
                if h.armed.is_none() && h.held.is_none() {
                    let kind = match (swarm.crash_after_reply, swarm.late_requests) {
                        (true, true) if rng.random_bool(0.5) => Hold::Late,
                        (true, _) => Hold::CrashAfterReply,
                        _ => Hold::Late,
                    };
                    let gate = Gate::new();
                    let method = match kind {
                        Hold::CrashAfterReply => {
                            crash_gate = Some(gate.clone());
                            Some(if rng.random_bool(0.6) {
                                "Raft.RequestVote"
                            } else {
                                "Raft.AppendEntries"
                            })
                        }
                        Hold::Late if swarm.snapshots && rng.random_bool(0.5) => {
                            Some("Raft.InstallSnapshot")
                        }
                        Hold::Late => None,
                    };
                    h.armed = Some((kind, gate, method));
                }
            }
            9 if swarm.leader_crashes => {
                // Figure 8's pattern: the newest leader crashes, often with
                // entries only it has.
                let leader = (0..n)
                    .filter_map(|i| match ts.state(i) {
                        Some((term, true)) => Some((term, i)),
                        _ => None,
                    })
                    .max();
                if let Some((_, i)) = leader {
                    ts.group().shutdown_server(i);
                    crashed[i] = true;
                }
            }
            10 if swarm.leader_crashes => {
                for (i, down) in crashed.iter_mut().enumerate() {
                    if *down && rng.random_bool(0.5) {
                        ts.group().start_server(i);
                        ts.group().connect_one(i);
                        *down = false;
                    }
                }
            }
            _ => {}
        }
        // A victim crashed after its reply restarts a step later, likely in
        // the term it answered in.
        if let Some(i) = restart_next.take()
            && crashed[i]
        {
            ts.group().start_server(i);
            ts.group().connect_one(i);
            crashed[i] = false;
        }
        // A crash after a reply comes the moment the answer is held.
        if let Some(gate) = crash_gate
            && gate.wait_held(1, Duration::from_millis(swarm.step_ms))
        {
            restart_next = release_held(&ts, &holding, &mut crashed, false);
        }
        labrt::time::sleep_until(step_end);
        if let Some(victim) = release_held(&ts, &holding, &mut crashed, false) {
            restart_next = Some(victim);
        }
        ts.check_failure();
        // What a majority has applied is committed: remember it.
        for index in seen.keys().next_back().map_or(1, |i| i + 1)..=ts.max_index() {
            let (count, cmd) = ts.n_committed(index);
            match cmd {
                Some(cmd) if count > n / 2 => {
                    seen.insert(index, cmd);
                }
                _ => break,
            }
        }
    }

    // Heal: nothing held, every peer up and connected, the network reliable.
    holding.lock().armed.take();
    release_held(&ts, &holding, &mut crashed, true);
    ts.set_links(None);
    for (i, down) in crashed.iter().enumerate() {
        if *down {
            ts.group().start_server(i);
        }
    }
    ts.group().connect_all();
    ts.cfg().set_reliable(true);
    ts.cfg().set_long_reordering(false);

    if !swarm.load {
        // Elections only (3A): one leader emerges once healed, and once
        // every peer has heard of its term (a peer cut off for long comes
        // back with a higher term and forces one more election), it stays.
        let settled = Instant::now();
        loop {
            ts.check_one_leader();
            let terms: Vec<u64> = (0..n).filter_map(|i| ts.state(i)).map(|(t, _)| t).collect();
            if terms.iter().min() == terms.iter().max() {
                break;
            }
            if settled.elapsed() > Duration::from_secs(10) {
                ts.fatal(format!(
                    "healed, the peers' terms still differ after 10 s: {terms:?}"
                ));
            }
            common::sleep(Duration::from_millis(500));
        }
        check_stable(&ts);
        return;
    }
    // Progress: a new command reaches every peer within the harness's bound,
    // and with it everything before it.
    let last = ts.one(TestCmd::Int(next_cmd), n, true);
    for (&index, cmd) in &seen {
        if index > last {
            ts.fatal(format!(
                "index {index} was committed during the faults but is past the final index {last}"
            ));
        }
        let (count, now) = ts.n_committed(index);
        if count != n || now.as_ref() != Some(cmd) {
            ts.fatal(format!(
                "index {index} was committed with {cmd} during the faults; at the end {count} of {n} \
                 peers hold {}",
                now.map_or("nothing".to_string(), |c| c.to_string())
            ));
        }
    }
    check_stable(&ts);
    // Dropping the test prints the Passed line.
}

/// How long a healed cluster must keep its term, once settled.
const STABLE_FOR: Duration = Duration::from_secs(2);

/// How many [`STABLE_FOR`] windows a healed cluster gets to settle: a call
/// sent into a partition fails only after labrpc's long delay (up to 7 s),
/// and a peer whose sender waited on one may time out once more after the
/// heal.
const SETTLE_WINDOWS: u32 = 6;

/// Once healed, nothing fails: within [`SETTLE_WINDOWS`] windows the term
/// must stop moving for a whole window (Go's tests only warn "term changed
/// even though there were no failures"; a term that keeps moving with every
/// message delivered is a bug: a leader that stops sending heartbeats, or
/// re-elects itself).
fn check_stable(ts: &Test) {
    let highest = |ts: &Test| {
        (0..ts.cfg().group().n())
            .filter_map(|i| ts.state(i))
            .map(|(t, _)| t)
            .max()
            .unwrap_or(0)
    };
    let first = highest(ts);
    let mut before = first;
    for _ in 0..SETTLE_WINDOWS {
        common::sleep(STABLE_FOR);
        let after = highest(ts);
        if after == before {
            return;
        }
        before = after;
    }
    ts.fatal(format!(
        "the term kept moving ({first} to {before}) for {:?} after healing, with nothing \
         failing: in no {STABLE_FOR:?} did it stay put (elections without failures)",
        STABLE_FOR * SETTLE_WINDOWS
    ));
}

/// Lets the held call go on once its moment has come (or at once if
/// `now`): a crash-after-reply victim is crashed first, once its answer is
/// held; a late request after [`LATE_BY`]. Returns the victim it crashed.
fn release_held(
    ts: &Test,
    holding: &Mutex<Holding>,
    crashed: &mut [bool],
    now: bool,
) -> Option<usize> {
    let mut h = holding.lock();
    let (kind, gate, victim, since) = h.held.clone()?;
    let mut crashed_victim = None;
    match kind {
        Hold::CrashAfterReply => {
            if gate.held() > 0 && !crashed[victim] {
                drop(h);
                ts.group().shutdown_server(victim);
                crashed[victim] = true;
                crashed_victim = Some(victim);
                h = holding.lock();
            } else if gate.held() == 0 && !now && since.elapsed() < LATE_BY {
                // Not answered yet (the request may be on its way).
                return None;
            }
        }
        Hold::Late if !now && since.elapsed() < LATE_BY => return None,
        Hold::Late => {}
    }
    h.held = None;
    drop(h);
    gate.open();
    crashed_victim
}

/// Where `test` of this file is, for its replay command.
fn spec(test: &'static str) -> Spec {
    Spec {
        package: "raft",
        binary: "swarm_test",
        test,
    }
}

/// The Raft swarm, everything on (what lab 3D's Raft must survive): random
/// clusters and faults, healed and checked.
#[test]
fn swarm_raft() {
    swarm::run(spec("swarm_raft"), draw, run_swarm);
}

/// Lab 3A's share: elections only (no commands, no crashes), partitions and
/// an unreliable network; at most one leader per term, and one once healed.
#[test]
fn swarm_raft_elections() {
    swarm::run_with(spec("swarm_raft_elections"), ELECTIONS, draw, run_swarm);
}

/// Lab 3B's share: commands under partitions, isolation, an unreliable
/// network and late requests; no crashes, no snapshots.
#[test]
fn swarm_raft_agreement() {
    swarm::run_with(spec("swarm_raft_agreement"), AGREEMENT, draw, run_swarm);
}

/// Lab 3C's share: lab 3B's faults plus crashes and restarts (of leaders, and
/// right after a reply), long reordering; no snapshots.
#[test]
fn swarm_raft_persistence() {
    swarm::run_with(spec("swarm_raft_persistence"), PERSISTENCE, draw, run_swarm);
}

/// The knobs lab 3A's swarm fixes.
const ELECTIONS: &str = "load=off snapshots=off crashes=off crash_after_reply=off \
                         leader_crashes=off late_requests=off";
/// The knobs lab 3B's swarm fixes.
const AGREEMENT: &str = "snapshots=off crashes=off crash_after_reply=off leader_crashes=off";
/// The knobs lab 3C's swarm fixes.
const PERSISTENCE: &str = "snapshots=off";
