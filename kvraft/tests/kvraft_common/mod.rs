//! The 2025 kvraft test wiring (Go's `kvraft1/test.go`): a cluster of
//! `KvServer`s under the tester, titled as Go titles it, plus the generic
//! drivers of `kvraft1/kvraft_test.go` (GenericTest, GenericTestSpeed).

#![allow(dead_code)]

use labrt::time::{Duration, Instant};
use std::ops::Deref;
use std::sync::Arc;

use kvraft::KvServer;
use kvraft::kvtest::{self, ClntRes, Done, ELECTION_TIMEOUT};
use tester::Config;

/// A KV test: the shared kvtest library over a `KvServer` cluster.
pub struct KvTest {
    t: kvtest::Test<KvServer>,
    part: String,
    nclients: usize,
    nservers: usize,
    crash: bool,
    partitions: bool,
    maxraftstate: Option<usize>,
    randomkeys: bool,
}

impl Deref for KvTest {
    type Target = kvtest::Test<KvServer>;
    fn deref(&self) -> &Self::Target {
        &self.t
    }
}

/// Go's `-1` for "never snapshot".
fn maxraftstate_option(maxraftstate: i64) -> Option<usize> {
    usize::try_from(maxraftstate).ok()
}

impl KvTest {
    /// Starts `nservers` KV servers and prints the test's title (Go's `MakeTest`).
    #[allow(clippy::too_many_arguments)]
    pub fn make(
        part: &str,
        nclients: usize,
        nservers: usize,
        reliable: bool,
        crash: bool,
        partitions: bool,
        maxraftstate: i64,
        randomkeys: bool,
    ) -> KvTest {
        let max = maxraftstate_option(maxraftstate);
        let cfg = Config::new(
            nservers,
            reliable,
            Arc::new(move |ends, _gid, me, persister| {
                KvServer::start(ends, me, persister, max)
                    .unwrap_or_else(|e| panic!("server {me} failed to start: {e}"))
            }),
        );
        let ts = KvTest {
            t: kvtest::Test::new(cfg, randomkeys),
            part: part.to_string(),
            nclients,
            nservers,
            crash,
            partitions,
            maxraftstate: max,
            randomkeys,
        };
        ts.cfg.begin(&ts.make_title());
        ts
    }

    /// `Test: [restarts, ][partitions, ][snapshots, ][random keys, ]many clients|one client (<part>)`.
    fn make_title(&self) -> String {
        let mut title = String::from("Test: ");
        if self.crash {
            title += "restarts, ";
        }
        if self.partitions {
            title += "partitions, ";
        }
        if self.maxraftstate.is_some() {
            title += "snapshots, ";
        }
        if self.randomkeys {
            title += "random keys, ";
        }
        title += if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        };
        title + &format!(" ({})", self.part)
    }

    /// The first server whose Raft says it leads (Go's `rsm.Leader`).
    pub fn leader(&self) -> Option<usize> {
        let group = self.cfg.group();
        (0..group.n()).find(|&i| {
            group
                .service(i)
                .is_some_and(|s| s.rsm().raft().get_state().1)
        })
    }
}

impl Drop for KvTest {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.cfg.end();
        }
    }
}

/// Raises a [`Done`] when dropped, so a background thread stops even when the
/// test fails (and a scope waiting for it can end).
pub struct RaiseOnDrop<'a>(pub &'a Done);

impl Drop for RaiseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.raise();
    }
}

