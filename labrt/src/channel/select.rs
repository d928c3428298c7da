//! Waiting on several channel operations at once: crossbeam's dynamic
//! `Select` in real mode, the scheduler in simulation mode. The
//! [`select!`](crate::select) macro is built on it.

use crossbeam::channel as cb;

use super::simchan::{SimChan, TryRecv};
use super::{
    Receiver, ReceiverFlavor, RecvError, SendError, Sender, SenderFlavor, SimTimer, nanos,
};
use crate::sim;
use crate::time::{Duration, Instant};

/// What the simulated select needs to know of a channel, whatever its type.
trait SimEnd {
    fn recv_ready(&self) -> bool;
    fn send_ready(&self) -> bool;
    fn recv_key(&self) -> usize;
    fn send_key(&self) -> usize;
    fn set_waiting(&self, waiting: bool);
}

impl<T> SimEnd for SimChan<T> {
    fn recv_ready(&self) -> bool {
        SimChan::recv_ready(self)
    }
    fn send_ready(&self) -> bool {
        SimChan::send_ready(self)
    }
    fn recv_key(&self) -> usize {
        SimChan::recv_key(self)
    }
    fn send_key(&self) -> usize {
        SimChan::send_key(self)
    }
    fn set_waiting(&self, waiting: bool) {
        SimChan::set_waiting(self, waiting);
    }
}

enum SimCase<'a> {
    Recv(&'a dyn SimEnd),
    Send(&'a dyn SimEnd),
    Timer(&'a SimTimer),
    Never,
}

/// A set of operations to wait on; `select` picks one that is ready (at
/// random among several).
pub struct Select<'a> {
    real: Option<cb::Select<'a>>,
    sim: Vec<SimCase<'a>>,
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    /// An empty set.
    pub fn new() -> Select<'a> {
        if crate::simulated() {
            Select {
                real: None,
                sim: Vec::new(),
            }
        } else {
            Select {
                real: Some(cb::Select::new()),
                sim: Vec::new(),
            }
        }
    }

    /// Adds a receive; returns its index.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        if let Some(real) = &mut self.real {
            return match &r.flavor {
                ReceiverFlavor::Real(rx) => real.recv(rx),
                ReceiverFlavor::RealTimer(rx, _) => real.recv(rx),
                _ => panic!("labrt: a simulated channel used in real mode"),
            };
        }
        let case = match &r.flavor {
            ReceiverFlavor::Sim(chan) => SimCase::Recv(&**chan),
            ReceiverFlavor::SimTimer(timer, _) => SimCase::Timer(timer),
            ReceiverFlavor::SimNever => SimCase::Never,
            _ => panic!("labrt: a real channel used in simulation mode"),
        };
        self.sim.push(case);
        self.sim.len() - 1
    }

    /// Adds a send; returns its index.
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        if let Some(real) = &mut self.real {
            return match &s.flavor {
                SenderFlavor::Real(tx) => real.send(tx),
                SenderFlavor::Sim(_) => panic!("labrt: a simulated channel used in real mode"),
            };
        }
        match &s.flavor {
            SenderFlavor::Sim(chan) => self.sim.push(SimCase::Send(&**chan)),
            SenderFlavor::Real(_) => panic!("labrt: a real channel used in simulation mode"),
        }
        self.sim.len() - 1
    }

    /// Blocks until an operation is ready and returns it.
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        if let Some(real) = &mut self.real {
            return SelectedOperation::real(real.select());
        }
        self.select_simulated(None)
            .expect("no deadline, so no timeout")
    }

    /// As [`Select::select`], giving up after `timeout`.
    #[track_caller]
    pub fn select_timeout(&mut self, timeout: Duration) -> Option<SelectedOperation<'a>> {
        if let Some(real) = &mut self.real {
            return real
                .select_timeout(timeout)
                .ok()
                .map(SelectedOperation::real);
        }
        let now = sim::ctx().world.now();
        self.select_simulated(Some(now.saturating_add(nanos(timeout))))
    }

    /// An operation ready now, if any.
    pub fn try_select(&mut self) -> Option<SelectedOperation<'a>> {
        if let Some(real) = &mut self.real {
            return real.try_select().ok().map(SelectedOperation::real);
        }
        let now = sim::ctx().world.now();
        self.select_simulated(Some(now))
    }

    #[track_caller]
    fn select_simulated(&mut self, deadline: Option<u64>) -> Option<SelectedOperation<'a>> {
        let ctx = sim::ctx();
        ctx.yield_point();
        loop {
            let now = ctx.world.now();
            let ready: Vec<usize> = (0..self.sim.len())
                .filter(|&i| match &self.sim[i] {
                    SimCase::Recv(end) => end.recv_ready(),
                    SimCase::Send(end) => end.send_ready(),
                    SimCase::Timer(timer) => timer.deadline().is_some_and(|t| t <= now),
                    SimCase::Never => false,
                })
                .collect();
            if !ready.is_empty() {
                let index = ready[ctx.world.choose(ready.len())];
                return Some(SelectedOperation { real: None, index });
            }
            if deadline.is_some_and(|d| d <= now) {
                return None;
            }
            let mut keys = Vec::new();
            let mut wake_at = deadline;
            for case in &self.sim {
                match case {
                    SimCase::Recv(end) => {
                        end.set_waiting(true);
                        keys.push(end.recv_key());
                    }
                    SimCase::Send(end) => keys.push(end.send_key()),
                    SimCase::Timer(timer) => {
                        if let Some(t) = timer.deadline() {
                            wake_at = Some(wake_at.map_or(t, |w| w.min(t)));
                        }
                    }
                    SimCase::Never => {}
                }
            }
            // A rendezvous sender waits for a receiver to arrive.
            for case in &self.sim {
                if let SimCase::Recv(end) = case {
                    ctx.notify_all(end.send_key());
                }
            }
            ctx.block(&keys, wake_at, "select!");
            for case in &self.sim {
                if let SimCase::Recv(end) = case {
                    end.set_waiting(false);
                }
            }
        }
    }
}

