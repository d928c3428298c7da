//! Channels with crossbeam's API: [`bounded`] (capacity 0 is a rendezvous),
//! [`unbounded`], `send`/`recv`/`try_recv`/`recv_timeout`, the timer channels
//! [`after`], [`at`], [`tick`], [`never`], and [`select!`](crate::select). Real
//! mode is crossbeam itself; in simulation mode a channel is a queue whose
//! blocked ends wait through the scheduler, and timers run on virtual time.

mod select;
mod simchan;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam::channel as cb;

pub use cb::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use select::{Select, SelectedOperation};

use crate::sim;
use crate::time::{Duration, Instant};
use simchan::{SimChan, TryRecv, TrySend};

/// The sending half of a channel.
pub struct Sender<T> {
    flavor: SenderFlavor<T>,
}

enum SenderFlavor<T> {
    Real(cb::Sender<T>),
    Sim(Arc<SimChan<T>>),
}

/// The receiving half of a channel.
pub struct Receiver<T> {
    flavor: ReceiverFlavor<T>,
}

enum ReceiverFlavor<T> {
    Real(cb::Receiver<T>),
    /// crossbeam's `after`/`at`/`tick`, delivering our `Instant`.
    RealTimer(cb::Receiver<std::time::Instant>, fn(Instant) -> T),
    Sim(Arc<SimChan<T>>),
    SimTimer(Arc<SimTimer>, fn(Instant) -> T),
    SimNever,
}

/// A simulated timer channel: its next delivery (virtual nanoseconds,
/// `u64::MAX` for never again) and its period.
pub(crate) struct SimTimer {
    next: AtomicU64,
    period: Option<u64>,
}

impl SimTimer {
    pub(crate) fn deadline(&self) -> Option<u64> {
        match self.next.load(Ordering::Relaxed) {
            u64::MAX => None,
            t => Some(t),
        }
    }

    /// Delivers if due: the delivery's instant.
    pub(crate) fn fire(&self, now: u64) -> Option<Instant> {
        let next = self.deadline()?;
        if next > now {
            return None;
        }
        let following = match self.period {
            Some(p) => next.saturating_add(p.max(1)).max(now),
            None => u64::MAX,
        };
        self.next.store(following, Ordering::Relaxed);
        Some(Instant::from_nanos(next))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn new_pair<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    if crate::simulated() {
        let chan = Arc::new(SimChan::new(cap));
        return (
            Sender {
                flavor: SenderFlavor::Sim(chan.clone()),
            },
            Receiver {
                flavor: ReceiverFlavor::Sim(chan),
            },
        );
    }
    let (tx, rx) = match cap {
        None => cb::unbounded(),
        Some(cap) => cb::bounded(cap),
    };
    (
        Sender {
            flavor: SenderFlavor::Real(tx),
        },
        Receiver {
            flavor: ReceiverFlavor::Real(rx),
        },
    )
}

/// A channel holding at most `cap` values; `bounded(0)` is a rendezvous, whose
/// send completes when a receiver takes the value.
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    new_pair(Some(cap))
}

/// A channel of unlimited capacity.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new_pair(None)
}

fn sim_timer(first: u64, period: Option<u64>) -> Receiver<Instant> {
    Receiver {
        flavor: ReceiverFlavor::SimTimer(
            Arc::new(SimTimer {
                next: AtomicU64::new(first),
                period,
            }),
            |i| i,
        ),
    }
}

/// A channel that delivers the time once, after `d`.
pub fn after(d: Duration) -> Receiver<Instant> {
    if crate::simulated() {
        let now = sim::ctx().world.now();
        return sim_timer(now.saturating_add(nanos(d)), None);
    }
    Receiver {
        flavor: ReceiverFlavor::RealTimer(cb::after(d), |i| i),
    }
}

/// A channel that delivers the time once, at `when`.
pub fn at(when: Instant) -> Receiver<Instant> {
    if crate::simulated() {
        return sim_timer(when.nanos(), None);
    }
    Receiver {
        flavor: ReceiverFlavor::RealTimer(cb::at(when.to_std()), |i| i),
    }
}

/// A channel that delivers the time every `period`.
pub fn tick(period: Duration) -> Receiver<Instant> {
    if crate::simulated() {
        let now = sim::ctx().world.now();
        return sim_timer(now.saturating_add(nanos(period)), Some(nanos(period)));
    }
    Receiver {
        flavor: ReceiverFlavor::RealTimer(cb::tick(period), |i| i),
    }
}

/// A channel that never delivers.
pub fn never<T>() -> Receiver<T> {
    if crate::simulated() {
        return Receiver {
            flavor: ReceiverFlavor::SimNever,
        };
    }
    Receiver {
        flavor: ReceiverFlavor::Real(cb::never()),
    }
}

impl<T> Sender<T> {
    /// Sends `value`, blocking while the channel is full (a rendezvous: until
    /// a receiver takes it). `Err` if every receiver is gone.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match &self.flavor {
            SenderFlavor::Real(tx) => tx.send(value),
            SenderFlavor::Sim(chan) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                chan.send(&ctx, value).map_err(SendError)
            }
        }
    }

    /// Sends `value` if that needs no waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match &self.flavor {
            SenderFlavor::Real(tx) => tx.try_send(value),
            SenderFlavor::Sim(chan) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                chan.try_send_now(&ctx, value).map_err(|e| match e {
                    TrySend::Full(v) => TrySendError::Full(v),
                    TrySend::Disconnected(v) => TrySendError::Disconnected(v),
                })
            }
        }
    }

    /// Values waiting in the channel.
    pub fn len(&self) -> usize {
        match &self.flavor {
            SenderFlavor::Real(tx) => tx.len(),
            SenderFlavor::Sim(chan) => chan.len(),
        }
    }

    /// Whether no value waits in the channel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The channel's capacity (`None`: unbounded).
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            SenderFlavor::Real(tx) => tx.capacity(),
            SenderFlavor::Sim(chan) => chan.capacity(),
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            SenderFlavor::Real(tx) => SenderFlavor::Real(tx.clone()),
            SenderFlavor::Sim(chan) => {
                chan.add_sender();
                SenderFlavor::Sim(chan.clone())
            }
        };
        Sender { flavor }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let SenderFlavor::Sim(chan) = &self.flavor {
            chan.drop_sender();
        }
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sender { .. }")
    }
}

