//! Making failures visible: the seed of a failing test, and failures on
//! background threads (a Raft applier, a client worker), which would otherwise
//! vanish with their thread.

use labrt::sync::{Condvar, Mutex};
use labrt::time::{Duration, Instant};
use std::sync::{Arc, Once};
use std::thread::ThreadId;

/// The test in progress, as the panic hook sees it.
struct Current {
    seed: u64,
    test: String,
    test_thread: ThreadId,
    failure: FailureHandle,
}

// Process-wide, so not a runtime lock: it is shared by every world of a
// simulated process and is never held across a runtime operation.
#[allow(clippy::disallowed_types)]
static CURRENT: parking_lot::Mutex<Option<Current>> = parking_lot::Mutex::new(None);
static HOOK: Once = Once::new();

/// Records the first failure seen on any thread of a test, for the test's
/// own thread to report. Cloning shares the record.
#[derive(Clone, Default)]
pub struct FailureHandle {
    first: Arc<Mutex<Option<String>>>,
    /// Wakes [`FailureHandle::wait_for`] when the first failure is recorded.
    recorded: Arc<Condvar>,
}

impl FailureHandle {
    /// Fails the test from any thread: prints `Fatal: <message>` and keeps the
    /// message (the first one wins) for the test thread's next check; wakes
    /// every thread waiting in [`FailureHandle::wait_for`].
    pub fn fail(&self, message: impl std::fmt::Display) {
        let message = message.to_string();
        println!("Fatal: {message}");
        log::error!(target: "tester::test", "Fatal: {message}");
        self.record(message);
    }

    /// Keeps `message` unless a failure is recorded already, and wakes the
    /// waiters.
    fn record(&self, message: String) {
        self.first.lock().get_or_insert(message);
        self.recorded.notify_all();
    }

    /// The first failure recorded, if any.
    pub fn get(&self) -> Option<String> {
        self.first.lock().clone()
    }

    /// Waits for `timeout`, or less if a failure is (or already was)
    /// recorded: a sleep that a failure on another thread cuts short, so a
    /// test that failed never waits out a pause. Returns the first failure,
    /// if any.
    pub fn wait_for(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut first = self.first.lock();
        while first.is_none() {
            if self.recorded.wait_until(&mut first, deadline).timed_out() {
                break;
            }
        }
        first.clone()
    }
}

/// The failure record of the test in progress (the one whose [`crate::Config`]
/// was made last and not yet dropped), for helpers that have no `Config` at
/// hand, e.g. a failure-aware sleep; `None` between tests.
pub fn current_failure() -> Option<FailureHandle> {
    CURRENT.lock().as_ref().map(|c| c.failure.clone())
}

/// The line that tells how to replay a run.
pub fn seed_line(seed: u64) -> String {
    format!(
        "seed: {seed} (replay this test with {}={seed})",
        labrpc::rng::SEED_VAR
    )
}

/// The line that tells how to replay test `test`: in simulation mode the one
/// command that replays the run exactly, in real mode [`seed_line`].
pub fn replay_line(seed: u64, test: &str) -> String {
    if !labrt::simulated() {
        return seed_line(seed);
    }
    let mut command = format!(
        "{}=1 {}={seed} cargo test",
        labrt::SIM_VAR,
        labrpc::rng::SEED_VAR
    );
    if let Ok(package) = std::env::var("CARGO_PKG_NAME") {
        command.push_str(&format!(" -p {package}"));
    }
    if let Some(binary) = test_binary_name() {
        command.push_str(&format!(" --test {binary}"));
    }
    command.push_str(&format!(" -- --exact {test}"));
    format!("seed: {seed} (replay this run exactly: {command})")
}

/// The test binary's target name (`raft_test` of `raft_test-0123abcd…`).
fn test_binary_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let (name, hash) = stem.rsplit_once('-')?;
    hash.chars()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| name.to_string())
}

/// Whether a check that measures real time (how fast the student's code
/// runs on the CPU, e.g. the speed tests' bound per operation) can be made:
/// true in real mode. In simulation mode code takes no virtual time, so the
/// check would pass vacuously: this prints that `check` is not made and how
/// to make it, and returns false. The rest of the test still runs.
pub fn real_time_check(check: &str) -> bool {
    if !labrt::simulated() {
        return true;
    }
    println!(
        "  ... not checked in simulation mode: {check} (it measures real time; run without {}=1)",
        labrt::SIM_VAR
    );
    false
}

/// In simulation mode, the line with the run's trace: the same seed gives the
/// same digest.
pub fn trace_line() -> Option<String> {
    let trace = labrt::sim::trace()?;
    Some(format!(
        "  ... simulated: seed {} digest {:016x} ({} steps, {:.1} s virtual)",
        trace.seed,
        trace.digest,
        trace.steps,
        trace.elapsed.as_secs_f64()
    ))
}

/// Makes the test running on this thread the current one, and installs (once
/// per process) a panic hook that prints its seed and records panics of
/// other threads as the test's failure.
pub(crate) fn begin_test(seed: u64, test: &str, failure: FailureHandle) {
    HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default_hook(info);
            if let Some(current) = CURRENT.lock().as_ref() {
                eprintln!("{}", replay_line(current.seed, &current.test));
                if std::thread::current().id() != current.test_thread {
                    let thread = std::thread::current();
                    let message = format!(
                        "thread '{}' panicked: {}",
                        thread.name().unwrap_or("<unnamed>"),
                        panic_text(info)
                    );
                    current.failure.record(message);
                }
            }
        }));
    });
    crate::deadlock::watch();
    labrpc::lockcheck::reset();
    *CURRENT.lock() = Some(Current {
        seed,
        test: test.to_string(),
        test_thread: std::thread::current().id(),
        failure,
    });
}

/// The seed of the test in progress, if any (for the deadlock checker).
#[cfg(feature = "deadlock")]
pub(crate) fn current_seed() -> Option<u64> {
    CURRENT.lock().as_ref().map(|current| current.seed)
}

/// The test on this thread is over.
pub(crate) fn end_test() {
    let mut current = CURRENT.lock();
    if current
        .as_ref()
        .is_some_and(|c| c.test_thread == std::thread::current().id())
    {
        *current = None;
    }
}

fn panic_text(info: &std::panic::PanicHookInfo) -> String {
    payload_text(info.payload())
}

/// A panic payload's message (`panic!`'s `&str` or `String`).
pub(crate) fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic".into()
    }
}