/// The operation a [`Select`] picked; complete it with the same channel.
pub struct SelectedOperation<'a> {
    real: Option<cb::SelectedOperation<'a>>,
    index: usize,
}

impl<'a> SelectedOperation<'a> {
    fn real(op: cb::SelectedOperation<'a>) -> Self {
        let index = op.index();
        SelectedOperation {
            real: Some(op),
            index,
        }
    }

    /// The index [`Select::recv`] or [`Select::send`] returned for it.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes a picked receive.
    #[track_caller]
    pub fn recv<T>(self, r: &Receiver<T>) -> Result<T, RecvError> {
        if let Some(op) = self.real {
            return match &r.flavor {
                ReceiverFlavor::Real(rx) => op.recv(rx),
                ReceiverFlavor::RealTimer(rx, map) => {
                    op.recv(rx).map(|i| map(Instant::from_std(i)))
                }
                _ => panic!("labrt: a simulated channel used in real mode"),
            };
        }
        let ctx = sim::ctx();
        match &r.flavor {
            ReceiverFlavor::Sim(chan) => match chan.try_recv_now(&ctx) {
                Ok(value) => Ok(value),
                Err(TryRecv::Disconnected) => Err(RecvError),
                // Ready when picked and nothing ran since: cannot happen, but
                // waiting is the safe answer.
                Err(TryRecv::Empty) => r.recv(),
            },
            ReceiverFlavor::SimTimer(timer, map) => match timer.fire(ctx.world.now()) {
                Some(at) => Ok(map(at)),
                None => r.recv(),
            },
            _ => r.recv(),
        }
    }

    /// Completes a picked send (on a rendezvous channel, when a receiver
    /// takes the value).
    #[track_caller]
    pub fn send<T>(self, s: &Sender<T>, value: T) -> Result<(), SendError<T>> {
        if let Some(op) = self.real {
            return match &s.flavor {
                SenderFlavor::Real(tx) => op.send(tx, value),
                SenderFlavor::Sim(_) => panic!("labrt: a simulated channel used in real mode"),
            };
        }
        match &s.flavor {
            SenderFlavor::Sim(chan) => chan.send(&sim::ctx(), value).map_err(SendError),
            SenderFlavor::Real(tx) => tx.send(value),
        }
    }
}
