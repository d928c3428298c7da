//! Agreement speed of a 3-peer cluster on a reliable labrpc network:
//!
//! * sequential: one command at a time, from `start` on the leader to its
//!   delivery on the leader's apply channel (latency percentiles);
//! * pipelined: many commands in flight (a window of started-but-unapplied
//!   commands), batched by Raft, every peer snapshotting every 1,000 entries
//!   so the persisted state stays bounded (entries per second).
//!
//! Run with `cargo bench -p raft --bench agreement`.

use std::time::{Duration, Instant};

use crossbeam::channel::{self, Receiver};
use raft::{ApplyMsg, Raft};

const PEERS: usize = 3;
const SNAPSHOT_EVERY: u64 = 1000;

struct Cluster {
    net: labrpc::Network,
    rafts: Vec<Raft<u64>>,
    /// The leader's applied commands are forwarded here.
    applied: Vec<Receiver<u64>>,
}

fn cluster() -> Cluster {
    let net = labrpc::Network::new();
    let mut rafts = Vec::new();
    let mut applied = Vec::new();
    for i in 0..PEERS {
        let ends = (0..PEERS)
            .map(|j| {
                let name = format!("end-{i}-{j}");
                let end = net.make_end(&name);
                net.connect(&name, &format!("server-{j}"));
                net.enable(&name, true);
                end
            })
            .collect();
        let (tx, rx) = channel::bounded::<ApplyMsg<u64>>(0);
        let raft = Raft::new(ends, i, labrpc::Persister::new(), tx).expect("new raft");
        let mut server = labrpc::Server::new();
        server.add_service(raft.service());
        net.add_server(&format!("server-{i}"), server);
        let (fwd_tx, fwd_rx) = channel::unbounded();
        let r = raft.clone();
        std::thread::spawn(move || {
            for m in rx {
                if let ApplyMsg::Command { index, .. } = m {
                    if index % SNAPSHOT_EVERY == 0 {
                        r.snapshot(index, index.to_le_bytes().to_vec());
                    }
                    let _ = fwd_tx.send(index);
                }
            }
        });
        rafts.push(raft);
        applied.push(fwd_rx);
    }
    Cluster {
        net,
        rafts,
        applied,
    }
}

impl Cluster {
    fn leader(&self) -> usize {
        let t0 = Instant::now();
        loop {
            if let Some(i) = (0..PEERS).find(|i| self.rafts[*i].get_state().1) {
                return i;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "no leader");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn drain(&self) {
        for rx in &self.applied {
            while rx.try_recv().is_ok() {}
        }
    }

    fn shutdown(self) {
        for r in &self.rafts {
            r.kill();
        }
        self.net.cleanup();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn sequential(c: &Cluster, leader: usize, count: usize) {
    let raft = &c.rafts[leader];
    let applied = &c.applied[leader];
    let mut latencies = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let t0 = Instant::now();
        let (index, _) = raft.start(i).expect("leader lost leadership");
        loop {
            let got = applied.recv().expect("applier alive");
            if got >= index {
                break;
            }
        }
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    println!(
        "sequential agreement, {PEERS} peers, {count} commands: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies[count - 1],
    );
}

fn pipelined(c: &Cluster, leader: usize, count: u64, window: u64) {
    let raft = &c.rafts[leader];
    let applied = &c.applied[leader];
    let first = raft.start(0).expect("leader").0;
    let last = first + count;
    let t0 = Instant::now();
    let mut next = first + 1;
    let mut applied_through = first - 1;
    while applied_through < last {
        while next <= last && next - applied_through <= window {
            raft.start(next).expect("leader lost leadership");
            next += 1;
        }
        applied_through = applied.recv().expect("applier alive");
        while let Ok(i) = applied.try_recv() {
            applied_through = i;
        }
    }
    let elapsed = t0.elapsed();
    println!(
        "pipelined agreement, {PEERS} peers, window {window}: {count} entries in {:.2?} = {:.0} entries/s; persisted state {} bytes",
        elapsed,
        count as f64 / elapsed.as_secs_f64(),
        raft.persist_bytes(),
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs a quick smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let c = cluster();
    let leader = c.leader();
    // Warm up.
    sequential(&c, leader, if quick { 50 } else { 500 });
    c.drain();
    sequential(&c, leader, if quick { 200 } else { 5000 });
    c.drain();
    pipelined(&c, leader, if quick { 5_000 } else { 200_000 }, 2_000);
    c.shutdown();
}
