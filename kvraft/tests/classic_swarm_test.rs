//! The classic KV swarm (ours, not ported): Go's `GenericTest` for the classic
//! Put/Append/Get service, with every parameter drawn per seed and run in
//! simulation mode (a world of its own, whatever `LAB_SIM` says).
//!
//! Each seed draws (`tester::swarm`): 3, 5 or 7 servers; 1 to 7 clients on
//! their own keys (each client's Appends are then checked to be there exactly
//! once, in order) or on random keys (Puts too); a reliable or unreliable
//! network; whether every server crashes and restarts after each of the three
//! iterations; whether the network re-partitions while clients run; and
//! snapshots at a drawn `maxraftstate`. Go's checks then hold, whatever the
//! mix: every Get returns what the client's own Appends built, each client's
//! Appends are present exactly once, the logs are trimmed (or nothing is
//! snapshotted without `maxraftstate`), and the whole history is
//! linearizable (porcupine).
//!
//! Seeds: `SWARM_SEED=S SWARM_SEEDS=N`, or `LAB_SEED=S` for one seed, else 20
//! random ones; `SWARM_CONFIG="servers=3 crashes=off"` overrides knobs.

mod classic_common;

use std::fmt;

use classic_common::generic::{Generic, generic_test};
use tester::swarm::{self, Draw, Spec};

/// One seed's parameters of Go's GenericTest.
#[derive(Clone, Copy, Debug)]
struct Swarm(Generic);

fn draw(d: &mut Draw) -> Swarm {
    let nservers = d.choice("servers", &[3, 3, 5, 5, 7]) as usize;
    let nclients = d.choice("clients", &[1, 2, 3, 5, 7]) as usize;
    let randomkeys = d.flag("random_keys", 0.3);
    let unreliable = d.flag("unreliable", 0.5);
    let crash = d.flag("crashes", 0.5);
    let partitions = d.flag("partitions", 0.5);
    let snapshots = d.flag("snapshots", 0.5);
    let maxraftstate = d.choice("maxraftstate", &[300, 1000, 3000]) as usize;
    Swarm(Generic {
        nclients,
        nservers,
        unreliable,
        crash,
        partitions,
        maxraftstate: snapshots.then_some(maxraftstate),
        randomkeys,
    })
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} servers, {}",
            self.0.nservers,
            self.0.title("swarm").trim_start_matches("Test: ")
        )
    }
}

fn run_swarm(_seed: u64, swarm: &Swarm) {
    generic_test("swarm", swarm.0);
}

/// The classic KV swarm: GenericTest over random parameters and schedules.
#[test]
fn swarm_kv_classic() {
    swarm::run(
        Spec {
            package: "kvraft",
            binary: "classic_swarm_test",
            test: "swarm_kv_classic",
        },
        draw,
        run_swarm,
    );
}
