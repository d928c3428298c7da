//! A one-way "stop" signal shared by a test and its worker threads (Go's
//! `done` channels).

use labrt::channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, bounded};
use labrt::sync::Mutex;
use std::time::Duration;

/// Raised once; workers check it between operations, sleepers wake on it.
pub struct Done {
    raise: Mutex<Option<Sender<()>>>,
    raised: Receiver<()>,
}

impl Default for Done {
    fn default() -> Self {
        Done::new()
    }
}

impl Done {
    /// A signal not yet raised.
    pub fn new() -> Done {
        let (tx, rx) = bounded(0);
        Done {
            raise: Mutex::new(Some(tx)),
            raised: rx,
        }
    }

    /// Raises the signal (idempotent).
    pub fn raise(&self) {
        self.raise.lock().take();
    }

    /// Whether the signal was raised.
    pub fn is_raised(&self) -> bool {
        matches!(self.raised.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// Sleeps for `timeout` or until the signal is raised; true if raised.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        matches!(
            self.raised.recv_timeout(timeout),
            Err(RecvTimeoutError::Disconnected)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raising wakes a sleeper at once and is seen by later checks.
    #[test]
    fn raise_wakes_waiters() {
        let done = Done::new();
        assert!(!done.is_raised());
        assert!(!done.wait_timeout(Duration::from_millis(1)));
        labrt::thread::scope(|s| {
            let waiter = s.spawn(|| done.wait_timeout(Duration::from_secs(60)));
            done.raise();
            assert!(waiter.join().unwrap());
        });
        assert!(done.is_raised());
        done.raise();
        assert!(done.is_raised());
    }
}
