//! Ending a failed test at once: the tests' clerks run over a transport that
//! the test can stop, so that no thread stays blocked in a clerk that the
//! failure left waiting (a 2025 Clerk in a minority partition retries for
//! ever, and a scope waiting for its thread would hang the test).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrt::sync::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Transport;

/// The payload a stopped clerk call unwinds with (see [`TestClnt`]). It is
/// raised with [`std::panic::resume_unwind`], so no panic message is printed:
/// the failure that stopped the clerks has already said what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClerksStopped;

/// The stop switch shared by one test and all its clerks' transports.
#[derive(Default)]
pub(crate) struct StopSwitch {
    stopped: AtomicBool,
    clnts: Mutex<Vec<tester::Clnt>>,
}

impl StopSwitch {
    /// Registers a clerk's client, so that stopping cuts its calls in flight.
    pub(crate) fn register(&self, clnt: &tester::Clnt) {
        self.clnts.lock().push(clnt.clone());
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Stops every clerk: calls in flight fail at once (their ends are
    /// disabled), and the next call of each clerk unwinds with
    /// [`ClerksStopped`].
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        for clnt in self.clnts.lock().iter() {
            clnt.disconnect_all();
        }
    }
}

/// The tests' clerk transport: a [`tester::Clnt`] (reached through `Deref`
/// for connecting and disconnecting) whose calls unwind with
/// [`ClerksStopped`] once its test has stopped its clerks.
#[derive(Clone)]
pub struct TestClnt {
    clnt: tester::Clnt,
    switch: Arc<StopSwitch>,
}

impl TestClnt {
    pub(crate) fn new(clnt: tester::Clnt, switch: Arc<StopSwitch>) -> TestClnt {
        switch.register(&clnt);
        TestClnt { clnt, switch }
    }

    /// The tester client underneath.
    pub fn clnt(&self) -> &tester::Clnt {
        &self.clnt
    }

    fn check_stopped(&self) {
        if self.switch.is_stopped() {
            std::panic::resume_unwind(Box::new(ClerksStopped));
        }
    }
}

impl std::ops::Deref for TestClnt {
    type Target = tester::Clnt;
    fn deref(&self) -> &tester::Clnt {
        &self.clnt
    }
}

impl Transport for TestClnt {
    fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        server: &str,
        method: &str,
        args: &A,
    ) -> Result<R, labrpc::CallError> {
        self.check_stopped();
        let reply = self.clnt.call(server, method, args);
        self.check_stopped();
        reply
    }
}

/// Stops its test's clerks when dropped during a panic (see
/// [`super::Test::stop_clerks_on_panic`]).
pub struct StopOnPanic<'a> {
    pub(crate) switch: &'a StopSwitch,
}

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.switch.stop();
        }
    }
}

/// True if a thread's panic payload is a stopped clerk's, not a failure of
/// its own.
pub fn is_clerks_stopped(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<ClerksStopped>()
}

/// Joins the results of several threads: the values if all returned, else
/// the first panic that is a failure of its own (a stopped clerk's unwind
/// only when there is no other).
pub fn first_failure<T>(
    results: Vec<std::thread::Result<T>>,
) -> Result<Vec<T>, Box<dyn std::any::Any + Send>> {
    let mut values = Vec::with_capacity(results.len());
    let mut stopped = None;
    let mut failure = None;
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(payload) if is_clerks_stopped(&*payload) => {
                stopped.get_or_insert(payload);
            }
            Err(payload) => {
                failure.get_or_insert(payload);
            }
        }
    }
    match failure.or(stopped) {
        Some(payload) => Err(payload),
        None => Ok(values),
    }
}