impl<T> Receiver<T> {
    /// Receives a value, blocking until one comes; `Err` once the channel is
    /// empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        match self.recv_until(None) {
            Ok(value) => Ok(value),
            Err(_) => Err(RecvError),
        }
    }

    /// As [`Receiver::recv`], giving up after `timeout`.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        if let ReceiverFlavor::Real(rx) = &self.flavor {
            return rx.recv_timeout(timeout);
        }
        if let ReceiverFlavor::RealTimer(rx, map) = &self.flavor {
            return rx.recv_timeout(timeout).map(|i| map(Instant::from_std(i)));
        }
        let now = sim::ctx().world.now();
        self.recv_until(Some(now.saturating_add(nanos(timeout))))
    }

    /// As [`Receiver::recv`], giving up at `deadline`.
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            ReceiverFlavor::Real(rx) => rx.recv_deadline(deadline.to_std()),
            ReceiverFlavor::RealTimer(rx, map) => rx
                .recv_deadline(deadline.to_std())
                .map(|i| map(Instant::from_std(i))),
            _ => self.recv_until(Some(deadline.nanos())),
        }
    }

    /// Receives with an optional virtual deadline (simulation mode), or
    /// blocks (real mode, no deadline).
    #[track_caller]
    fn recv_until(&self, deadline: Option<u64>) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            ReceiverFlavor::Real(rx) => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            ReceiverFlavor::RealTimer(rx, map) => rx
                .recv()
                .map(|i| map(Instant::from_std(i)))
                .map_err(|_| RecvTimeoutError::Disconnected),
            ReceiverFlavor::Sim(chan) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                chan.recv(&ctx, deadline).map_err(|disconnected| {
                    if disconnected {
                        RecvTimeoutError::Disconnected
                    } else {
                        RecvTimeoutError::Timeout
                    }
                })
            }
            ReceiverFlavor::SimTimer(timer, map) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                loop {
                    let now = ctx.world.now();
                    if let Some(at) = timer.fire(now) {
                        return Ok(map(at));
                    }
                    let wake_at = match (timer.deadline(), deadline) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    let wake = ctx.block(&[], wake_at, "Receiver::recv (timer)");
                    if wake == sim::Wake::TimedOut
                        && let Some(d) = deadline
                        && ctx.world.now() >= d
                        && timer.deadline().is_none_or(|t| t > d)
                    {
                        return Err(RecvTimeoutError::Timeout);
                    }
                }
            }
            ReceiverFlavor::SimNever => {
                let ctx = sim::ctx();
                ctx.block(&[], deadline, "Receiver::recv (never)");
                Err(RecvTimeoutError::Timeout)
            }
        }
    }

    /// Takes a value if one is waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.flavor {
            ReceiverFlavor::Real(rx) => rx.try_recv(),
            ReceiverFlavor::RealTimer(rx, map) => rx.try_recv().map(|i| map(Instant::from_std(i))),
            ReceiverFlavor::Sim(chan) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                chan.try_recv_now(&ctx).map_err(|e| match e {
                    TryRecv::Empty => TryRecvError::Empty,
                    TryRecv::Disconnected => TryRecvError::Disconnected,
                })
            }
            ReceiverFlavor::SimTimer(timer, map) => {
                let ctx = sim::ctx();
                ctx.yield_point();
                timer
                    .fire(ctx.world.now())
                    .map(map)
                    .ok_or(TryRecvError::Empty)
            }
            ReceiverFlavor::SimNever => Err(TryRecvError::Empty),
        }
    }

    /// Values waiting in the channel.
    pub fn len(&self) -> usize {
        match &self.flavor {
            ReceiverFlavor::Real(rx) => rx.len(),
            ReceiverFlavor::RealTimer(rx, _) => rx.len(),
            ReceiverFlavor::Sim(chan) => chan.len(),
            ReceiverFlavor::SimTimer(..) | ReceiverFlavor::SimNever => 0,
        }
    }

    /// Whether no value waits in the channel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A blocking iterator over received values, ending when every sender is
    /// gone.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// An iterator over the values waiting now.
    pub fn try_iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        let flavor = match &self.flavor {
            ReceiverFlavor::Real(rx) => ReceiverFlavor::Real(rx.clone()),
            ReceiverFlavor::RealTimer(rx, map) => ReceiverFlavor::RealTimer(rx.clone(), *map),
            ReceiverFlavor::Sim(chan) => {
                chan.add_receiver();
                ReceiverFlavor::Sim(chan.clone())
            }
            ReceiverFlavor::SimTimer(timer, map) => ReceiverFlavor::SimTimer(timer.clone(), *map),
            ReceiverFlavor::SimNever => ReceiverFlavor::SimNever,
        };
        Receiver { flavor }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let ReceiverFlavor::Sim(chan) = &self.flavor {
            chan.drop_receiver();
        }
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

/// A blocking iterator that owns its receiver (`for v in receiver`).
pub struct IntoIter<T> {
    receiver: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { receiver: self }
    }
}
