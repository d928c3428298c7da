//! The benchmark: no faults; latency and throughput for each (servers,
//! clients) case, beside the labrpc round trip measured in the same run.

use labrt::time::{Duration, Instant};

use labrpc::{Network, Server, Service};
use labrt::channel::{Receiver, after};
use labrt::select;
use serde::Serialize;

use crate::cli::{BenchArgs, EXIT_FAILED, EXIT_LINEARIZABLE};
use crate::cluster::Cluster;
use crate::cpu;
use crate::output;
use crate::stats::{Latency, human_us};
use crate::workload::{Clients, Mix};

/// Sequential labrpc calls timed for the round trip (after as many again to
/// warm up).
const ROUND_TRIP_CALLS: usize = 20_000;

/// The targets on a 2-core machine.
const TARGET_ONE_CLIENT_P50_US: f64 = 250.0;
const TARGET_ROUND_TRIPS_PER_OP: f64 = 4.0;
const TARGET_MANY_CLIENTS: u16 = 64;
const TARGET_MANY_CLIENTS_OPS: f64 = 50_000.0;

/// One measured case.
#[derive(Clone, Debug, Serialize)]
struct Case {
    servers: u16,
    clients: u16,
    seconds: f64,
    operations: usize,
    ops_per_second: f64,
    latency: Latency,
    /// CPU time (all threads of the process) per operation, in microseconds;
    /// `None` where the process's CPU time cannot be read.
    cpu_us_per_op: Option<f64>,
    /// p50 latency divided by the labrpc round trip's p50.
    p50_round_trips: f64,
    /// RPCs of every kind (client and Raft) per operation: how well the
    /// leader batches.
    rpcs_per_op: f64,
}

/// One target and whether this run met it.
#[derive(Clone, Debug, Serialize)]
struct Target {
    what: String,
    measured: f64,
    limit: f64,
    met: bool,
}

#[derive(Serialize)]
struct Report {
    seed: u64,
    seconds_per_case: f64,
    maxraftstate: Option<usize>,
    read_ratio: f64,
    keys: u32,
    cpus: usize,
    labrpc_round_trip: Latency,
    cases: Vec<Case>,
    targets: Vec<Target>,
    interrupted: bool,
}

/// Runs every case, prints the table and the JSON, writes `bench.json`.
pub fn bench(args: &BenchArgs, interrupts: &Receiver<()>) -> u8 {
    let seed = args.seed.unwrap_or_else(labrt::rand::random_u64);
    labrpc::rng::reseed(seed);
    // RUST_LOG selects log lines on stderr; LAB_LOG_DIR writes a debug log file.
    tester::logging::start_test("kvsim-bench", seed);
    let folder = match output::create_folder(args.out.as_deref(), "bench") {
        Ok(folder) => folder,
        Err(error) => {
            eprintln!("kvsim: cannot create the output folder: {error}");
            return EXIT_FAILED;
        }
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "kvsim bench: no faults, {} s per case, maxraftstate {}, read ratio {}, {} keys, {cpus} CPUs, seed {seed}",
        args.seconds, args.maxraftstate, args.read_ratio, args.keys
    );
    let round_trip = labrpc_round_trip(ROUND_TRIP_CALLS);
    println!(
        "labrpc round trip ({ROUND_TRIP_CALLS} sequential calls): p50 {}  p99 {}",
        human_us(round_trip.p50_us),
        human_us(round_trip.p99_us)
    );
    println!();
    println!(
        "{:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>8}",
        "servers", "clients", "ops", "ops/s", "p50", "p99", "p50/RTT", "CPU/op", "RPCs/op"
    );
    let mix = Mix {
        keys: args.keys,
        read_ratio: args.read_ratio,
    };
    let mut cases = Vec::new();
    let mut interrupted = false;
    'cases: for &servers in &args.servers {
        for &clients in &args.clients {
            let Some(case) = run_case(servers, clients, args, mix, &round_trip, interrupts) else {
                interrupted = true;
                break 'cases;
            };
            println!(
                "{:>7} {:>7} {:>10} {:>10.0} {:>10} {:>10} {:>10.1}x {:>10} {:>8.1}",
                case.servers,
                case.clients,
                case.operations,
                case.ops_per_second,
                human_us(case.latency.p50_us),
                human_us(case.latency.p99_us),
                case.p50_round_trips,
                case.cpu_us_per_op.map_or("-".to_string(), human_us),
                case.rpcs_per_op
            );
            cases.push(case);
        }
    }
    tester::logging::finish_test(false);
    let targets = targets(&cases, &round_trip);
    println!();
    for target in &targets {
        println!(
            "target {}: {} (measured {:.1}, limit {:.1})",
            target.what,
            if target.met { "met" } else { "MISSED" },
            target.measured,
            target.limit
        );
    }
    let report = Report {
        seed,
        seconds_per_case: args.seconds,
        maxraftstate: args.maxraftstate.0,
        read_ratio: args.read_ratio,
        keys: args.keys,
        cpus,
        labrpc_round_trip: round_trip,
        cases,
        targets,
        interrupted,
    };
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    println!();
    println!("{json}");
    let path = folder.join("bench.json");
    match std::fs::write(&path, json + "\n") {
        Ok(()) => {
            println!("wrote {}", path.display());
            EXIT_LINEARIZABLE
        }
        Err(error) => {
            eprintln!("kvsim: cannot write {}: {error}", path.display());
            EXIT_FAILED
        }
    }
}

