//! Step checks: an invariant checked after every scheduling step of a world.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrt::channel;
use labrt::sync::Mutex;
use labrt::thread;
use labrt::time::Duration;

/// Two counters, `a` then `b`, bumped by three threads; with `one_lock` both
/// move in one critical section, otherwise in two, with a yield between.
fn counters(one_lock: bool, check: bool) -> (Result<(), String>, labrt::sim::Trace, u64) {
    let checks = Arc::new(AtomicU64::new(0));
    let counted = checks.clone();
    let (result, trace) = labrt::sim::run(7, "counters", move || {
        let a = Arc::new(Mutex::new(0u64));
        let b = Arc::new(Mutex::new(0u64));
        if check {
            let (a, b) = (a.clone(), b.clone());
            assert!(labrt::sim::set_step_check(Some(Box::new(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                let (a, b) = (*a.lock(), *b.lock());
                if a == b {
                    Ok(())
                } else {
                    Err(format!("a = {a} but b = {b}"))
                }
            }))));
        }
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || {
                    for _ in 0..50 {
                        if one_lock {
                            let mut ga = a.lock();
                            let mut gb = b.lock();
                            *ga += 1;
                            thread::yield_now();
                            *gb += 1;
                        } else {
                            *a.lock() += 1;
                            thread::yield_now();
                            *b.lock() += 1;
                        }
                        thread::sleep(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        labrt::sim::set_step_check(None);
    });
    let result = result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    });
    (result, trace, checks.load(Ordering::Relaxed))
}

#[test]
fn a_step_check_runs_at_every_step_and_changes_nothing() {
    let (plain, plain_trace, _) = counters(true, false);
    let (checked, checked_trace, runs) = counters(true, true);
    plain.unwrap();
    checked.unwrap();
    assert_eq!(plain_trace, checked_trace, "a check changes no decision");
    assert!(runs > 0, "the check ran");
    assert!(
        runs <= checked_trace.steps,
        "{runs} checks for {} steps",
        checked_trace.steps
    );
}

#[test]
fn a_broken_invariant_fails_the_run_at_its_step() {
    let (result, _, _) = counters(false, true);
    let report = result.expect_err("a and b are apart between the two critical sections");
    assert!(report.starts_with("step check failed at step "), "{report}");
    assert!(
        report.contains("a = ") && report.contains("but b = "),
        "{report}"
    );
}

#[test]
fn a_check_that_would_wait_is_abandoned() {
    let runs = Arc::new(AtomicU64::new(0));
    let counted = runs.clone();
    let (result, _) = labrt::sim::run(3, "waiting-check", move || {
        let (tx, rx) = channel::unbounded::<u32>();
        assert!(labrt::sim::set_step_check(Some(Box::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            // Nothing is ever sent: the check would wait for ever.
            let _ = rx.recv();
            Err("unreachable: the check cannot get past recv".to_string())
        }))));
        let sleeper = thread::spawn(|| {
            for _ in 0..10 {
                thread::sleep(Duration::from_millis(5));
            }
        });
        sleeper.join().unwrap();
        drop(tx);
        labrt::sim::set_step_check(None);
    });
    result.expect("abandoned checks fail nothing");
    assert!(runs.load(Ordering::Relaxed) > 0);
}

#[test]
fn real_mode_installs_no_check() {
    if labrt::simulated() {
        return;
    }
    assert!(!labrt::sim::set_step_check(Some(Box::new(|| Err(
        "never".into()
    )))));
}
