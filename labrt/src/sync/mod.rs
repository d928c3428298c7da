//! Locks and condition variables with parking_lot's API: `lock()` returns the
//! guard (no poisoning), `Condvar::wait(&mut guard)`. In simulation mode a
//! contended lock blocks through the scheduler, and taking one is a point
//! where another thread may run.

mod condvar;
mod mutex;
mod rwlock;

pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use std::sync::{Arc, Weak, atomic};