/// Go's `GenericTest`: 3 iterations of concurrent OnePut workers for 1 s, with
/// optional partitions, crashes and snapshots, checking counts,
/// linearizability and log/snapshot sizes after each.
#[allow(clippy::too_many_arguments)]
pub fn generic_test(
    part: &str,
    nclients: usize,
    nservers: usize,
    reliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: i64,
    randomkeys: bool,
) {
    const NITER: usize = 3;
    const T: Duration = Duration::from_secs(1);
    const NKEYS: usize = 100;
    let ts = KvTest::make(
        part,
        nclients,
        nservers,
        reliable,
        crash,
        partitions,
        maxraftstate,
        randomkeys,
    );
    let ck = ts.make_clerk();
    let mut res = ClntRes::default();
    let keys = if randomkeys {
        kvtest::make_keys(NKEYS)
    } else {
        vec!["k".to_string()]
    };
    let group = ts.cfg.group();

    for i in 0..NITER {
        let partitioner_done = Done::new();
        labrt::thread::scope(|s| {
            // A failure stops the clerks, so no client keeps the scope waiting.
            let _stop = ts.stop_clerks_on_panic();
            let clients = s.spawn(|| {
                let rs = ts.spawn_clients_and_wait(nclients, T, |cli, ck, done| {
                    ts.one_client_put(cli, ck, &keys, done)
                });
                if !randomkeys {
                    let reliable = ts.cfg.is_reliable() && !crash && !partitions;
                    ts.check_put_concurrent(&ck, &keys[0], &rs, &mut res, reliable);
                }
            });
            let _stop_partitioner = RaiseOnDrop(&partitioner_done);
            let partitioner = partitions.then(|| {
                // Let the clients run a while before partitioning.
                labrt::thread::sleep(Duration::from_secs(1));
                s.spawn(|| ts.partitioner(&partitioner_done))
            });

            if let Err(panic) = clients.join() {
                std::panic::resume_unwind(panic);
            }
            if i == NITER - 1 {
                ts.finalize_annotations();
            }
            ts.check_porcupine();

            if let Some(partitioner) = partitioner {
                partitioner_done.raise();
                if let Err(panic) = partitioner.join() {
                    std::panic::resume_unwind(panic);
                }
                group.connect_all();
                // Wait for a while for the servers to elect a leader.
                labrt::thread::sleep(ELECTION_TIMEOUT);
            }
        });

        if crash {
            for s in 0..nservers {
                group.shutdown_server(s);
            }
            // Wait for a while for the servers to shut down, since shutdown
            // isn't a real crash and isn't instantaneous.
            labrt::thread::sleep(ELECTION_TIMEOUT);
            for s in 0..nservers {
                group.start_server(s);
            }
            group.connect_all();
        }

        if let Some(max) = ts.maxraftstate {
            let sz = group.log_size();
            if sz > 8 * max {
                ts.cfg
                    .fatal(format!("logs were not trimmed ({sz} > 8*{max})"));
            }
        } else {
            let ssz = group.snapshot_size();
            if ssz > 0 {
                ts.cfg.fatal(format!(
                    "snapshot too large ({ssz}), should not be used when maxraftstate = {maxraftstate}"
                ));
            }
        }
    }
}

/// Go's `GenericTestSpeed`: 1000 sequential Puts on 3 servers must each return
/// OK and average under 33.3 ms (a third of a 100 ms heartbeat). Prints the rate.
pub fn generic_test_speed(part: &str, maxraftstate: i64) {
    const NUM_OPS: u64 = 1000;
    const NSERVERS: usize = 3;
    let ts = KvTest::make(part, 1, NSERVERS, true, false, false, maxraftstate, false);
    let ck = ts.make_clerk();

    // Wait until someone leads.
    let _ = ck.get("x");

    let start = Instant::now();
    for i in 0..NUM_OPS {
        if let Err(err) = ck.put("k", &i.to_string(), i) {
            ts.cfg.fatal(format!("Put err {err}"));
        }
    }
    let dur = start.elapsed();

    match ck.get("k") {
        Err(err) => ts.cfg.fatal(format!("Get err {err}")),
        Ok((_, ver)) if ver != NUM_OPS => ts.cfg.fatal(format!("Get too few ops {ver}")),
        Ok(_) => {}
    }

    let heartbeat_ns: u64 = 100_000_000;
    let time_per_op = Duration::from_nanos(heartbeat_ns / 3);
    println!(
        "  ... {NUM_OPS} sequential puts in {:.3}s: {:.0} puts/s, {:?}/op",
        dur.as_secs_f64(),
        NUM_OPS as f64 / dur.as_secs_f64(),
        dur / NUM_OPS as u32
    );
    if tester::real_time_check("the bound of 33 ms per operation")
        && dur > time_per_op * NUM_OPS as u32
    {
        ts.cfg.fatal(format!(
            "Operations completed too slowly {:?}/op > {time_per_op:?}/op",
            dur / NUM_OPS as u32
        ));
    }
}
