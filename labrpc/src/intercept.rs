//! Scripted faults: a test's own say over chosen calls.
//!
//! The fault model of [`crate::Network`] is random. A scripted scenario
//! sometimes needs one particular message lost, or held in the network while
//! the test changes the world, and delivered later: a vote reply that comes
//! back after its candidate moved to a new term, an InstallSnapshot that
//! arrives after the follower moved past it. An [`Interceptor`] installed with
//! [`crate::Network::set_interceptor`] sees every call before the network
//! processes it and returns a [`Verdict`] for it; a [`Gate`] holds the calls
//! that verdict sends to it until the test opens it.
//!
//! Without an interceptor (the default) the network behaves exactly as
//! before; with one, every call it lets through is still subject to the fault
//! model (reliability, long delays, reordering).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use labrpc::{Gate, Network, Server, Service, Verdict};
//!
//! let net = Network::new();
//! let mut server = Server::new();
//! server.add_service(Service::new("Echo").handler("Twice", |n: u64| n * 2));
//! net.add_server("server-0", server);
//! let end = net.make_end("client-0");
//! net.connect("client-0", "server-0");
//! net.enable("client-0", true);
//!
//! // Hold every reply of Echo.Twice until the gate opens.
//! let gate = Gate::new();
//! let held = gate.clone();
//! net.set_interceptor(Some(Arc::new(move |call: &labrpc::CallInfo<'_>| {
//!     if call.method == "Echo.Twice" {
//!         Verdict::HoldReply(held.clone())
//!     } else {
//!         Verdict::Deliver
//!     }
//! })));
//! let caller = labrt::thread::spawn(move || end.call::<u64, u64>("Echo.Twice", &21));
//! assert!(gate.wait_held(1, Duration::from_secs(5)), "the reply is held");
//! gate.open();
//! assert_eq!(caller.join().unwrap(), Ok(42));
//! net.set_interceptor(None);
//! net.cleanup();
//! ```

use labrt::sync::{Condvar, Mutex};
use labrt::time::{Duration, Instant};
use std::sync::Arc;

/// What an [`Interceptor`] is told about one call, before the network
/// processes it.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    /// The name of the client end the call was made on.
    pub end: &'a str,
    /// The method, `"Service.Method"`.
    pub method: &'a str,
    /// The encoded arguments (labgob bytes), e.g. to recognise a message by
    /// what it carries.
    pub args: &'a [u8],
}

/// What becomes of an intercepted call.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The network processes the call as it would without an interceptor.
    Deliver,
    /// The request is lost: the call fails at once with
    /// [`crate::CallError::RequestLost`] and no handler runs.
    Drop,
    /// The request waits in the network until the gate is open, then goes on
    /// to whatever server its end reaches at that moment (a server restarted
    /// meanwhile gets it), as any call would.
    HoldRequest(Gate),
    /// The request is processed now; if the handler runs and its reply is
    /// not lost, the reply waits in the network until the gate is open and
    /// then reaches the caller, even if the end was disabled meanwhile (like
    /// a reply held back by long reordering).
    HoldReply(Gate),
}

