//! The lock-cycle detector (`--features deadlock`) against a fixture that
//! deadlocks on purpose: two threads take two locks in opposite orders. The
//! fixture runs in a child process (the detector ends its process); the parent
//! checks that it ended within 2 s, naming the deadlock and printing both
//! threads' backtraces. (Tool tests; they follow no Go suite.)
#![cfg(feature = "deadlock")]

use labrt::time::{Duration, Instant};
use std::process::Command;
use std::sync::{Arc, Barrier};

use labrt::sync::Mutex;

const FIXTURE_VAR: &str = "TESTER_DEADLOCK_FIXTURE";

/// Takes `first`, waits until the other thread holds its first lock, then
/// takes `second`: with the other thread doing the same in the opposite
/// order, neither ever gets its second lock.
fn lock_in_order(first: &Mutex<u32>, second: &Mutex<u32>, both_hold_one: &Barrier) -> u32 {
    let a = first.lock();
    both_hold_one.wait();
    let b = second.lock();
    *a + *b
}

fn deadlock_on_purpose() {
    tester::deadlock::watch();
    let (x, y) = (Arc::new(Mutex::new(1)), Arc::new(Mutex::new(2)));
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [(x.clone(), y.clone()), (y, x)]
        .into_iter()
        .map(|(first, second)| {
            let barrier = barrier.clone();
            labrt::thread::spawn(move || lock_in_order(&first, &second, &barrier))
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
    unreachable!("the two threads deadlock");
}

#[test]
fn opposite_lock_order_is_caught_within_two_seconds() {
    if std::env::var_os(FIXTURE_VAR).is_some() {
        deadlock_on_purpose();
    }
    let start = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "opposite_lock_order_is_caught_within_two_seconds",
            "--nocapture",
        ])
        .env(FIXTURE_VAR, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        took < Duration::from_secs(2),
        "caught after {took:?}:\n{stderr}"
    );
    assert!(
        stderr.contains(
            "Fatal: deadlock: 1 cycle(s) of threads waiting for each other's locks (2 threads)"
        ),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("waits for a lock here").count(),
        2,
        "{stderr}"
    );
    assert!(
        stderr.matches("lock_in_order").count() >= 2,
        "both backtraces show the fixture:\n{stderr}"
    );
}
