//! The KV swarm (ours, not ported): per seed, a randomly drawn cluster of 2025
//! KV servers, clients and faults, run in simulation mode (a world of its own,
//! whatever `LAB_SIM` says), then healed and checked.
//!
//! Each seed draws (`tester::swarm`): 3, 5 or 7 servers; 1 to 5 clients doing
//! Go's OnePut loop (a versioned Put, then a Get that checks it), with 0 to 100
//! ms of thinking between one and the next, on one key or on random keys; a reliable or unreliable network, with or without long
//! reordering; snapshots (and how small `maxraftstate` is) or none; whether
//! servers crash and restart, one at a time, under load; whether the network
//! partitions; and a step length. Clients run for `secs` virtual seconds
//! (default 10) while the faults go on; then everything heals and the seed
//! checks:
//! - Election Safety after every scheduling step (a step check over every
//!   live server's Raft: at most one leader per term);
//! - exactly-once writes: on one key, the final version lies between the Puts
//!   that returned OK and those plus the ones that returned ErrMaybe;
//! - progress after healing: a fresh clerk's Put and Get finish within
//!   [`HEALED_WITHIN`];
//! - the whole history is linearizable (porcupine, versioned KV model; an
//!   illegal history is drawn as HTML, as in the ported tests);
//! - the logs were trimmed when snapshots are on, as in Go's GenericTest.
//!
//! Seeds: `SWARM_SEED=S SWARM_SEEDS=N`, or `LAB_SEED=S` for one seed, else 20
//! random ones; `SWARM_CONFIG="servers=3 crashes=off"` overrides knobs.

mod kvraft_common;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use kvraft::KvServer;
use kvraft::kvtest::{ClntRes, EntryV};
use kvraft::rpc::Version;
use kvraft_common::KvTest;
use labrt::channel;
use labrt::time::{Duration, Instant};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tester::Group;
use tester::swarm::{self, Draw, Spec};

/// How long a fresh clerk's Put and Get may take once everything healed.
const HEALED_WITHIN: Duration = Duration::from_secs(10);

/// One seed's cluster, clients and fault schedule.
#[derive(Clone, Debug)]
struct Swarm {
    servers: usize,
    clients: usize,
    think_ms: u64,
    random_keys: bool,
    unreliable: bool,
    reordering: bool,
    snapshots: bool,
    maxraftstate: u64,
    crashes: bool,
    partitions: bool,
    step_ms: u64,
    secs: u64,
}

fn draw(d: &mut Draw) -> Swarm {
    Swarm {
        servers: d.choice("servers", &[3, 3, 5, 5, 7]) as usize,
        clients: d.choice("clients", &[1, 2, 3, 5]) as usize,
        think_ms: d.choice("think", &[0, 10, 20, 50, 100]),
        random_keys: d.flag("random_keys", 0.4),
        unreliable: d.flag("unreliable", 0.5),
        reordering: d.flag("reordering", 0.2),
        snapshots: d.flag("snapshots", 0.5),
        maxraftstate: d.choice("maxraftstate", &[300, 1000, 3000]),
        crashes: d.flag("crashes", 0.5),
        partitions: d.flag("partitions", 0.6),
        step_ms: d.number("step", 50..600),
        secs: d.length("secs", 10, 1),
    }
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} servers, {} client{} (thinking {} ms) on {}, {}",
            self.servers,
            self.clients,
            if self.clients == 1 { "" } else { "s" },
            self.think_ms,
            if self.random_keys {
                "random keys"
            } else {
                "one key"
            },
            if self.unreliable {
                "unreliable"
            } else {
                "reliable"
            }
        )?;
        if self.reordering {
            f.write_str(", long reordering")?;
        }
        if self.snapshots {
            write!(f, ", snapshots (maxraftstate {})", self.maxraftstate)?;
        }
        if self.crashes {
            f.write_str(", crashes")?;
        }
        if self.partitions {
            f.write_str(", partitions")?;
        }
        write!(f, ", steps of {} ms, {} s", self.step_ms, self.secs)
    }
}

