//! The simulated network: ends, the servers they reach, and the fault model
//! that decides whether, when and how each request and reply gets through.

use crate::constants::*;
use crate::error::CallError;
use crate::intercept::{CallInfo, Gate, Interceptor, Verdict};
use crate::oneshot::{self, Filler};
use crate::pool::Pool;
use crate::service::{Request, Server};
use labrt::sync::{Condvar, Mutex};
use rand::Rng;
use rand::rngs::StdRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How one in-flight call ended, as the waiting caller learns it.
enum Outcome {
    /// The handler returned these reply bytes.
    Replied(Vec<u8>),
    /// The request did not fit the server (unknown service or method, args
    /// that do not decode): a programming error, reported to the caller.
    Misdirected(String),
    /// The handler panicked.
    Panicked(String),
    /// The end was disabled or the server deleted or replaced meanwhile.
    Dead,
}

struct EndState {
    enabled: bool,
    server: Option<String>,
}

struct InFlight {
    end: String,
    server_name: String,
    notify: Filler<Outcome>,
}

struct State {
    reliable: bool,
    long_delays: bool,
    long_reordering: bool,
    ends: HashMap<String, EndState>,
    /// A deleted server's name stays known and maps to `None`.
    servers: HashMap<String, Option<Arc<Server>>>,
    in_flight: HashMap<u64, InFlight>,
    next_call: u64,
    /// A test's say over chosen calls (none by default).
    interceptor: Option<Interceptor>,
}

struct Inner {
    state: Mutex<State>,
    faults: Mutex<FaultStats>,
    rng: Mutex<StdRng>,
    total_count: AtomicUsize,
    total_bytes: AtomicUsize,
    pool: Pool,
    /// Set by [`Network::cleanup`]; simulated delays wait on `cleaned_up`.
    closed: Mutex<bool>,
    cleaned_up: Condvar,
    /// Every gate a call has waited at, woken by cleanup.
    gates: Mutex<Vec<Gate>>,
}

/// How many simulated delays of one kind the network drew, and their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DelayStats {
    /// Delays drawn (zero-length ones included).
    pub count: u64,
    /// Their total length in milliseconds.
    pub total_ms: u64,
}

impl DelayStats {
    fn add(&mut self, ms: u64) {
        self.count += 1;
        self.total_ms += ms;
    }

    /// The mean delay in milliseconds (0 if none was drawn).
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_ms as f64 / self.count as f64
        }
    }
}

/// The simulated delays a network has drawn, by kind: what the fault model
/// decided, independent of how loaded the machine is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Unreliable mode's 0–26 ms delays before delivery.
    pub short: DelayStats,
    /// Delays before an undeliverable call fails.
    pub undeliverable: DelayStats,
    /// Replies held back by long reordering.
    pub reordered: DelayStats,
}

/// What a request sees of the network at the moment it is processed.
struct Route {
    server: Option<(String, Arc<Server>)>,
    reliable: bool,
    long_reordering: bool,
    interceptor: Option<Interceptor>,
}

/// The simulated network of one test: every end, every server, the wiring
/// between them, the fault settings and the statistics.
///
/// A new network is reliable, with long delays and long reordering off.
/// Requests are processed independently, so even a reliable network may
/// deliver concurrent calls out of order. Cloning shares the network.
///
/// ```
/// use labrpc::{Network, Server, Service};
///
/// let net = Network::new();
/// let mut server = Server::new();
/// server.add_service(Service::new("Echo").handler("Twice", |n: u64| n * 2));
/// net.add_server("server-0", server);
///
/// let end = net.make_end("client-0");
/// net.connect("client-0", "server-0");
/// assert!(end.call::<u64, u64>("Echo.Twice", &21).is_err()); // ends start disabled
/// net.enable("client-0", true);
/// assert_eq!(end.call::<u64, u64>("Echo.Twice", &21), Ok(42));
/// net.cleanup();
/// ```
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

