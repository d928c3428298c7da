//! [`Condvar`]: parking_lot's condition variable, scheduled in simulation mode.

use crate::sim::{self, Wake};
use crate::sync::MutexGuard;
use crate::time::{Duration, Instant};

/// A condition variable (parking_lot's `Condvar` shape).
#[derive(Default, Debug)]
pub struct Condvar {
    inner: parking_lot::Condvar,
}

/// Whether a timed wait returned because its time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True if the wait ended because its time ran out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Condvar {
        Condvar {
            inner: parking_lot::Condvar::new(),
        }
    }

    fn key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Unlocks `guard`'s mutex, waits for a notification, relocks.
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        if crate::simulated() {
            self.wait_simulated(guard, None);
        } else {
            self.inner
                .wait(guard.inner.as_mut().expect("labrt: guard in use"));
        }
    }

    /// As [`Condvar::wait`], giving up after `timeout`.
    #[track_caller]
    pub fn wait_for<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        if crate::simulated() {
            let now = sim::ctx().world.now();
            let deadline =
                now.saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
            WaitTimeoutResult(self.wait_simulated(guard, Some(deadline)) == Wake::TimedOut)
        } else {
            let inner = guard.inner.as_mut().expect("labrt: guard in use");
            WaitTimeoutResult(self.inner.wait_for(inner, timeout).timed_out())
        }
    }

    /// As [`Condvar::wait`], giving up at `deadline`.
    #[track_caller]
    pub fn wait_until<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        if crate::simulated() {
            WaitTimeoutResult(self.wait_simulated(guard, Some(deadline.nanos())) == Wake::TimedOut)
        } else {
            let inner = guard.inner.as_mut().expect("labrt: guard in use");
            WaitTimeoutResult(self.inner.wait_until(inner, deadline.to_std()).timed_out())
        }
    }

    #[track_caller]
    fn wait_simulated<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<u64>,
    ) -> Wake {
        let ctx = sim::ctx();
        guard.release();
        let wake = ctx.block(&[self.key()], deadline, "Condvar::wait");
        let relocked = guard.mutex.lock_simulated(&ctx);
        let mut relocked = std::mem::ManuallyDrop::new(relocked);
        guard.inner = relocked.inner.take();
        wake
    }

    /// Wakes one waiter; true if there was one (real mode).
    pub fn notify_one(&self) -> bool {
        if crate::simulated() {
            let ctx = sim::ctx();
            ctx.notify_one(self.key());
            ctx.yield_point();
            true
        } else {
            self.inner.notify_one()
        }
    }

    /// Wakes every waiter; how many there were (real mode).
    pub fn notify_all(&self) -> usize {
        if crate::simulated() {
            let ctx = sim::ctx();
            ctx.notify_all(self.key());
            ctx.yield_point();
            0
        } else {
            self.inner.notify_all()
        }
    }
}