/// Election Safety after every step: at most one leader per term among the
/// live servers' Rafts.
fn check_leaders_every_step(group: Arc<Group<KvServer>>) {
    let mut leaders: HashMap<u64, usize> = HashMap::new();
    labrt::sim::set_step_check(Some(Box::new(move || {
        for (i, server) in group.services().iter().enumerate() {
            let Some(server) = server else {
                continue;
            };
            let (term, leader) = server.rsm().raft().get_state();
            if !leader {
                continue;
            }
            match leaders.insert(term, i) {
                Some(other) if other != i => {
                    return Err(format!(
                        "servers {other} and {i} both led term {term} (Election Safety, §5.2)"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    })));
}

/// Runs one seed of the KV swarm in the calling (simulated) thread.
fn run_swarm(seed: u64, swarm: &Swarm) {
    let n = swarm.servers;
    let maxraftstate = if swarm.snapshots {
        swarm.maxraftstate as i64
    } else {
        -1
    };
    let ts = KvTest::make(
        "swarm",
        swarm.clients,
        n,
        !swarm.unreliable,
        swarm.crashes,
        swarm.partitions,
        maxraftstate,
        swarm.random_keys,
    );
    println!("  ... swarm (ours): seed {seed}: {swarm}");
    ts.cfg.set_long_reordering(swarm.reordering);
    let group = ts.cfg.group();
    check_leaders_every_step(ts.cfg.shared_group());
    let keys: Vec<String> = if swarm.random_keys {
        kvraft::kvtest::make_keys(20)
    } else {
        vec!["k".to_string()]
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut crashed = vec![false; n];
    let phase = Duration::from_secs(swarm.secs);
    let tallies: Vec<ClntRes> = labrt::thread::scope(|s| {
        let _stop = ts.stop_clerks_on_panic();
        let clients = s.spawn(|| {
            ts.spawn_clients_and_wait(swarm.clients, phase, |cli, ck, done| {
                ts.one_client_put_paced(cli, ck, &keys, done, Duration::from_millis(swarm.think_ms))
            })
        });
        let start = Instant::now();
        while start.elapsed() < phase {
            match rng.random_range(0..8) {
                0 | 1 if swarm.partitions => {
                    let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
                    for i in 0..n {
                        sides[rng.random_range(0..2)].push(i);
                    }
                    group.partition(&sides[0], &sides[1]);
                }
                2 if swarm.partitions => group.connect_all(),
                3 if swarm.crashes => {
                    let i = rng.random_range(0..n);
                    if !crashed[i] && crashed.iter().filter(|&&c| c).count() < n / 2 {
                        group.shutdown_server(i);
                        crashed[i] = true;
                    }
                }
                4 | 5 if swarm.crashes => {
                    let i = rng.random_range(0..n);
                    if crashed[i] {
                        group.start_server(i);
                        group.connect_one(i);
                        crashed[i] = false;
                    }
                }
                _ => {}
            }
            labrt::thread::sleep(Duration::from_millis(swarm.step_ms));
            ts.cfg.check_failure();
        }
        // Heal while the clients finish their last operations.
        for (i, down) in crashed.iter().enumerate() {
            if *down {
                group.start_server(i);
            }
        }
        group.connect_all();
        ts.cfg.set_reliable(true);
        ts.cfg.set_long_reordering(false);
        clients
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });

    // Progress: a fresh clerk's Put and Get finish in time.
    let ck = ts.make_clerk();
    let (done_tx, done_rx) = channel::bounded(1);
    let progress = labrt::thread::scope(|s| {
        s.spawn(|| {
            let version: Version = 0;
            let _ = ts.put(&ck, "swarm-healed", "yes", version, -1);
            let got = ts.get(&ck, "swarm-healed", -1);
            let _ = done_tx.send(got);
        });
        let got = done_rx.recv_timeout(HEALED_WITHIN);
        if got.is_err() {
            ts.stop_clerks();
        }
        got
    });
    match progress {
        Ok(Ok((value, 1))) if value == "yes" => {}
        Ok(other) => ts.cfg.fatal(format!(
            "after healing, a fresh key's Put then Get gave {other:?}, not (\"yes\", 1)"
        )),
        Err(_) => ts.cfg.fatal(format!(
            "after healing, a fresh clerk's Put and Get did not finish within {HEALED_WITHIN:?}"
        )),
    }

    // Exactly once: the key's version counts every OK Put, and no more than
    // those plus the maybes.
    if !swarm.random_keys {
        let total = tallies.iter().fold(ClntRes::default(), |mut t, r| {
            t.nok += r.nok;
            t.nmaybe += r.nmaybe;
            t
        });
        let (_entry, version): (EntryV, Version) = ts.get_json(&ck, &keys[0], -1);
        if version < total.nok || version > total.nok + total.nmaybe {
            ts.cfg.fatal(format!(
                "the key's version is {version}, but clients saw {} Puts OK and {} maybe",
                total.nok, total.nmaybe
            ));
        }
    }
    ts.finalize_annotations();
    ts.check_porcupine();
    if swarm.snapshots {
        let size = group.log_size();
        if size > 8 * swarm.maxraftstate as usize {
            ts.cfg.fatal(format!(
                "logs were not trimmed ({size} > 8*{})",
                swarm.maxraftstate
            ));
        }
    }
    labrt::sim::set_step_check(None);
}

/// Where `test` of this file is, for its replay command.
fn spec(test: &'static str) -> Spec {
    Spec {
        package: "kvraft",
        binary: "swarm_test",
        test,
    }
}

/// The KV swarm, snapshots included (lab 4C): random clusters, clients and
/// faults, healed and checked.
#[test]
fn swarm_kv() {
    swarm::run(spec("swarm_kv"), draw, run_swarm);
}

/// Lab 4B's share of the KV swarm: everything but snapshots.
#[test]
fn swarm_kv_no_snapshots() {
    swarm::run_with(
        spec("swarm_kv_no_snapshots"),
        "snapshots=off",
        draw,
        run_swarm,
    );
}
