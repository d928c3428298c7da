//! Simulation mode: exact replay, virtual time, and the deadlock and livelock
//! reports. Each test runs its own world through `labrt::sim::run`, so these
//! tests need no `LAB_SIM`.

// The fixtures measure their own wall time with std's clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrt::channel;
use labrt::sync::{Condvar, Mutex};
use labrt::thread;
use labrt::time::{Duration, Instant};

/// Many threads sharing a lock, channels, timers and random draws; returns
/// the order in which things happened.
fn workload() -> Vec<String> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = channel::bounded::<u32>(0);
    let mut handles = Vec::new();
    for i in 0..4u32 {
        let tx = tx.clone();
        let events = events.clone();
        handles.push(
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for round in 0..5u32 {
                        let pause = labrt::rand::random_range(1..20u64);
                        thread::sleep(Duration::from_millis(pause));
                        events
                            .lock()
                            .push(format!("w{i} r{round} at {:?}", Instant::now()));
                        tx.send(i * 10 + round).unwrap();
                    }
                })
                .unwrap(),
        );
    }
    drop(tx);
    let consumer_events = events.clone();
    let consumer = thread::spawn(move || {
        let tick = channel::tick(Duration::from_millis(7));
        let mut got = 0;
        loop {
            labrt::select! {
                recv(rx) -> v => match v {
                    Ok(v) => { consumer_events.lock().push(format!("got {v}")); got += 1; }
                    Err(_) => break,
                },
                recv(tick) -> _ => consumer_events.lock().push("tick".into()),
            }
        }
        got
    });
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(consumer.join().unwrap(), 20);
    Arc::try_unwrap(events).unwrap().into_inner()
}

#[test]
fn one_seed_gives_one_run() {
    let runs: Vec<_> = (0..5)
        .map(|_| {
            let (result, trace) = labrt::sim::run(42, "replay", workload);
            (result.unwrap(), trace)
        })
        .collect();
    for (events, trace) in &runs[1..] {
        assert_eq!(events, &runs[0].0);
        assert_eq!(trace, &runs[0].1);
    }
    let (other, other_trace) = labrt::sim::run(43, "replay", workload);
    assert_ne!(other_trace.digest, runs[0].1.digest);
    assert_ne!(
        other.unwrap(),
        runs[0].0,
        "another seed, another interleaving"
    );
}

#[test]
fn virtual_time_costs_no_wall_time() {
    let wall = std::time::Instant::now();
    let (result, trace) = labrt::sim::run(1, "sleeper", || {
        let start = Instant::now();
        let sleeper = thread::spawn(|| thread::sleep(Duration::from_secs(100)));
        let (_tx, rx) = channel::unbounded::<()>();
        assert!(rx.recv_timeout(Duration::from_secs(30)).is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(30));
        sleeper.join().unwrap();
        start.elapsed()
    });
    assert_eq!(result.unwrap(), Duration::from_secs(100));
    assert_eq!(trace.elapsed, Duration::from_secs(100));
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "took {:?}",
        wall.elapsed()
    );
}

/// Runs `f` as a world with the panic hook silenced (the report is the
/// panic's payload; the default hook would spend its time printing a
/// backtrace), and returns the result with the wall time it took.
fn run_quietly(
    seed: u64,
    f: impl FnOnce() + Send + 'static,
) -> (thread::Result<()>, std::time::Duration) {
    let wall = std::time::Instant::now();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (result, _) = labrt::sim::run(seed, "fixture", f);
    let took = wall.elapsed();
    std::panic::set_hook(hook);
    (result, took)
}

