//! The simulated channel: a queue under a lock, whose blocked senders and
//! receivers wait through the scheduler. A rendezvous channel (capacity 0)
//! holds the values of blocked senders; a send completes when its value is
//! taken.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::sim::{self, Wake};

pub(crate) struct SimChan<T> {
    state: Mutex<ChanState<T>>,
}

struct ChanState<T> {
    /// Values with their tickets (a rendezvous sender looks for its own).
    queue: VecDeque<(u64, T)>,
    /// `None`: unbounded.
    cap: Option<usize>,
    senders: usize,
    receivers: usize,
    /// Receivers blocked in `recv` or a `select` that includes this channel.
    waiting_receivers: usize,
    /// Values ever queued (the next ticket).
    pushed: u64,
}

/// Why a non-blocking send did not send.
pub(crate) enum TrySend<T> {
    Full(T),
    Disconnected(T),
}

/// Why a non-blocking receive did not receive.
pub(crate) enum TryRecv {
    Empty,
    Disconnected,
}

impl<T> SimChan<T> {
    pub(crate) fn new(cap: Option<usize>) -> SimChan<T> {
        SimChan {
            state: Mutex::new(ChanState {
                queue: VecDeque::new(),
                cap,
                senders: 1,
                receivers: 1,
                waiting_receivers: 0,
                pushed: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChanState<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key receivers wait on: a value arrived, or every sender left.
    pub(crate) fn recv_key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// The key senders wait on: room, a receiver arrived, a value was
    /// taken, or every receiver left. (The channel is larger than a byte, so
    /// the two keys are distinct from every other object's.)
    pub(crate) fn send_key(&self) -> usize {
        std::ptr::from_ref(self) as usize + 1
    }

    pub(crate) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    pub(crate) fn add_receiver(&self) {
        self.lock().receivers += 1;
    }

    pub(crate) fn drop_sender(&self) {
        let last = {
            let mut st = self.lock();
            st.senders -= 1;
            st.senders == 0
        };
        if last && let Some(ctx) = sim::try_ctx() {
            ctx.notify_all(self.recv_key());
        }
    }

    pub(crate) fn drop_receiver(&self) {
        let last = {
            let mut st = self.lock();
            st.receivers -= 1;
            st.receivers == 0
        };
        if last && let Some(ctx) = sim::try_ctx() {
            ctx.notify_all(self.send_key());
        }
    }

    /// Whether a receive would not block.
    pub(crate) fn recv_ready(&self) -> bool {
        let st = self.lock();
        !st.queue.is_empty() || st.senders == 0
    }

    /// Whether a send would not block.
    pub(crate) fn send_ready(&self) -> bool {
        let st = self.lock();
        st.receivers == 0
            || match st.cap {
                None => true,
                Some(0) => st.waiting_receivers > st.queue.len(),
                Some(cap) => st.queue.len() < cap,
            }
    }

    pub(crate) fn set_waiting(&self, waiting: bool) {
        let mut st = self.lock();
        if waiting {
            st.waiting_receivers += 1;
        } else {
            st.waiting_receivers -= 1;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.lock().cap
    }

    /// Takes a value if one is queued (no scheduling point).
    pub(crate) fn try_recv_now(&self, ctx: &sim::Ctx) -> Result<T, TryRecv> {
        let mut st = self.lock();
        match st.queue.pop_front() {
            Some((_, value)) => {
                drop(st);
                // Senders waiting for room or for their value to be taken.
                ctx.notify_all(self.send_key());
                Ok(value)
            }
            None if st.senders == 0 => Err(TryRecv::Disconnected),
            None => Err(TryRecv::Empty),
        }
    }

    /// Queues a value if that needs no waiting (no scheduling point).
    pub(crate) fn try_send_now(&self, ctx: &sim::Ctx, value: T) -> Result<(), TrySend<T>> {
        let mut st = self.lock();
        if st.receivers == 0 {
            return Err(TrySend::Disconnected(value));
        }
        let room = match st.cap {
            None => true,
            Some(0) => st.waiting_receivers > st.queue.len(),
            Some(cap) => st.queue.len() < cap,
        };
        if !room {
            return Err(TrySend::Full(value));
        }
        st.pushed += 1;
        let ticket = st.pushed;
        st.queue.push_back((ticket, value));
        drop(st);
        ctx.notify_all(self.recv_key());
        Ok(())
    }

    /// Sends, blocking while the channel is full; on a rendezvous channel
    /// until a receiver has taken the value. `Err` gives the value back if
    /// every receiver is gone.
    #[track_caller]
    pub(crate) fn send(&self, ctx: &sim::Ctx, value: T) -> Result<(), T> {
        let rendezvous = self.lock().cap == Some(0);
        if !rendezvous {
            let mut value = value;
            loop {
                match self.try_send_now(ctx, value) {
                    Ok(()) => return Ok(()),
                    Err(TrySend::Disconnected(v)) => return Err(v),
                    Err(TrySend::Full(v)) => {
                        value = v;
                        ctx.block(&[self.send_key()], None, "Sender::send");
                    }
                }
            }
        }
        let ticket = {
            let mut st = self.lock();
            if st.receivers == 0 {
                return Err(value);
            }
            st.pushed += 1;
            let ticket = st.pushed;
            st.queue.push_back((ticket, value));
            ticket
        };
        ctx.notify_all(self.recv_key());
        loop {
            {
                let mut st = self.lock();
                let Some(position) = st.queue.iter().position(|(t, _)| *t == ticket) else {
                    return Ok(());
                };
                if st.receivers == 0 {
                    let (_, value) = st
                        .queue
                        .remove(position)
                        .expect("labrt: position is in the queue");
                    return Err(value);
                }
            }
            ctx.block(&[self.send_key()], None, "Sender::send (rendezvous)");
        }
    }

    /// Receives, blocking until a value comes or `deadline`; `Err(true)` if
    /// every sender is gone, `Err(false)` on timeout.
    #[track_caller]
    pub(crate) fn recv(&self, ctx: &sim::Ctx, deadline: Option<u64>) -> Result<T, bool> {
        loop {
            match self.try_recv_now(ctx) {
                Ok(value) => return Ok(value),
                Err(TryRecv::Disconnected) => return Err(true),
                Err(TryRecv::Empty) => {}
            }
            self.set_waiting(true);
            // A selecting sender may be waiting for a receiver to arrive.
            ctx.notify_all(self.send_key());
            let wake = ctx.block(&[self.recv_key()], deadline, "Receiver::recv");
            self.set_waiting(false);
            if wake == Wake::TimedOut {
                return match self.try_recv_now(ctx) {
                    Ok(value) => Ok(value),
                    Err(TryRecv::Disconnected) => Err(true),
                    Err(TryRecv::Empty) => Err(false),
                };
            }
        }
    }
}
