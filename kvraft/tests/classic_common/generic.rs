//! Go's `GenericTest` and `GenericTestSpeed` (2022) with their client and
//! partitioner helpers.

use labrt::thread::{self, JoinHandle};
use labrt::time::{Duration, Instant};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrt::channel::{self, Receiver, Sender};
use labrt::sync::Mutex;
use rand::Rng;

use super::appends::{check_clnt_appends, element, next_value};
use super::config::{ClassicConfig, ELECTION_TIMEOUT, TestClerk};
use super::history::{self, OpLog, is_test_stopped};
use kvraft::kvtest::Done;

/// What a test client runs: its index and its own Clerk to all servers.
pub type ClientFn = dyn Fn(usize, &TestClerk) + Send + Sync + 'static;

/// Go's `run_client`: a Clerk to every server, `f`, then the Clerk is deleted.
/// A panic in `f` propagates (the caller sees the thread fail).
fn run_client(cfg: &ClassicConfig, me: usize, f: &ClientFn) {
    let ck = cfg.make_client(&cfg.all());
    f(me, &ck);
    cfg.delete_client(&ck);
}

/// Go's `spawn_clients_and_wait`: runs `ncli` clients, each on its own
/// thread, and waits for all; fails with `failure` if any did not finish.
#[track_caller]
pub fn spawn_clients_and_wait(cfg: &Arc<ClassicConfig>, ncli: usize, f: Arc<ClientFn>) {
    let handles: Vec<JoinHandle<()>> = (0..ncli)
        .map(|cli| {
            let cfg = Arc::clone(cfg);
            let f = Arc::clone(&f);
            thread::Builder::new()
                .name(format!("client-{cli}"))
                .spawn(move || run_client(&cfg, cli, &*f))
                .expect("spawn a client thread")
        })
        .collect();
    let mut failed = false;
    let mut stopped = None;
    for handle in handles {
        match handle.join() {
            Ok(()) => {}
            // Stopped by a failure elsewhere, which has said what went wrong.
            Err(payload) if is_test_stopped(&*payload) => stopped = Some(payload),
            Err(_) => failed = true,
        }
    }
    if failed {
        panic!("failure");
    }
    if let Some(payload) = stopped {
        std::panic::resume_unwind(payload);
    }
}

/// Go's `partitioner`: until `done`, splits the servers at random into two
/// sides, then waits an election timeout plus up to 199 ms. Returns when done.
fn partitioner(cfg: &ClassicConfig, done: &Done) {
    let mut rng = labrpc::rng::child();
    while !done.is_raised() {
        let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for i in 0..cfg.n() {
            sides[rng.random_range(0..2)].push(i);
        }
        cfg.partition(&sides[0], &sides[1]);
        // Wakes early when told to stop, so a failed test need not wait.
        done.wait_timeout(ELECTION_TIMEOUT + Duration::from_millis(rng.random_range(0..200)));
    }
}

/// The threads a `GenericTest` iteration runs beside the test's own. If the
/// test fails (this guard is dropped during a panic), the test's Clerks are
/// stopped and the threads joined: none is left blocked, and the cluster is
/// torn down on the test's own thread.
struct Background<'a> {
    cfg: &'a ClassicConfig,
    clients: Option<JoinHandle<()>>,
    partitioner: Option<JoinHandle<()>>,
    done: [&'a Done; 2],
}

impl Drop for Background<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for done in self.done {
                done.raise();
            }
            self.cfg.stop_clerks();
            for handle in [self.clients.take(), self.partitioner.take()]
                .into_iter()
                .flatten()
            {
                let _ = handle.join();
            }
        }
    }
}

/// Raises a [`Done`] if dropped during a panic: a client tells the test it failed.
struct RaiseOnPanic(Arc<Done>);

impl Drop for RaiseOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.raise();
        }
    }
}

/// The parameters of one `GenericTest` run, in Go's order.
#[derive(Clone, Copy, Debug)]
pub struct Generic {
    /// Number of concurrent clients.
    pub nclients: usize,
    /// Number of servers.
    pub nservers: usize,
    /// Drop and delay messages.
    pub unreliable: bool,
    /// Crash and restart every server at the end of each iteration.
    pub crash: bool,
    /// Re-partition the servers at random while clients run.
    pub partitions: bool,
    /// Snapshot threshold; `None` is Go's -1.
    pub maxraftstate: Option<usize>,
    /// Clients use random keys (and Puts); only linearizability is checked.
    pub randomkeys: bool,
}

