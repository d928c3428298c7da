//! [`Mutex`]: parking_lot's mutex, scheduled in simulation mode.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::sim;

/// A mutual-exclusion lock (parking_lot's `Mutex` shape).
#[derive(Default)]
pub struct Mutex<T: ?Sized> {
    inner: parking_lot::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    pub(crate) fn key(&self) -> usize {
        std::ptr::from_ref(self).cast::<u8>() as usize
    }

    /// Takes the lock, blocking until it is free.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if !crate::simulated() {
            return MutexGuard {
                inner: Some(self.inner.lock()),
                mutex: self,
                simulated: false,
            };
        }
        let ctx = sim::ctx();
        ctx.yield_point();
        self.lock_simulated(&ctx)
    }

    #[track_caller]
    pub(crate) fn lock_simulated(&self, ctx: &sim::Ctx) -> MutexGuard<'_, T> {
        loop {
            if let Some(inner) = self.inner.try_lock() {
                return MutexGuard {
                    inner: Some(inner),
                    mutex: self,
                    simulated: true,
                };
            }
            ctx.block(&[self.key()], None, "Mutex::lock");
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let simulated = crate::simulated();
        if simulated {
            sim::ctx().yield_point();
        }
        self.inner.try_lock().map(|inner| MutexGuard {
            inner: Some(inner),
            mutex: self,
            simulated,
        })
    }

    /// The value, through a unique borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Whether the lock is held right now.
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The lock held: the value through `Deref`; unlocks when dropped.
pub struct MutexGuard<'a, T: ?Sized> {
    /// Always `Some` except inside a condition-variable wait.
    pub(crate) inner: Option<parking_lot::MutexGuard<'a, T>>,
    pub(crate) mutex: &'a Mutex<T>,
    /// Taken in simulation mode: unlocking wakes the scheduler's waiters
    /// (decided once at lock time, not again at every unlock).
    pub(crate) simulated: bool,
}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Unlocks (in simulation mode also wakes the threads waiting for it).
    pub(crate) fn release(&mut self) {
        self.inner = None;
        if self.simulated
            && let Some(ctx) = sim::try_ctx()
        {
            ctx.notify_all(self.mutex.key());
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner
            .as_ref()
            .expect("labrt: guard used during its wait")
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner
            .as_mut()
            .expect("labrt: guard used during its wait")
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            self.release();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
