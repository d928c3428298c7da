//! One test per constant of the fault model (`labrpc::constants`): the value
//! is the spec's, and the network behaves by it. Losses are counted from the
//! calls' errors and delays from what the network drew (its `FaultStats`),
//! with bounds of several standard deviations; wall-clock time is checked only
//! as a lower bound, because a loaded machine makes calls slower, never
//! faster.

use labrpc::constants::*;
use labrpc::{CallError, Network, Server, Service};
use labrt::thread;
use labrt::time::{Duration, Instant};

fn echo_network(seed: u64) -> (Network, labrpc::ClientEnd) {
    labrpc::rng::reseed(seed);
    let net = Network::new();
    let mut server = Server::new();
    server.add_service(Service::new("Echo").handler("Id", |n: u64| n));
    net.add_server("s", server);
    let end = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    (net, end)
}

/// Runs `calls` concurrent calls on fresh ends and returns each one's
/// duration and result. The fault model's draws are checked through the
/// network's [`labrpc::FaultStats`]; wall-clock times only as lower bounds.
fn timed_calls(
    net: &Network,
    calls: usize,
    server: &str,
) -> Vec<(Duration, Result<u64, CallError>)> {
    let workers: Vec<_> = (0..calls)
        .map(|i| {
            let name = format!("timed-{server}-{i}");
            let end = net.make_end(&name);
            net.connect(&name, server);
            net.enable(&name, true);
            thread::spawn(move || {
                let t0 = Instant::now();
                let result = end.call::<u64, u64>("Echo.Id", &(i as u64));
                (t0.elapsed(), result)
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap()).collect()
}

fn mean_ms(samples: &[Duration]) -> f64 {
    samples
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .sum::<f64>()
        / samples.len() as f64
}

/// REQUEST_LOSS_PER_MILLE and REPLY_LOSS_PER_MILLE: about 10% of requests and
/// 10% of the surviving replies are lost in unreliable mode.
#[test]
fn loss_rates() {
    assert_eq!(REQUEST_LOSS_PER_MILLE, 100);
    assert_eq!(REPLY_LOSS_PER_MILLE, 100);
    let (net, _) = echo_network(6_5840);
    net.set_reliable(false);
    let results = timed_calls(&net, 2000, "s");
    let count = |e: CallError| results.iter().filter(|(_, r)| *r == Err(e)).count();
    let (requests_lost, replies_lost) =
        (count(CallError::RequestLost), count(CallError::ReplyLost));
    // Binomial(2000, 0.1): mean 200, sd 13.4; ±5 sd.
    assert!(
        (133..=267).contains(&requests_lost),
        "{requests_lost} requests lost of 2000"
    );
    // Binomial(~1800, 0.1): mean 180, sd 12.7.
    assert!(
        (116..=244).contains(&replies_lost),
        "{replies_lost} replies lost of ~1800"
    );
    // Lost replies still ran their handler; lost requests did not.
    assert_eq!(net.count("s"), 2000 - requests_lost);
    net.cleanup();
}

/// The mean wall-clock duration of the calls is at least the mean delay the
/// fault model drew for them: the delays are really waited out. (Only a lower
/// bound: a loaded machine makes calls slower, never faster.)
#[track_caller]
fn assert_delays_waited(results: &[(Duration, Result<u64, CallError>)], drawn_mean_ms: f64) {
    let durations: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let waited = mean_ms(&durations);
    assert!(
        waited + 1.0 >= drawn_mean_ms,
        "calls took {waited:.1} ms on average, less than the {drawn_mean_ms:.1} ms drawn"
    );
}

/// SHORT_DELAY_MS: unreliable deliveries wait 0–26 ms.
#[test]
fn short_delay() {
    assert_eq!(SHORT_DELAY_MS, 27);
    let (net, _) = echo_network(1);
    net.set_reliable(false);
    let results = timed_calls(&net, 400, "s");
    let short = net.fault_stats().short;
    assert_eq!(
        short.count, 400,
        "every deliverable call draws a short delay"
    );
    // Uniform 0..=26: mean 13, sd 7.8; the mean of 400 has sd 0.39.
    assert!(
        (11.0..15.0).contains(&short.mean_ms()),
        "mean drawn {:.1} ms",
        short.mean_ms()
    );
    assert!(short.total_ms <= 400 * 26);
    assert_delays_waited(&results, short.mean_ms());
    net.cleanup();
}

/// Reliable mode draws no delay at all.
#[test]
fn reliable_has_no_delay() {
    let (net, _) = echo_network(2);
    let results = timed_calls(&net, 100, "s");
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let faults = net.fault_stats();
    assert_eq!(
        faults,
        labrpc::FaultStats::default(),
        "a reliable network drew delays"
    );
    net.cleanup();
}

/// UNDELIVERABLE_DELAY_MS: a call to nowhere fails after 0–99 ms.
#[test]
fn undeliverable_delay() {
    assert_eq!(UNDELIVERABLE_DELAY_MS, 100);
    let (net, _) = echo_network(3);
    let results = timed_calls(&net, 400, "nowhere");
    assert!(
        results
            .iter()
            .all(|(_, r)| *r == Err(CallError::Unreachable))
    );
    let drawn = net.fault_stats().undeliverable;
    assert_eq!(drawn.count, 400);
    // Uniform 0..=99: mean 49.5, sd 28.9; the mean of 400 has sd 1.4.
    assert!(
        (44.0..55.0).contains(&drawn.mean_ms()),
        "mean drawn {:.1} ms",
        drawn.mean_ms()
    );
    assert!(drawn.total_ms <= 400 * 99);
    assert_delays_waited(&results, drawn.mean_ms());
    net.cleanup();
}

/// LONG_DELAY_MS: with long delays on, a call to nowhere fails after 0–6999 ms.
#[test]
fn long_delay() {
    assert_eq!(LONG_DELAY_MS, 7000);
    let (net, _) = echo_network(4);
    net.set_long_delays(true);
    let results = timed_calls(&net, 200, "nowhere");
    let drawn = net.fault_stats().undeliverable;
    assert_eq!(drawn.count, 200);
    // Uniform 0..7000: mean 3500, sd 2021; the mean of 200 has sd 143.
    assert!(
        (2800.0..4200.0).contains(&drawn.mean_ms()),
        "mean drawn {:.0} ms",
        drawn.mean_ms()
    );
    assert!(drawn.total_ms <= 200 * 6999);
    assert_delays_waited(&results, drawn.mean_ms());
    net.cleanup();
}

/// REORDER_*: with long reordering on, about 2/3 of replies arrive 200–2199 ms
/// late, the rest at once.
#[test]
fn long_reordering() {
    assert_eq!((REORDER_NUMERATOR, REORDER_DENOMINATOR), (600, 900));
    assert_eq!((REORDER_BASE_MS, REORDER_SPREAD_MS), (200, 2000));
    let (net, _) = echo_network(5);
    net.set_long_reordering(true);
    let results = timed_calls(&net, 300, "s");
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let held = net.fault_stats().reordered;
    // Binomial(300, 2/3): mean 200, sd 8.2.
    assert!(
        (160..=240).contains(&held.count),
        "{} of 300 replies held back",
        held.count
    );
    // 200 + X, X uniform in 0..=Y, Y uniform in 0..2000: mean 200 + 500.
    assert!(
        (600.0..800.0).contains(&held.mean_ms()),
        "mean hold {:.0} ms",
        held.mean_ms()
    );
    assert!(held.total_ms <= held.count * 2199 && held.total_ms >= held.count * 200);
    let late = results
        .iter()
        .filter(|(d, _)| *d >= Duration::from_millis(REORDER_BASE_MS))
        .count() as u64;
    assert!(
        late >= held.count,
        "only {late} replies came late, {} were held",
        held.count
    );
    net.cleanup();
}

/// The same seed draws the same fault schedule for sequential calls.
#[test]
fn seed_reproduces_fault_schedule() {
    let run = |seed| {
        let (net, end) = echo_network(seed);
        net.set_reliable(false);
        let outcomes: Vec<Result<u64, CallError>> = (0..100)
            .map(|i| end.call::<u64, u64>("Echo.Id", &i))
            .collect();
        net.cleanup();
        outcomes
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}
