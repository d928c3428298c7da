//! Seeing the deadlock no lock-cycle detector sees: a lock held while the
//! thread blocks on an RPC. [`Mutex`] is parking_lot's mutex plus a per-thread
//! record of the locks a thread holds and where it took them; when the check is
//! on, [`ClientEnd::call`](crate::ClientEnd::call) made while holding one
//! prints, once per call site per test,
//!
//! ```text
//! lock check: thread raft-S2-timer called Raft.AppendEntries while holding 1 lock (taken at raft/src/raft.rs:120:30)
//! ```
//!
//! Other blocking points report the same way through [`check_blocking`] (the
//! starter code's send on the apply channel does). The check is on when
//! `LAB_LOCKCHECK=1` is set (or after [`enable`]). Off, a lock costs one
//! relaxed atomic load more than parking_lot's.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// The variable that turns the check on (`1`).
pub const LOCKCHECK_VAR: &str = "LAB_LOCKCHECK";

/// 0: not decided yet, 1: off, 2: on.
static STATE: AtomicU8 = AtomicU8::new(0);

/// What was reported since the last [`reset`] (one line per call site).
/// Process-wide (shared by the worlds of a simulated process) and held only
/// while a line is added, so a plain lock and not a scheduling point.
#[allow(clippy::disallowed_types)]
static REPORTS: OnceLock<parking_lot::Mutex<BTreeSet<String>>> = OnceLock::new();

thread_local! {
    /// Each lock this thread holds: its guard's number and where it was
    /// taken, oldest first.
    static HELD: RefCell<Vec<(u64, &'static Location<'static>)>> = const { RefCell::new(Vec::new()) };
    /// The number the next guard of this thread gets.
    static NEXT_GUARD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether the check is on.
pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var(LOCKCHECK_VAR).is_ok_and(|v| v == "1");
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        state => state == 2,
    }
}

/// Turns the check on for the rest of the process (tests of the check).
pub fn enable() {
    STATE.store(2, Ordering::Relaxed);
}

/// Starts a new test: forget what was reported, so each call site is reported
/// again once.
pub fn reset() {
    reports().lock().clear();
}

/// The reports made since the last [`reset`].
pub fn reported() -> Vec<String> {
    reports().lock().iter().cloned().collect()
}

#[allow(clippy::disallowed_types)]
fn reports() -> &'static parking_lot::Mutex<BTreeSet<String>> {
    REPORTS.get_or_init(Default::default)
}

/// Call before anything that may block (labrpc's `call` does): when the check
/// is on and this thread holds a checked lock, reports `what` (once per call
/// site and test). For example `check_blocking("the apply channel")` before a
/// send that waits for the service.
pub fn check_blocking(what: &str) {
    if enabled() {
        report_if_holding(&format!("waits on {what}"));
    }
}

/// Reports `doing` ("called Raft.AppendEntries") if this thread holds a
/// checked lock (callers check [`enabled`] first, so that nothing is
/// formatted while the check is off).
pub(crate) fn report_if_holding(doing: &str) {
    let Some(line) = HELD.with(|held| {
        let held = held.borrow();
        let (_, first) = held.first()?;
        let thread = std::thread::current();
        Some(format!(
            "lock check: thread {} {doing} while holding {} lock{} (taken at {first})",
            thread.name().unwrap_or("<unnamed>"),
            held.len(),
            if held.len() == 1 { "" } else { "s" },
        ))
    }) else {
        return;
    };
    if reports().lock().insert(line.clone()) {
        eprintln!("{line}");
        log::warn!(target: "labrpc::lockcheck", "{line}");
    }
}

/// A mutual-exclusion lock (parking_lot's) that, when the check is on,
/// records on its thread where it was taken, so a blocking RPC made while
/// holding it is reported.
#[derive(Default)]
pub struct Mutex<T> {
    inner: labrt::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: labrt::sync::Mutex::new(value),
        }
    }

    /// Waits for the lock; it is released when the guard drops.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let guard = self.inner.lock();
        MutexGuard::record(guard, Location::caller())
    }

    /// The lock if it is free now, else `None` (never waits).
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        Some(MutexGuard::record(guard, Location::caller()))
    }

    /// The value, without locking (the mutex is borrowed mutably).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The value, without locking (the mutex is owned).
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// Holds a [`Mutex`] locked; derefs to the value.
pub struct MutexGuard<'a, T> {
    guard: labrt::sync::MutexGuard<'a, T>,
    /// Its number in this thread's record, when the check is on.
    record: Option<u64>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// Wraps a taken lock, recording it on this thread when the check is on.
    fn record(guard: labrt::sync::MutexGuard<'a, T>, at: &'static Location<'static>) -> Self {
        let record = enabled().then(|| {
            let number = NEXT_GUARD.with(|next| next.replace(next.get() + 1));
            HELD.with(|held| held.borrow_mut().push((number, at)));
            number
        });
        MutexGuard { guard, record }
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(number) = self.record {
            HELD.with(|held| held.borrow_mut().retain(|(n, _)| *n != number));
        }
    }
}
