//! Swarm tests (ours, not ported): per seed, a randomly drawn cluster and
//! fault schedule, run in simulation mode (a world of its own, whatever
//! `LAB_SIM` says), then healed and checked. They look for the bugs nobody
//! wrote a scenario for: a rare mix of delays, drops, partitions, crashes and
//! snapshots.
//!
//! Each seed draws: 3, 5 or 7 peers; a reliable or unreliable network, with or
//! without long reordering; the plain applier or the snapshotting one; whether
//! peers crash and restart; whether the network partitions; and a step length.
//! It then runs about ten virtual seconds of random client submissions and
//! faults, heals everything, and checks:
//! - every safety check of the suite, all the time (the harness's observer:
//!   at most one leader per term, terms never go back; the appliers: no index
//!   applied twice or with two commands, across peers and restarts);
//! - progress after healing: a new command reaches every peer within the
//!   harness's bound (`one`);
//! - every command seen committed (applied by a majority) during the run is
//!   applied, at its index, by every peer at the end.
//!
//! `SWARM_SEEDS=N` (default 20) seeds run per test, starting at `SWARM_SEED`
//! (default: drawn from the OS); a failure names its seed, its configuration
//! and the command that replays it exactly.

mod common;

use std::collections::BTreeMap;
use std::fmt;

use common::{Test, TestCmd};
use labrt::time::{Duration, Instant};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How long the faults go on, in virtual time.
const FAULT_PHASE: Duration = Duration::from_secs(10);

/// One seed's cluster and fault schedule.
#[derive(Clone, Debug)]
struct Swarm {
    peers: usize,
    reliable: bool,
    long_reordering: bool,
    snapshots: bool,
    crashes: bool,
    partitions: bool,
    step_ms: u64,
}

impl Swarm {
    fn draw(seed: u64) -> Swarm {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5_3a7a);
        Swarm {
            peers: [3, 3, 5, 5, 7][rng.random_range(0..5)],
            reliable: rng.random_bool(0.4),
            long_reordering: rng.random_bool(0.3),
            snapshots: rng.random_bool(0.5),
            crashes: rng.random_bool(0.6),
            partitions: rng.random_bool(0.7),
            step_ms: rng.random_range(20..400),
        }
    }
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} peers, {}{}{}{}{}, steps of {} ms",
            self.peers,
            if self.reliable {
                "reliable"
            } else {
                "unreliable"
            },
            if self.long_reordering {
                ", long reordering"
            } else {
                ""
            },
            if self.snapshots { ", snapshots" } else { "" },
            if self.crashes { ", crashes" } else { "" },
            if self.partitions { ", partitions" } else { "" },
            self.step_ms
        )
    }
}

/// Runs one seed of the swarm in the calling (simulated) thread.
fn run_swarm(seed: u64, swarm: &Swarm) {
    let n = swarm.peers;
    let ts = Test::new(n, swarm.reliable, swarm.snapshots);
    ts.begin(&format!("Swarm (ours): seed {seed}: {swarm}"));
    ts.cfg().set_long_reordering(swarm.long_reordering);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut crashed = vec![false; n];
    let mut seen: BTreeMap<u64, TestCmd> = BTreeMap::new();
    let mut next_cmd: i64 = 1;
    let start = Instant::now();
    while start.elapsed() < FAULT_PHASE {
        for _ in 0..rng.random_range(0..4) {
            let i = rng.random_range(0..n);
            if let Some(raft) = ts.raft(i) {
                let _ = raft.start(TestCmd::Int(next_cmd));
                next_cmd += 1;
            }
        }
        match rng.random_range(0..10) {
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
            _ => {}
        }
        labrt::thread::sleep(Duration::from_millis(swarm.step_ms));
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

    // Heal: every peer up and connected, the network reliable.
    for (i, down) in crashed.iter().enumerate() {
        if *down {
            ts.group().start_server(i);
        }
    }
    ts.group().connect_all();
    ts.cfg().set_reliable(true);
    ts.cfg().set_long_reordering(false);

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
    // Dropping the test prints the Passed line.
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be an unsigned integer, got {v:?}"))
    })
}

/// Runs `SWARM_SEEDS` seeds of `run_swarm`, each its own simulated world;
/// panics listing every failing seed with its replay command.
// Outside the worlds: the swarm's own wall time, with std's clock.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn swarm(test: &str) {
    let count = env_u64("SWARM_SEEDS").unwrap_or(20);
    let first = env_u64("SWARM_SEED").unwrap_or_else(labrt::rand::random_u64);
    let wall = std::time::Instant::now();
    let mut virtual_time = Duration::ZERO;
    let mut failures = Vec::new();
    for k in 0..count {
        let seed = first.wrapping_add(k);
        let swarm = Swarm::draw(seed);
        let config = swarm.clone();
        let (result, trace) = labrt::sim::run(seed, &format!("swarm-{seed}"), move || {
            run_swarm(seed, &config)
        });
        virtual_time += trace.elapsed;
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!(
                "seed {seed} ({swarm}): {message}\n  replay: SWARM_SEED={seed} SWARM_SEEDS=1 \
                 cargo test -p raft --test swarm_test -- --exact {test}"
            ));
        }
    }
    println!(
        "  ... swarm: {count} seeds from {first} in {:.1} s wall, {:.0} s virtual, {} failed",
        wall.elapsed().as_secs_f64(),
        virtual_time.as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {count} swarm seeds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The Raft swarm: random clusters and faults, healed and checked.
#[test]
fn swarm_raft() {
    swarm("swarm_raft");
}
