//! One test per constant of the fault model (`labrpc::constants`): the value
//! is the spec's, and the network behaves by it. Loss rates are counted on
//! sequential calls under a fixed seed; delays are measured on concurrent
//! calls, with generous upper slack because the machine may be loaded.

use labrpc::constants::*;
use labrpc::{CallError, Network, Server, Service};
use std::thread;
use std::time::{Duration, Instant};

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
/// duration and result.
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

/// SHORT_DELAY_MS: unreliable deliveries wait 0–26 ms.
#[test]
fn short_delay() {
    assert_eq!(SHORT_DELAY_MS, 27);
    let (net, _) = echo_network(1);
    net.set_reliable(false);
    let results = timed_calls(&net, 200, "s");
    let delays: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let mean = mean_ms(&delays);
    // Uniform 0..=26 has mean 13; the slack above is for a loaded machine.
    assert!((9.0..60.0).contains(&mean), "mean delay {mean:.1} ms");
    net.cleanup();
}

/// Reliable mode adds no delay at all.
#[test]
fn reliable_has_no_delay() {
    let (net, _) = echo_network(2);
    let results = timed_calls(&net, 100, "s");
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let delays: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let mean = mean_ms(&delays);
    assert!(mean < 9.0, "mean delay {mean:.1} ms on a reliable network");
    net.cleanup();
}

/// UNDELIVERABLE_DELAY_MS: a call to nowhere fails after 0–99 ms.
#[test]
fn undeliverable_delay() {
    assert_eq!(UNDELIVERABLE_DELAY_MS, 100);
    let (net, _) = echo_network(3);
    let results = timed_calls(&net, 200, "nowhere");
    assert!(
        results
            .iter()
            .all(|(_, r)| *r == Err(CallError::Unreachable))
    );
    let delays: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let mean = mean_ms(&delays);
    assert!((38.0..110.0).contains(&mean), "mean delay {mean:.1} ms");
    let longest = delays.iter().max().unwrap();
    assert!(*longest < Duration::from_millis(400), "longest {longest:?}");
    net.cleanup();
}

/// LONG_DELAY_MS: with long delays on, a call to nowhere fails after 0–6999 ms.
#[test]
fn long_delay() {
    assert_eq!(LONG_DELAY_MS, 7000);
    let (net, _) = echo_network(4);
    net.set_long_delays(true);
    let results = timed_calls(&net, 60, "nowhere");
    let delays: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let mean = mean_ms(&delays);
    // Uniform 0..7000: mean 3500, sd of the mean of 60 samples ≈ 260.
    assert!((2200.0..4800.0).contains(&mean), "mean delay {mean:.0} ms");
    let longest = delays.iter().max().unwrap();
    assert!(
        *longest < Duration::from_millis(7500),
        "longest {longest:?}"
    );
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
    let results = timed_calls(&net, 150, "s");
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let late = results
        .iter()
        .filter(|(d, _)| *d >= Duration::from_millis(REORDER_BASE_MS))
        .count();
    // Binomial(150, 2/3): mean 100, sd 5.8.
    assert!(
        (70..=130).contains(&late),
        "{late} of 150 replies held back"
    );
    let longest = results.iter().map(|(d, _)| *d).max().unwrap();
    assert!(longest < Duration::from_millis(2700), "longest {longest:?}");
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