/// A test's decision for each call; called on the caller's thread with no
/// lock of the network held, so it may look at the test's own state.
pub type Interceptor = Arc<dyn Fn(&CallInfo<'_>) -> Verdict + Send + Sync>;

#[derive(Default)]
struct GateState {
    open: bool,
    waiting: usize,
    held: usize,
}

#[derive(Default)]
struct GateInner {
    state: Mutex<GateState>,
    changed: Condvar,
}

/// Where held calls wait: closed when made, [`Gate::open`] lets every waiting
/// call go on (and every later one pass). Cloning shares the gate. When the
/// network is cleaned up, the calls it holds fail with
/// [`crate::CallError::NetworkClosed`].
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<GateInner>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("Gate")
            .field("open", &state.open)
            .field("waiting", &state.waiting)
            .field("held", &state.held)
            .finish()
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate: every held call goes on, and calls that reach it from
    /// now on pass at once.
    pub fn open(&self) {
        self.inner.state.lock().open = true;
        self.inner.changed.notify_all();
    }

    /// Closes the gate again: calls that reach it from now on wait.
    pub fn close(&self) {
        self.inner.state.lock().open = false;
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        self.inner.state.lock().open
    }

    /// How many calls wait at the gate now.
    pub fn waiting(&self) -> usize {
        self.inner.state.lock().waiting
    }

    /// How many calls have had to wait at the gate, in all.
    pub fn held(&self) -> usize {
        self.inner.state.lock().held
    }

    /// Waits until at least `n` calls have had to wait at the gate, for at
    /// most `timeout`; whether they have.
    pub fn wait_held(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.inner.state.lock();
        while state.held < n {
            if self
                .inner
                .changed
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                return state.held >= n;
            }
        }
        true
    }

    /// Whether two handles are the same gate.
    pub(crate) fn same(&self, other: &Gate) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Waits until the gate is open or `closed()` says the network was
    /// cleaned up; `false` in the second case. `closed` is checked with the
    /// gate's lock held, so a [`Gate::wake`] after the network closed is
    /// never missed.
    pub(crate) fn pass(&self, closed: impl Fn() -> bool) -> bool {
        let mut state = self.inner.state.lock();
        if state.open {
            return true;
        }
        state.waiting += 1;
        state.held += 1;
        self.inner.changed.notify_all();
        let passed = loop {
            if state.open {
                break true;
            }
            if closed() {
                break false;
            }
            self.inner.changed.wait(&mut state);
        };
        state.waiting -= 1;
        self.inner.changed.notify_all();
        passed
    }

    /// Wakes every waiter to look again (the network was cleaned up).
    pub(crate) fn wake(&self) {
        let _state = self.inner.state.lock();
        self.inner.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallError, Network, Server, Service};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A network with one server, "server-0", whose `Counter.Add` adds its
    /// argument to `total` and returns the new total plus `offset`; and one
    /// enabled end, "end-0", wired to it.
    fn setup(total: &Arc<AtomicU64>, offset: u64) -> (Network, crate::ClientEnd) {
        let net = Network::new();
        add_counter(&net, total, offset);
        let end = net.make_end("end-0");
        net.connect("end-0", "server-0");
        net.enable("end-0", true);
        (net, end)
    }

    fn add_counter(net: &Network, total: &Arc<AtomicU64>, offset: u64) {
        let total = Arc::clone(total);
        let mut server = Server::new();
        server.add_service(Service::new("Counter").handler("Add", move |n: u64| {
            total.fetch_add(n, Ordering::SeqCst) + n + offset
        }));
        net.add_server("server-0", server);
    }

    fn rule(verdict: Verdict) -> Option<Interceptor> {
        Some(Arc::new(move |_: &CallInfo<'_>| verdict.clone()))
    }

    const WAIT: Duration = Duration::from_secs(5);

    /// A dropped call fails at once and its handler never runs.
    #[test]
    fn drop_loses_the_request() {
        let total = Arc::new(AtomicU64::new(0));
        let (net, end) = setup(&total, 0);
        net.set_interceptor(rule(Verdict::Drop));
        let t0 = Instant::now();
        assert_eq!(
            end.call::<u64, u64>("Counter.Add", &5),
            Err(CallError::RequestLost)
        );
        assert!(t0.elapsed() < Duration::from_secs(1));
        assert_eq!(total.load(Ordering::SeqCst), 0);
        net.set_interceptor(None);
        assert_eq!(end.call::<u64, u64>("Counter.Add", &5), Ok(5));
        net.cleanup();
    }

    /// The interceptor sees the end, the method and the encoded arguments.
    #[test]
    fn interceptor_sees_the_call() {
        let total = Arc::new(AtomicU64::new(0));
        let (net, end) = setup(&total, 0);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        net.set_interceptor(Some(Arc::new(move |call: &CallInfo<'_>| {
            log.lock().push((
                call.end.to_string(),
                call.method.to_string(),
                call.args.to_vec(),
            ));
            Verdict::Deliver
        })));
        assert_eq!(end.call::<u64, u64>("Counter.Add", &7), Ok(7));
        assert_eq!(
            *seen.lock(),
            vec![("end-0".into(), "Counter.Add".into(), labgob::encode(&7u64))]
        );
        net.cleanup();
    }

    /// A held request's handler runs only when the gate opens, on the server
    /// registered under the name at that moment.
    #[test]
    fn held_request_goes_to_the_server_there_when_released() {
        let total = Arc::new(AtomicU64::new(0));
        let (net, end) = setup(&total, 0);
        let gate = Gate::new();
        net.set_interceptor(rule(Verdict::HoldRequest(gate.clone())));
        let caller = labrt::thread::spawn(move || end.call::<u64, u64>("Counter.Add", &3));
        assert!(gate.wait_held(1, WAIT));
        assert_eq!(gate.waiting(), 1);
        assert_eq!(total.load(Ordering::SeqCst), 0, "not delivered while held");
        // The server restarts meanwhile: the held request reaches the new one.
        let total2 = Arc::new(AtomicU64::new(0));
        add_counter(&net, &total2, 100);
        gate.open();
        assert_eq!(caller.join().unwrap(), Ok(103));
        assert_eq!(total.load(Ordering::SeqCst), 0);
        assert_eq!(total2.load(Ordering::SeqCst), 3);
        assert_eq!(gate.waiting(), 0);
        assert_eq!(gate.held(), 1);
        net.cleanup();
    }

    /// A held reply: the handler runs at once; the reply reaches the caller
    /// when the gate opens, even though its end was disabled meanwhile.
    #[test]
    fn held_reply_arrives_after_its_end_was_cut() {
        let total = Arc::new(AtomicU64::new(0));
        let (net, end) = setup(&total, 0);
        let gate = Gate::new();
        net.set_interceptor(rule(Verdict::HoldReply(gate.clone())));
        let caller = labrt::thread::spawn(move || end.call::<u64, u64>("Counter.Add", &4));
        assert!(gate.wait_held(1, WAIT));
        assert_eq!(total.load(Ordering::SeqCst), 4, "the handler ran");
        net.enable("end-0", false);
        gate.open();
        assert_eq!(caller.join().unwrap(), Ok(4));
        net.cleanup();
    }

    /// An open gate lets calls pass without holding them; a closed one holds
    /// again.
    #[test]
    fn open_gate_passes_and_closing_holds_again() {
        let total = Arc::new(AtomicU64::new(0));
        let (net, end) = setup(&total, 0);
        let gate = Gate::new();
        gate.open();
        net.set_interceptor(rule(Verdict::HoldRequest(gate.clone())));
        assert_eq!(end.call::<u64, u64>("Counter.Add", &1), Ok(1));
        assert_eq!(gate.held(), 0);
        gate.close();
        let caller = labrt::thread::spawn(move || end.call::<u64, u64>("Counter.Add", &1));
        assert!(gate.wait_held(1, WAIT));
        gate.open();
        assert_eq!(caller.join().unwrap(), Ok(2));
        net.cleanup();
    }

    /// Cleaning up the network fails the calls its gates hold.
    #[test]
    fn cleanup_fails_held_calls() {
        for verdict in [Verdict::HoldRequest, Verdict::HoldReply] {
            let total = Arc::new(AtomicU64::new(0));
            let (net, end) = setup(&total, 0);
            let gate = Gate::new();
            net.set_interceptor(rule(verdict(gate.clone())));
            let caller = labrt::thread::spawn(move || end.call::<u64, u64>("Counter.Add", &1));
            assert!(gate.wait_held(1, WAIT));
            net.cleanup();
            assert_eq!(caller.join().unwrap(), Err(CallError::NetworkClosed));
            assert!(!gate.is_open());
        }
    }
}
