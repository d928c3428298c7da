//! Lock-cycle detection while tests run (this lab's `go test -race`): with the
//! `deadlock` feature (`cargo test -p raft --features tester/deadlock`),
//! parking_lot keeps a graph of which thread waits for which lock, and a
//! checker thread looks for a cycle in it every [`CHECK_EVERY`]. When it finds
//! one it prints every thread of the cycle with the backtrace of the place it
//! waits, then the test's seed, and ends the process at once with status 1,
//! instead of letting the test sit until the 120 s watchdog.
//!
//! It sees parking_lot's `Mutex`, `RwLock` and `ReentrantMutex` (the locks of
//! this workspace). A lock held while blocking on a channel or an RPC is not a
//! cycle of locks, and it does not see that. Without the feature, [`watch`]
//! does nothing and parking_lot keeps no graph.

use std::time::Duration;

/// How often the checker looks for a cycle.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

/// Starts the checker (once per process; later calls do nothing). The tester
/// calls it when each test begins; a test without a `Config` may call it
/// itself.
pub fn watch() {
    #[cfg(feature = "deadlock")]
    checker::start();
}

#[cfg(feature = "deadlock")]
mod checker {
    use std::fmt::Write as _;
    use std::sync::Once;

    use super::CHECK_EVERY;
    use crate::failure;

    static START: Once = Once::new();

    pub(super) fn start() {
        START.call_once(|| {
            std::thread::Builder::new()
                .name("tester-deadlock-checker".into())
                .spawn(|| {
                    loop {
                        // Polling is the detector's interface: parking_lot
                        // answers "is there a cycle now?", it cannot call us.
                        std::thread::sleep(CHECK_EVERY);
                        let cycles = parking_lot::deadlock::check_deadlock();
                        if cycles.is_empty() {
                            continue;
                        }
                        let threads: usize = cycles.iter().map(Vec::len).sum();
                        let mut text = format!(
                            "Fatal: deadlock: {} cycle(s) of threads waiting for each other's locks ({threads} threads)\n",
                            cycles.len()
                        );
                        for (c, cycle) in cycles.iter().enumerate() {
                            let _ = writeln!(text, "cycle {}:", c + 1);
                            for thread in cycle {
                                let _ = writeln!(
                                    text,
                                    "  thread {:?} waits for a lock here:\n{:?}",
                                    thread.thread_id(),
                                    thread.backtrace()
                                );
                            }
                        }
                        if let Some(seed) = failure::current_seed() {
                            let _ = writeln!(text, "{}", failure::seed_line(seed));
                        }
                        eprint!("{text}");
                        std::process::exit(1);
                    }
                })
                .expect("cannot start the deadlock checker");
        });
    }
}
