//! The clients: each runs one Clerk in a loop of Put/Append/Get on a few keys
//! and records every operation with its call and return times.

use labrt::thread::JoinHandle;
use labrt::time::Instant;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kvraft::classic::{Clerk, ClerkError};
use porcupine::models::kv::{KvInput, KvOp, KvOutput};
use porcupine::{NEVER, Operation};
use rand::Rng;
use rand::rngs::StdRng;
use tester::annotate::timestamp;

use crate::cluster::{ClientEnds, Cluster};

/// One recorded operation, in porcupine's classic KV vocabulary.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// Of the writes, one in this many is a Put (which resets the value and so
/// keeps the appended strings short); the rest are Appends.
const PUT_ONE_IN: u32 = 4;

/// What the clients do.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// Number of distinct keys, named `k0`, `k1`, ...
    pub keys: u32,
    /// Fraction of operations that are Gets.
    pub read_ratio: f64,
}

impl Mix {
    /// The next operation of client `client`, whose `seq`th operation it is.
    /// Written values are unique (`<client>.<seq> `), which keeps the
    /// linearizability search short.
    fn next(&self, rng: &mut StdRng, client: usize, seq: u64) -> KvInput {
        let key = format!("k{}", rng.random_range(0..self.keys));
        if rng.random_bool(self.read_ratio) {
            KvInput::get(key)
        } else if rng.random_ratio(1, PUT_ONE_IN) {
            KvInput::put(key, format!("{client}.{seq} "))
        } else {
            KvInput::append(key, format!("{client}.{seq} "))
        }
    }
}

/// Counters the progress display reads while the clients run.
#[derive(Default)]
pub struct Counters {
    /// Operations completed so far, all clients together.
    pub completed: AtomicU64,
}

/// What one client did.
#[derive(Default)]
pub struct ClientLog {
    /// Completed operations, and writes whose outcome is unknown (cut off at
    /// the end of the run, `return_time == NEVER`).
    pub operations: Vec<KvOperation>,
    /// Latency of each completed operation, in nanoseconds.
    pub latencies_ns: Vec<u64>,
}

/// The running clients.
pub struct Clients {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    threads: Vec<JoinHandle<ClientLog>>,
}

impl Clients {
    /// Starts `n` clients on `cluster`, each with its own Clerk and a random
    /// generator drawn from the seeded one.
    pub fn start(cluster: &Cluster, n: usize, mix: Mix) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let threads = (0..n)
            .map(|client| {
                let clerk = cluster.clerk();
                let rng = labrpc::rng::child();
                let stop = Arc::clone(&stop);
                let counters = Arc::clone(&counters);
                labrt::thread::Builder::new()
                    .name(format!("kvsim-client-{client}"))
                    .spawn(move || run_client(client, clerk, mix, rng, &stop, &counters))
                    .expect("spawn a client thread")
            })
            .collect();
        Clients {
            stop,
            counters,
            threads,
        }
    }

    /// The live counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Asks every client to start no new operation.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for every client to finish its last operation (stop them first,
    /// and make sure their calls can end: heal the faults, or shut the
    /// network down) and gathers what they did, client by client.
    pub fn join(self) -> Vec<ClientLog> {
        self.threads
            .into_iter()
            .map(|thread| thread.join().expect("a client thread panicked"))
            .collect()
    }
}

fn run_client(
    client: usize,
    clerk: Clerk<ClientEnds>,
    mix: Mix,
    mut rng: StdRng,
    stop: &AtomicBool,
    counters: &Counters,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let input = mix.next(&mut rng, client, seq);
        let call = timestamp();
        let started = Instant::now();
        let outcome = match input.op {
            KvOp::Get => clerk.get(&input.key).map(KvOutput::new),
            KvOp::Put => clerk
                .put(&input.key, &input.value)
                .map(|()| KvOutput::default()),
            KvOp::Append => clerk
                .append(&input.key, &input.value)
                .map(|()| KvOutput::default()),
        };
        match outcome {
            Ok(output) => {
                let return_time = timestamp().max(call);
                log.latencies_ns.push(started.elapsed().as_nanos() as u64);
                log.operations.push(KvOperation {
                    client_id: client as i64,
                    input,
                    call,
                    output,
                    return_time,
                });
                counters.completed.fetch_add(1, Ordering::Relaxed);
            }
            Err(ClerkError::NetworkGone | ClerkError::NoServers) => {
                // Cut off at the end of the run: a write may or may not have
                // happened, so it stays in the history with an unknown
                // outcome; a read that never answered constrains nothing.
                if input.op != KvOp::Get {
                    log.operations.push(KvOperation {
                        client_id: client as i64,
                        input,
                        call,
                        output: KvOutput::default(),
                        return_time: NEVER,
                    });
                }
                break;
            }
        }
    }
    log
}
