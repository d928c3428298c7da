//! Agreement speed of a 3-peer cluster on a reliable labrpc network:
//!
//! * sequential: one command at a time, from `start` on the leader to its
//!   delivery on the leader's apply channel (latency percentiles);
//! * pipelined: many commands in flight (a window of started-but-unapplied
//!   commands), batched by Raft, every peer snapshotting every 1,000 entries
//!   so the persisted state stays bounded (entries per second);
//! * idle: the CPU time a 5-peer cluster with a leader uses per second of
//!   doing nothing (heartbeats only), read from /proc/self/stat.
//!
//! Run with `cargo bench -p raft --bench agreement`.

use labrt::time::{Duration, Instant};

use labrt::channel::{self, Receiver};
use raft::{ApplyMsg, Raft};

const PEERS: usize = 3;
const SNAPSHOT_EVERY: u64 = 1000;

struct Cluster {
    net: labrpc::Network,
    rafts: Vec<Raft<u64>>,
    /// The leader's applied commands are forwarded here.
    applied: Vec<Receiver<u64>>,
}

fn cluster(peers: usize) -> Cluster {
    let net = labrpc::Network::new();
    let mut rafts = Vec::new();
    let mut applied = Vec::new();
    for i in 0..peers {
        let ends = (0..peers)
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
        labrt::thread::spawn(move || {
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
            if let Some(i) = (0..self.rafts.len()).find(|i| self.rafts[*i].get_state().1) {
                return i;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "no leader");
            labrt::thread::sleep(Duration::from_millis(20));
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

/// User + system CPU time of this process so far (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime is the
    // 14th field of the line, stime the 15th, in clock ticks (100 per second).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn idle(seconds: u64) {
    let c = cluster(5);
    c.leader();
    let rpcs0 = c.net.total_count();
    let cpu0 = process_cpu();
    labrt::thread::sleep(Duration::from_secs(seconds));
    let cpu1 = process_cpu();
    let rpcs = c.net.total_count() - rpcs0;
    match (cpu0, cpu1) {
        (Some(a), Some(b)) => println!(
            "idle 5-peer cluster: {:?} CPU in {seconds} s ({:.1} ms CPU per second), {} RPCs/s",
            b - a,
            (b - a).as_secs_f64() * 1000.0 / seconds as f64,
            rpcs as u64 / seconds
        ),
        _ => println!("idle 5-peer cluster: CPU time unavailable (no /proc)"),
    }
    c.shutdown();
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs a quick smoke pass.
    let quick = !std::env::args().any(|a| a == "--bench");
    let c = cluster(PEERS);
    let leader = c.leader();
    // Warm up.
    sequential(&c, leader, if quick { 50 } else { 500 });
    c.drain();
    sequential(&c, leader, if quick { 200 } else { 5000 });
    c.drain();
    pipelined(&c, leader, if quick { 5_000 } else { 200_000 }, 2_000);
    c.shutdown();
    idle(if quick { 1 } else { 10 });
}