impl Default for Network {
    fn default() -> Self {
        Self::new()
    }
}

impl Network {
    /// A reliable network with no ends and no servers; its random choices come
    /// from a generator drawn from [`crate::rng`].
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    reliable: true,
                    long_delays: false,
                    long_reordering: false,
                    ends: HashMap::new(),
                    servers: HashMap::new(),
                    in_flight: HashMap::new(),
                    next_call: 0,
                    interceptor: None,
                }),
                faults: Mutex::new(FaultStats::default()),
                rng: Mutex::new(crate::rng::child()),
                total_count: AtomicUsize::new(0),
                total_bytes: AtomicUsize::new(0),
                pool: Pool::new(),
                closed: Mutex::new(false),
                cleaned_up: Condvar::new(),
                gates: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Shuts the network down: calls made from now on fail at once with
    /// [`CallError::NetworkClosed`]; calls already accepted run to completion,
    /// except that simulated delays before a failure are cut short.
    pub fn cleanup(&self) {
        *self.inner.closed.lock() = true;
        self.inner.cleaned_up.notify_all();
        let gates = std::mem::take(&mut *self.inner.gates.lock());
        for gate in gates {
            gate.wake();
        }
    }

    /// Installs (or, with `None`, removes) a test's [`Interceptor`]: from now
    /// on every call made on any end is first shown to it, and its
    /// [`Verdict`] decides whether the call goes on as usual, is lost, or
    /// waits at a [`Gate`]. Calls already past that point are not affected.
    pub fn set_interceptor(&self, interceptor: Option<Interceptor>) {
        self.inner.state.lock().interceptor = interceptor;
    }

    /// Waits at `gate`; `false` if the network is cleaned up first.
    fn hold(&self, gate: &Gate) -> bool {
        {
            let mut gates = self.inner.gates.lock();
            if !gates.iter().any(|g| g.same(gate)) {
                gates.push(gate.clone());
            }
        }
        gate.pass(|| self.is_closed())
    }

    fn is_closed(&self) -> bool {
        *self.inner.closed.lock()
    }

    /// Turns unreliable mode off (`true`) or on (`false`): 0–26 ms delays, 10%
    /// of requests and 10% of replies lost.
    pub fn set_reliable(&self, yes: bool) {
        self.inner.state.lock().reliable = yes;
    }

    /// Whether the network is reliable.
    pub fn is_reliable(&self) -> bool {
        self.inner.state.lock().reliable
    }

    /// Turns long reordering on or off: 2/3 of replies held back 200–2199 ms.
    pub fn set_long_reordering(&self, yes: bool) {
        self.inner.state.lock().long_reordering = yes;
    }

    /// Turns long delays on or off: an undeliverable request fails after up to
    /// 7 s instead of up to 100 ms.
    pub fn set_long_delays(&self, yes: bool) {
        self.inner.state.lock().long_delays = yes;
    }

    /// Whether long delays are on.
    pub fn is_long_delays(&self) -> bool {
        self.inner.state.lock().long_delays
    }

    /// Creates a client end named `name`, disabled and unconnected.
    ///
    /// # Panics
    /// If an end of that name exists: names identify ends.
    pub fn make_end(&self, name: &str) -> ClientEnd {
        let mut state = self.inner.state.lock();
        assert!(
            !state.ends.contains_key(name),
            "MakeEnd: {name} already exists"
        );
        state.ends.insert(
            name.to_string(),
            EndState {
                enabled: false,
                server: None,
            },
        );
        ClientEnd {
            name: name.into(),
            network: self.clone(),
        }
    }

    /// Forgets the end: its object behaves as a disabled end from now on.
    ///
    /// # Panics
    /// If no end has that name.
    pub fn delete_end(&self, name: &str) {
        let mut state = self.inner.state.lock();
        assert!(
            state.ends.remove(name).is_some(),
            "DeleteEnd: {name} doesn't exist"
        );
        kill_calls(&mut state, |call| call.end == name);
    }

    /// Registers `server` under `name`, replacing any server there: calls in
    /// flight to the replaced server fail.
    pub fn add_server(&self, name: &str, server: Server) {
        let mut state = self.inner.state.lock();
        state
            .servers
            .insert(name.to_string(), Some(Arc::new(server)));
        kill_calls(&mut state, |call| call.server_name == name);
    }

    /// Removes the server registered under `name` (the name stays known):
    /// calls in flight to it fail, and new calls are undeliverable.
    pub fn delete_server(&self, name: &str) {
        let mut state = self.inner.state.lock();
        state.servers.insert(name.to_string(), None);
        kill_calls(&mut state, |call| call.server_name == name);
    }

    /// Wires end `end` to whatever server is registered under `server` when a
    /// request is processed.
    ///
    /// # Panics
    /// If no end has that name.
    pub fn connect(&self, end: &str, server: &str) {
        let mut state = self.inner.state.lock();
        let end_state = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("Connect: unknown end {end}"));
        end_state.server = Some(server.to_string());
    }

    /// Enables or disables end `end` (a one-way link). Disabling makes the
    /// end's calls in flight fail.
    ///
    /// # Panics
    /// If no end has that name.
    pub fn enable(&self, end: &str, yes: bool) {
        let mut state = self.inner.state.lock();
        let end_state = state
            .ends
            .get_mut(end)
            .unwrap_or_else(|| panic!("Enable: unknown end {end}"));
        end_state.enabled = yes;
        if !yes {
            kill_calls(&mut state, |call| call.end == end);
        }
    }

    /// How many requests were dispatched to the server registered under
    /// `server` now (a restarted server starts again from 0); 0 if none is.
    pub fn count(&self, server: &str) -> usize {
        let state = self.inner.state.lock();
        match state.servers.get(server) {
            Some(Some(server)) => server.count(),
            _ => 0,
        }
    }

    /// How many calls entered the network, whatever became of them.
    pub fn total_count(&self) -> usize {
        self.inner.total_count.load(Ordering::Relaxed)
    }

    /// Request bytes of every call, plus reply bytes of every delivered reply.
    pub fn total_bytes(&self) -> usize {
        self.inner.total_bytes.load(Ordering::Relaxed)
    }

    /// The simulated delays drawn so far.
    pub fn fault_stats(&self) -> FaultStats {
        *self.inner.faults.lock()
    }

    /// In simulation mode, the request's time on the wire (see
    /// [`SIM_WIRE_MICROS`]); nothing in real mode.
    fn wire_time(&self) -> bool {
        if !labrt::simulated() {
            return true;
        }
        let micros = self.inner.rng.lock().random_range(SIM_WIRE_MICROS);
        self.delay_for(Duration::from_micros(micros))
    }

    fn random_below(&self, bound: u64) -> u64 {
        self.inner.rng.lock().random_range(0..bound)
    }

    fn chance_per(&self, numerator: u32, denominator: u32) -> bool {
        self.inner.rng.lock().random_range(0..denominator) < numerator
    }

    /// Waits out a simulated delay; returns early, with `false`, if the
    /// network is cleaned up meanwhile.
    fn delay(&self, millis: u64) -> bool {
        self.delay_for(Duration::from_millis(millis))
    }

    /// [`Network::delay`] for any duration.
    fn delay_for(&self, d: Duration) -> bool {
        if d.is_zero() {
            return true;
        }
        let deadline = labrt::time::Instant::now() + d;
        let mut closed = self.inner.closed.lock();
        while !*closed {
            if self
                .inner
                .cleaned_up
                .wait_until(&mut closed, deadline)
                .timed_out()
            {
                return true;
            }
        }
        false
    }

    fn route(&self, end: &str) -> Route {
        let state = self.inner.state.lock();
        let server = state
            .ends
            .get(end)
            .filter(|e| e.enabled)
            .and_then(|e| e.server.as_ref())
            .and_then(|name| {
                let server = state.servers.get(name)?.as_ref()?;
                Some((name.clone(), server.clone()))
            });
        Route {
            server,
            reliable: state.reliable,
            long_reordering: state.long_reordering,
            interceptor: state.interceptor.clone(),
        }
    }

    fn register_call(
        state: &mut State,
        end: &str,
        server_name: &str,
        notify: Filler<Outcome>,
    ) -> u64 {
        let id = state.next_call;
        state.next_call += 1;
        state.in_flight.insert(
            id,
            InFlight {
                end: end.to_string(),
                server_name: server_name.to_string(),
                notify,
            },
        );
        id
    }

    /// Forgets a finished call and says whether it died (see [`is_dead`]).
    fn forget_call(&self, id: u64, end: &str, server_name: &str, server: &Arc<Server>) -> bool {
        let mut state = self.inner.state.lock();
        state.in_flight.remove(&id);
        is_dead(&state, end, server_name, server)
    }

    /// Processes one encoded request from `end`; the reply bytes on success.
    fn process(
        &self,
        end: &str,
        method: &str,
        request: OwnedRequest,
    ) -> Result<Vec<u8>, CallError> {
        if !self.wire_time() {
            return Err(CallError::NetworkClosed);
        }
        let mut route = self.route(end);
        let mut hold_reply = None;
        if let Some(interceptor) = route.interceptor.take() {
            let call = CallInfo {
                end,
                method,
                args: &request.bytes,
            };
            match interceptor(&call) {
                Verdict::Deliver => {}
                Verdict::Drop => return Err(CallError::RequestLost),
                Verdict::HoldRequest(gate) => {
                    if !self.hold(&gate) {
                        return Err(CallError::NetworkClosed);
                    }
                    // Delivered where the end leads now.
                    route = self.route(end);
                }
                Verdict::HoldReply(gate) => hold_reply = Some(gate),
            }
        }
        let Some((server_name, server)) = route.server else {
            let bound = if self.is_long_delays() {
                LONG_DELAY_MS
            } else {
                UNDELIVERABLE_DELAY_MS
            };
            let ms = self.random_below(bound);
            self.inner.faults.lock().undeliverable.add(ms);
            self.delay(ms);
            return Err(CallError::Unreachable);
        };

        if !route.reliable {
            let ms = self.random_below(SHORT_DELAY_MS);
            self.inner.faults.lock().short.add(ms);
            self.delay(ms);
            if self.chance_per(REQUEST_LOSS_PER_MILLE, 1000) {
                return Err(CallError::RequestLost);
            }
        }

        // Run the handler elsewhere so that the call can fail as soon as the
        // server dies or the end is cut, while the handler runs on.
        let (notify, outcome) = oneshot::slot();
        let id = {
            let mut state = self.inner.state.lock();
            if is_dead(&state, end, &server_name, &server) {
                // Cut or replaced during the short delay.
                return Err(CallError::ServerDead);
            }
            Self::register_call(&mut state, end, &server_name, notify.clone())
        };
        let method = method.to_string();
        let handler_server = server.clone();
        self.inner.pool.execute(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler_server.dispatch(
                    &method,
                    &Request {
                        args_type: request.args_type,
                        reply_type: request.reply_type,
                        bytes: &request.bytes,
                    },
                )
            }));
            let outcome = match result {
                Ok(Ok(reply)) => Outcome::Replied(reply),
                Ok(Err(message)) => Outcome::Misdirected(message),
                Err(panic) => Outcome::Panicked(panic_message(&panic)),
            };
            notify.fill(outcome);
        });
        let outcome = outcome.wait();
        let dead = self.forget_call(id, end, &server_name, &server);

        let reply = match outcome {
            Outcome::Replied(reply) => reply,
            Outcome::Misdirected(message) => panic!("{message}"),
            Outcome::Panicked(message) => {
                panic!("labrpc: the handler of {end}'s call to {server_name} panicked: {message}")
            }
            Outcome::Dead => return Err(CallError::ServerDead),
        };
        if dead {
            return Err(CallError::ServerDead);
        }
        if let Some(gate) = hold_reply
            && !self.hold(&gate)
        {
            return Err(CallError::NetworkClosed);
        }
        if !route.reliable && self.chance_per(REPLY_LOSS_PER_MILLE, 1000) {
            return Err(CallError::ReplyLost);
        }
        if route.long_reordering && self.chance_per(REORDER_NUMERATOR, REORDER_DENOMINATOR) {
            let spread = self.random_below(REORDER_SPREAD_MS);
            let ms = REORDER_BASE_MS + self.random_below(spread + 1);
            self.inner.faults.lock().reordered.add(ms);
            self.delay(ms);
        }
        self.inner
            .total_bytes
            .fetch_add(reply.len(), Ordering::Relaxed);
        Ok(reply)
    }
}