impl Generic {
    /// The banner, e.g. `Test: unreliable net, restarts, many clients (3A)`.
    pub fn title(&self, part: &str) -> String {
        let mut title = String::from("Test: ");
        if self.unreliable {
            title.push_str("unreliable net, ");
        }
        if self.crash {
            title.push_str("restarts, ");
        }
        if self.partitions {
            title.push_str("partitions, ");
        }
        if self.maxraftstate.is_some() {
            title.push_str("snapshots, ");
        }
        if self.randomkeys {
            title.push_str("random keys, ");
        }
        title.push_str(if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        });
        format!("{title} ({part})")
    }
}

/// Go's `maxraftstate` as printed in failure messages (-1 for none).
fn maxraftstate_text(maxraftstate: Option<usize>) -> String {
    maxraftstate.map_or_else(|| "-1".to_owned(), |m| m.to_string())
}

/// One client's work in an iteration of `GenericTest`: appends, puts (random
/// keys only) and checked gets until told to stop; returns how many elements
/// it wrote.
fn generic_client(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    cli: usize,
    params: Generic,
    op_log: &OpLog,
    done: &AtomicBool,
) -> usize {
    let mut rng = labrpc::rng::child();
    let mut j = 0;
    let mut last = String::new();
    let own_key = cli.to_string();
    let client_id = cli as i64;
    if !params.randomkeys {
        history::put(cfg, ck, &own_key, "", Some(op_log), client_id);
    }
    while !done.load(Ordering::SeqCst) {
        let key = if params.randomkeys {
            rng.random_range(0..params.nclients).to_string()
        } else {
            own_key.clone()
        };
        let nv = element(cli, j);
        if rng.random_range(0..1000) < 500 {
            history::append(cfg, ck, &key, &nv, Some(op_log), client_id);
            if !params.randomkeys {
                last = next_value(&last, &nv);
            }
            j += 1;
        } else if params.randomkeys && rng.random_range(0..1000) < 100 {
            history::put(cfg, ck, &key, &nv, Some(op_log), client_id);
            j += 1;
        } else {
            history::get_with(cfg, ck, &key, Some(op_log), client_id, |v| {
                if !params.randomkeys && v != last {
                    panic!("get wrong value, key {key}, wanted:\n{last}\n, got\n{v}\n");
                }
            });
        }
    }
    j
}

