//! [`RwLock`]: parking_lot's read-write lock, scheduled in simulation mode.

use std::ops::{Deref, DerefMut};

use crate::sim;

/// A read-write lock (parking_lot's `RwLock` shape).
#[derive(Default, Debug)]
pub struct RwLock<T: ?Sized> {
    inner: parking_lot::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            inner: parking_lot::RwLock::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn key(&self) -> usize {
        std::ptr::from_ref(self).cast::<u8>() as usize
    }

    /// Takes a shared lock.
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        if !crate::simulated() {
            return RwLockReadGuard {
                inner: self.inner.read(),
                key: None,
            };
        }
        let ctx = sim::ctx();
        ctx.yield_point();
        loop {
            if let Some(inner) = self.inner.try_read() {
                return RwLockReadGuard {
                    inner,
                    key: Some(self.key()),
                };
            }
            ctx.block(&[self.key()], None, "RwLock::read");
        }
    }

    /// Takes the exclusive lock.
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        if !crate::simulated() {
            return RwLockWriteGuard {
                inner: self.inner.write(),
                key: None,
            };
        }
        let ctx = sim::ctx();
        ctx.yield_point();
        loop {
            if let Some(inner) = self.inner.try_write() {
                return RwLockWriteGuard {
                    inner,
                    key: Some(self.key()),
                };
            }
            ctx.block(&[self.key()], None, "RwLock::write");
        }
    }

    /// The value, through a unique borrow.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

fn wake(key: Option<usize>) {
    if let Some(key) = key
        && let Some(ctx) = sim::try_ctx()
    {
        ctx.notify_all(key);
    }
}

/// A shared lock held.
pub struct RwLockReadGuard<'a, T: ?Sized> {
    inner: parking_lot::RwLockReadGuard<'a, T>,
    key: Option<usize>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // The parking_lot guard is released after this body runs, but no
        // other simulated thread runs before the next scheduling point.
        wake(self.key);
    }
}

/// The exclusive lock held.
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: parking_lot::RwLockWriteGuard<'a, T>,
    key: Option<usize>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        wake(self.key);
    }
}