struct OwnedRequest {
    args_type: &'static str,
    reply_type: &'static str,
    bytes: Vec<u8>,
}

/// Dead: the end is disabled or gone, or its server name no longer maps to
/// the same server object.
fn is_dead(state: &State, end: &str, server_name: &str, server: &Arc<Server>) -> bool {
    let enabled = state.ends.get(end).is_some_and(|e| e.enabled);
    let same = matches!(state.servers.get(server_name), Some(Some(s)) if Arc::ptr_eq(s, server));
    !enabled || !same
}

/// Tells every in-flight call matching `dead` that its server is gone.
fn kill_calls(state: &mut State, dead: impl Fn(&InFlight) -> bool) {
    for call in state.in_flight.values().filter(|c| dead(c)) {
        call.notify.fill(Outcome::Dead);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic".to_string()
    }
}

/// A client's endpoint: it talks to whatever server the network wires it to.
/// Cloning gives another handle on the same end; many calls may be in flight
/// on one end at once.
#[derive(Clone)]
pub struct ClientEnd {
    name: Arc<str>,
    network: Network,
}

impl ClientEnd {
    /// The end's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends `args` to the handler of `method` (`"Service.Method"`) and waits
    /// for its reply. `Ok` means the server ran the handler and this is its
    /// reply; every network failure is an `Err` (see [`CallError`]). Args and
    /// reply travel as labgob bytes, so the byte counts are real.
    ///
    /// A call returns eventually unless its handler never returns while the
    /// server stays registered and the end stays enabled.
    ///
    /// # Panics
    /// On programming errors, as Go's labrpc exits: an unknown service or
    /// method, args that do not decode as the handler's type, a reply that
    /// does not decode as `R`, or a handler that panicked.
    pub fn call<A, R>(&self, method: &str, args: &A) -> Result<R, CallError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let network = &self.network;
        if network.is_closed() {
            return Err(CallError::NetworkClosed);
        }
        if crate::lockcheck::enabled() {
            crate::lockcheck::report_if_holding(&format!("called {method}"));
        }
        let request = labgob::encode(args);
        network.inner.total_count.fetch_add(1, Ordering::Relaxed);
        network
            .inner
            .total_bytes
            .fetch_add(request.len(), Ordering::Relaxed);
        let request = OwnedRequest {
            args_type: std::any::type_name::<A>(),
            reply_type: std::any::type_name::<R>(),
            bytes: request,
        };
        let reply = network.process(&self.name, method, request)?;
        Ok(labgob::decode(&reply).unwrap_or_else(|e| {
            panic!(
                "ClientEnd.call(): decode reply of {method} as {}: {e}",
                std::any::type_name::<R>()
            )
        }))
    }
}

impl std::fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientEnd")
            .field("name", &self.name)
            .finish()
    }
}