/// Measures one case; `None` if Ctrl-C cut it short.
fn run_case(
    servers: u16,
    clients: u16,
    args: &BenchArgs,
    mix: Mix,
    round_trip: &Latency,
    interrupts: &Receiver<()>,
) -> Option<Case> {
    let cluster = Cluster::start(usize::from(servers), args.maxraftstate.0);
    // Warm up: wait until a leader has served one write.
    let warm_up = cluster.clerk();
    let warmed = warm_up.put("warm-up", "x").is_ok();
    let cpu_before = cpu::process_cpu();
    let rpcs_before = cluster.net().total_count();
    let workers = Clients::start(&cluster, usize::from(clients), mix);
    let started = Instant::now();
    let cut_short = select! {
        recv(after(Duration::from_secs_f64(args.seconds))) -> _ => false,
        recv(interrupts) -> _ => true,
    };
    workers.stop();
    if cut_short {
        cluster.shut_down();
    }
    let logs = workers.join();
    let seconds = started.elapsed().as_secs_f64();
    let rpcs = cluster.net().total_count().saturating_sub(rpcs_before);
    let cpu_used = cpu::process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    cluster.shut_down();
    if cut_short || !warmed {
        return None;
    }
    let latencies: Vec<u64> = logs.into_iter().flat_map(|log| log.latencies_ns).collect();
    let operations = latencies.len();
    let latency = Latency::of(latencies);
    Some(Case {
        servers,
        clients,
        seconds,
        operations,
        ops_per_second: operations as f64 / seconds,
        cpu_us_per_op: cpu_used
            .filter(|_| operations > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / operations as f64),
        p50_round_trips: latency.p50_us / round_trip.p50_us.max(f64::MIN_POSITIVE),
        rpcs_per_op: rpcs as f64 / operations.max(1) as f64,
        latency,
    })
}

/// The labrpc round trip of a tiny RPC on a reliable network, one caller.
fn labrpc_round_trip(calls: usize) -> Latency {
    let net = Network::new();
    let mut server = Server::new();
    server.add_service(Service::new("Echo").handler("Ping", |n: u64| n));
    net.add_server("echo", server);
    let end = net.make_end("bench-caller");
    net.connect("bench-caller", "echo");
    net.enable("bench-caller", true);
    let mut nanos = Vec::with_capacity(calls);
    for round in 0..2 {
        nanos.clear();
        for i in 0..calls as u64 {
            let started = Instant::now();
            let reply: u64 = end
                .call("Echo.Ping", &i)
                .expect("a reliable network answers");
            nanos.push(started.elapsed().as_nanos() as u64);
            assert_eq!(reply, i, "the echo server echoes (round {round})");
        }
    }
    net.cleanup();
    Latency::of(nanos)
}

fn targets(cases: &[Case], round_trip: &Latency) -> Vec<Target> {
    let mut targets = Vec::new();
    for case in cases.iter().filter(|case| case.clients == 1) {
        targets.push(Target {
            what: format!("{} servers, 1 client: p50 <= 250 us", case.servers),
            measured: case.latency.p50_us,
            limit: TARGET_ONE_CLIENT_P50_US,
            met: case.latency.p50_us <= TARGET_ONE_CLIENT_P50_US,
        });
        targets.push(Target {
            what: format!(
                "{} servers, 1 client: p50 <= 4x labrpc round trip",
                case.servers
            ),
            measured: case.p50_round_trips,
            limit: TARGET_ROUND_TRIPS_PER_OP,
            met: case.latency.p50_us <= TARGET_ROUND_TRIPS_PER_OP * round_trip.p50_us,
        });
    }
    for case in cases
        .iter()
        .filter(|case| case.clients == TARGET_MANY_CLIENTS)
    {
        targets.push(Target {
            what: format!(
                "{} servers, {} clients: >= 50000 ops/s",
                case.servers, case.clients
            ),
            measured: case.ops_per_second,
            limit: TARGET_MANY_CLIENTS_OPS,
            met: case.ops_per_second >= TARGET_MANY_CLIENTS_OPS,
        });
    }
    targets
}
