//! The labrpc round-trip benchmark (Go's TestBenchmark, with percentiles):
//! 100,000 sequential calls of a tiny RPC on a reliable network, then the
//! throughput of 16 concurrent callers. Run with
//! `cargo bench -p labrpc --bench round_trip`.

use labrpc::{Network, Server, Service};
use labrt::thread;
use labrt::time::{Duration, Instant};

fn network() -> Network {
    let net = Network::new();
    let mut server = Server::new();
    server.add_service(
        Service::new("JunkServer").handler("Handler2", |n: i64| format!("handler2-{n}")),
    );
    net.add_server("server99", server);
    net
}

fn end(net: &Network, name: &str) -> labrpc::ClientEnd {
    let end = net.make_end(name);
    net.connect(name, "server99");
    net.enable(name, true);
    end
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let net = network();
    let client = end(&net, "end1-99");
    let calls = 100_000;
    let mut samples = Vec::with_capacity(calls);
    let t0 = Instant::now();
    for _ in 0..calls {
        let t = Instant::now();
        let reply: String = client.call("JunkServer.Handler2", &111i64).unwrap();
        samples.push(t.elapsed());
        assert_eq!(reply, "handler2-111");
    }
    let total = t0.elapsed();
    samples.sort_unstable();
    println!(
        "sequential: {calls} calls in {total:.2?} ({:.1} us/call); p50 {:.1?} p99 {:.1?}",
        total.as_secs_f64() * 1e6 / calls as f64,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
    );

    let callers = 16;
    let per_caller = 20_000;
    let t0 = Instant::now();
    let workers: Vec<_> = (0..callers)
        .map(|i| {
            let client = end(&net, &format!("caller-{i}"));
            thread::spawn(move || {
                for _ in 0..per_caller {
                    let _: String = client.call("JunkServer.Handler2", &(i as i64)).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let total = t0.elapsed();
    let n = callers * per_caller;
    println!(
        "concurrent: {callers} callers, {n} calls in {total:.2?}: {:.0} calls/s",
        n as f64 / total.as_secs_f64()
    );
    net.cleanup();
}