/// Go's `GenericTest(t, part, nclients, nservers, unreliable, crash,
/// partitions, maxraftstate, randomkeys)`.
pub fn generic_test(part: &str, params: Generic) {
    let cfg = ClassicConfig::new(params.nservers, params.unreliable, params.maxraftstate);
    cfg.begin(&params.title(part));
    let op_log = Arc::new(OpLog::new());
    let ck = cfg.make_client(&cfg.all());

    for _iteration in 0..3 {
        let done_clients = Arc::new(AtomicBool::new(false));
        let done_partitioner = Arc::new(Done::new());
        // Raised by a client that fails, so the test fails at once.
        let client_failed = Arc::new(Done::new());
        let (count_txs, count_rxs): (Vec<Sender<usize>>, Vec<Receiver<usize>>) =
            (0..params.nclients).map(|_| channel::bounded(1)).unzip();
        // Each client takes its own sender, so a client that panics drops it
        // and the wait for its count below fails instead of hanging.
        let count_txs: Arc<Vec<Mutex<Option<Sender<usize>>>>> = Arc::new(
            count_txs
                .into_iter()
                .map(|tx| Mutex::new(Some(tx)))
                .collect(),
        );

        let client_fn: Arc<ClientFn> = {
            let cfg = Arc::clone(&cfg);
            let op_log = Arc::clone(&op_log);
            let done = Arc::clone(&done_clients);
            let count_txs = Arc::clone(&count_txs);
            let client_failed = Arc::clone(&client_failed);
            Arc::new(move |cli: usize, ck: &TestClerk| {
                let _failed = RaiseOnPanic(Arc::clone(&client_failed));
                let tx = count_txs[cli].lock().take().expect("one run per client");
                let j = generic_client(&cfg, ck, cli, params, &op_log, &done);
                let _ = tx.send(j);
            })
        };
        let clients = {
            let cfg = Arc::clone(&cfg);
            let nclients = params.nclients;
            thread::spawn(move || spawn_clients_and_wait(&cfg, nclients, client_fn))
        };
        let mut background = Background {
            cfg: &cfg,
            clients: Some(clients),
            partitioner: None,
            done: [&done_partitioner, &client_failed],
        };

        // A client's failure (it printed why) ends the test at once; the
        // waits are otherwise Go's sleeps.
        if params.partitions {
            // The first second of each iteration runs without faults.
            if client_failed.wait_timeout(Duration::from_secs(1)) {
                panic!("failure");
            }
            let cfg = Arc::clone(&cfg);
            let done = Arc::clone(&done_partitioner);
            background.partitioner = Some(thread::spawn(move || partitioner(&cfg, &done)));
        }
        if client_failed.wait_timeout(Duration::from_secs(5)) {
            panic!("failure");
        }

        done_clients.store(true, Ordering::SeqCst);
        done_partitioner.raise();

        if let Some(partitioner_thread) = background.partitioner.take() {
            partitioner_thread
                .join()
                .expect("the partitioner does not fail");
            cfg.connect_all();
            // Give the healed cluster an election timeout to settle on a leader.
            thread::sleep(ELECTION_TIMEOUT);
        }

        if params.crash {
            for i in 0..params.nservers {
                cfg.shutdown_server(i);
            }
            // Killing is not instantaneous: let the old instances fall silent.
            thread::sleep(ELECTION_TIMEOUT);
            for i in 0..params.nservers {
                cfg.start_server(i);
            }
            cfg.connect_all();
        }

        for (i, rx) in count_rxs.iter().enumerate() {
            let Ok(j) = rx.recv() else {
                // The client failed; its thread printed why.
                panic!("failure");
            };
            let key = i.to_string();
            history::get_with(&cfg, &ck, &key, Some(&op_log), 0, |v| {
                if !params.randomkeys {
                    check_clnt_appends(i, v, j);
                }
            });
        }
        let clients = background.clients.take().expect("joined once");
        if clients.join().is_err() {
            panic!("failure");
        }

        if let Some(maxraftstate) = params.maxraftstate {
            // The largest Raft state of any server counts; 8x leaves room for a
            // server that has not snapshotted yet.
            let size = cfg.log_size();
            if size > 8 * maxraftstate {
                panic!("logs were not trimmed ({size} > 8*{maxraftstate})");
            }
        } else {
            // Without maxraftstate nothing may be snapshotted.
            let size = cfg.snapshot_size();
            if size > 0 {
                panic!(
                    "snapshot too large ({size}), should not be used when maxraftstate = {}",
                    maxraftstate_text(params.maxraftstate)
                );
            }
        }
    }

    history::check_linearizable(&cfg, &op_log);
    cfg.end();
}

/// Go's `GenericTestSpeed(t, part, maxraftstate)`: 1000 sequential Appends on
/// 3 servers must average at most 100 ms / 3 each.
pub fn generic_test_speed(part: &str, maxraftstate: Option<usize>) {
    const NUM_OPS: u32 = 1000;
    let cfg = ClassicConfig::new(3, false, maxraftstate);
    let ck = cfg.make_client(&cfg.all());
    let title = format!("Test: ops complete fast enough ({part})");
    cfg.begin(&title);

    // The first Get returns only once a leader serves it.
    history::unwrap_clerk(ck.get("x"));
    let start = Instant::now();
    for i in 0..NUM_OPS {
        history::unwrap_clerk(ck.append("x", &element(0, i as usize)));
    }
    let elapsed = start.elapsed();
    let v = history::unwrap_clerk(ck.get("x"));
    check_clnt_appends(0, &v, NUM_OPS as usize);

    // The bar: three operations per 100 ms (a typical heartbeat interval).
    let time_per_op = Duration::from_millis(100) / 3;
    let per_op = elapsed / NUM_OPS;
    println!(
        "info: {NUM_OPS} sequential Appends took {elapsed:?} ({per_op:?}/op, {:.0} ops/s)",
        f64::from(NUM_OPS) / elapsed.as_secs_f64()
    );
    if tester::real_time_check("the bound of 33 ms per operation")
        && elapsed > time_per_op * NUM_OPS
    {
        panic!("Operations completed too slowly {per_op:?}/op > {time_per_op:?}/op");
    }
    cfg.end();
}