fn panic_text(result: thread::Result<()>) -> String {
    let payload = result.expect_err("the world should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn lock_cycle_is_reported_as_a_deadlock() {
    let (result, took) = run_quietly(7, || {
        let a = Arc::new(Mutex::new(()));
        let b = Arc::new(Mutex::new(()));
        let (a2, b2) = (a.clone(), b.clone());
        let first = thread::Builder::new()
            .name("takes-a-then-b".into())
            .spawn(move || {
                let _a = a2.lock();
                thread::sleep(Duration::from_millis(10));
                let _b = b2.lock();
            })
            .unwrap();
        let second = thread::Builder::new()
            .name("takes-b-then-a".into())
            .spawn(move || {
                let _b = b.lock();
                thread::sleep(Duration::from_millis(10));
                let _a = a.lock();
            })
            .unwrap();
        first.join().unwrap();
        second.join().unwrap();
    });
    let text = panic_text(result);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(text.contains("deadlock"), "{text}");
    assert!(
        text.contains("\"takes-a-then-b\" waits in Mutex::lock at"),
        "{text}"
    );
    assert!(
        text.contains("\"takes-b-then-a\" waits in Mutex::lock at"),
        "{text}"
    );
    assert!(text.contains("waits in JoinHandle::join"), "{text}");
    assert!(text.contains("tests/sim.rs"), "{text}");
}

#[test]
fn lock_held_across_a_rendezvous_send_is_reported() {
    let (result, took) = run_quietly(8, || {
        let state = Arc::new(Mutex::new(0u32));
        let (tx, rx) = channel::bounded::<u32>(0);
        let state2 = state.clone();
        let applier = thread::Builder::new()
            .name("applier".into())
            .spawn(move || {
                let guard = state2.lock();
                tx.send(*guard).unwrap();
            })
            .unwrap();
        thread::sleep(Duration::from_millis(1));
        let service = thread::Builder::new()
            .name("service".into())
            .spawn(move || {
                *state.lock() += 1;
                rx.recv().unwrap()
            })
            .unwrap();
        applier.join().unwrap();
        service.join().unwrap();
    });
    let text = panic_text(result);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(
        text.contains("\"applier\" waits in Sender::send (rendezvous)"),
        "{text}"
    );
    assert!(text.contains("\"service\" waits in Mutex::lock"), "{text}");
}

#[test]
fn spinning_on_the_clock_is_reported_as_a_livelock() {
    let (result, took) = run_quietly(9, || {
        let spinner = thread::Builder::new()
            .name("spinner".into())
            .spawn(|| {
                let deadline = Instant::now() + Duration::from_millis(10);
                while Instant::now() < deadline {}
            })
            .unwrap();
        spinner.join().unwrap();
    });
    let text = panic_text(result);
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(text.contains("livelock"), "{text}");
    assert!(text.contains("spins at labrt/tests/sim.rs:"), "{text}");
    assert!(text.contains("\"spinner\""), "{text}");
    assert!(
        text.contains("sim.rs"),
        "the backtrace names the loop: {text}"
    );
}

#[test]
fn rendezvous_send_waits_for_the_receiver() {
    let (result, _) = labrt::sim::run(3, "rendezvous-ok", || {
        let (tx, rx) = channel::bounded::<Instant>(0);
        let sender = thread::spawn(move || {
            tx.send(Instant::now()).unwrap();
            Instant::now()
        });
        thread::sleep(Duration::from_secs(2));
        let sent_at = rx.recv().unwrap();
        let returned_at = sender.join().unwrap();
        (sent_at, returned_at)
    });
    let (sent_at, returned_at) = result.unwrap();
    assert_eq!(returned_at - sent_at, Duration::from_secs(2));
    assert!(
        labrt::sim::run(4, "try", || channel::bounded::<u8>(0)
            .0
            .try_send(1)
            .is_err())
        .0
        .unwrap()
    );
}

#[test]
fn select_timeouts_and_timers_run_on_virtual_time() {
    let (result, _) = labrt::sim::run(5, "select", || {
        let start = Instant::now();
        let (_tx, rx) = channel::unbounded::<u8>();
        let first = labrt::select! {
            recv(rx) -> _ => "message",
            default(Duration::from_millis(250)) => "timeout",
        };
        let after_default = start.elapsed();
        let second = labrt::select! {
            recv(rx) -> _ => "message",
            recv(channel::after(Duration::from_millis(100))) -> _ => "after",
        };
        let third = labrt::select! {
            recv(rx) -> _ => "message",
            default => "nothing ready",
        };
        (first, after_default, second, third, start.elapsed())
    });
    let (first, after_default, second, third, total) = result.unwrap();
    assert_eq!(
        (first, second, third),
        ("timeout", "after", "nothing ready")
    );
    assert_eq!(after_default, Duration::from_millis(250));
    assert_eq!(total, Duration::from_millis(350));
}

#[test]
fn condvar_wait_for_times_out_and_wakes() {
    let (result, _) = labrt::sim::run(6, "condvar", || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let mut guard = pair.0.lock();
        let timed_out = pair
            .1
            .wait_for(&mut guard, Duration::from_secs(1))
            .timed_out();
        drop(guard);
        let pair2 = pair.clone();
        let setter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(30));
            *pair2.0.lock() = true;
            pair2.1.notify_all();
        });
        let mut guard = pair.0.lock();
        while !*guard {
            assert!(
                !pair
                    .1
                    .wait_for(&mut guard, Duration::from_secs(5))
                    .timed_out()
            );
        }
        drop(guard);
        setter.join().unwrap();
        timed_out
    });
    assert!(result.unwrap());
}

#[test]
fn scoped_threads_are_joined_through_the_scheduler() {
    let (result, _) = labrt::sim::run(10, "scope", || {
        let total = AtomicU64::new(0);
        thread::scope(|s| {
            for i in 1..=4 {
                let total = &total;
                s.spawn(move || {
                    thread::sleep(Duration::from_millis(i * 10));
                    total.fetch_add(i, Ordering::SeqCst);
                });
            }
        });
        (total.load(Ordering::SeqCst), Instant::now().since_start())
    });
    let (total, now) = result.unwrap();
    assert_eq!(total, 10);
    assert_eq!(now, Duration::from_millis(40));
}

#[test]
fn threads_left_running_unwind_when_the_world_ends() {
    let (result, _) = labrt::sim::run(11, "leftover", || {
        let (_tx, rx) = channel::unbounded::<()>();
        thread::spawn(move || {
            let _ = rx.recv();
        });
        thread::spawn(|| {
            loop {
                thread::sleep(Duration::from_millis(100));
            }
        });
        thread::sleep(Duration::from_secs(1));
    });
    result.unwrap();
}
