//! The shared KV test library (Go's `kvtest1`): recorded Gets and Puts, clerk
//! workers, the concurrent-put checks, the random partitioner and the porcupine
//! check (with an HTML visualisation on failure).
//!
//! A [`Test`] owns the tester's [`Config`] and the operation log. Every recorded
//! call ([`Test::get`], [`Test::put`] and the helpers built on them) takes
//! timestamps on the annotation clock ([`tester::annotate::timestamp`]) right
//! around the clerk call, counts one op for the Passed line, and appends a
//! porcupine operation. Direct clerk calls are neither recorded nor counted.
//!
//! A failed check ends the test at once: the clerks run over a [`TestClnt`]
//! that the test stops on failure ([`Test::stop_clerks_on_panic`]), so no
//! thread stays blocked in a clerk call that the failure left waiting.

mod checks;
mod done;
mod linearizability;
mod oplog;
mod stop;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use porcupine::Operation;
use porcupine::models::kv_versioned::KvInput;
use rand::Rng;
use tester::{Config, TestServer, annotate};

use crate::Clerk;
use crate::rpc::{KvError, Version};

pub use checks::{ClntRes, EntryV};
pub use done::Done;
pub use linearizability::{
    HISTORY_DIR_VAR, LINEARIZABILITY_CHECK_TIMEOUT, check_history, visualize_history,
};
pub use oplog::{KvOperation, OpLog, get_output, model_err, put_output};
pub use stop::{ClerksStopped, StopOnPanic, TestClnt, first_failure, is_clerks_stopped};

/// How long the tests allow for electing a leader.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The clerk the tests use: the 2025 Clerk over a tester client that the
/// test can stop.
pub type TestClerk = Clerk<TestClnt>;

/// A KV test: the cluster's Config, the shared operation log, and whether the
/// workers pick random keys.
pub struct Test<S: TestServer> {
    /// The tester's configuration (servers, network, banners).
    pub cfg: Config<S>,
    oplog: OpLog,
    randomkeys: bool,
    finalized: AtomicBool,
    stop: Arc<stop::StopSwitch>,
}

impl<S: TestServer> Test<S> {
    /// Wraps a started cluster.
    pub fn new(cfg: Config<S>, randomkeys: bool) -> Test<S> {
        Test {
            cfg,
            oplog: OpLog::new(),
            randomkeys,
            finalized: AtomicBool::new(false),
            stop: Arc::default(),
        }
    }

    /// Whether workers pick random keys.
    pub fn randomkeys(&self) -> bool {
        self.randomkeys
    }

    /// The operations recorded so far.
    pub fn oplog(&self) -> &OpLog {
        &self.oplog
    }

    /// A clerk that can reach every server of group 0.
    pub fn make_clerk(&self) -> TestClerk {
        Clerk::new(
            self.clnt(self.cfg.make_client()),
            self.cfg.group().srv_names(),
        )
    }

    /// A clerk that can reach only the servers in `to` (it still knows all
    /// names; calls to the others fail).
    pub fn make_clerk_to(&self, to: &[usize]) -> TestClerk {
        let group = self.cfg.group();
        let allowed: Vec<String> = to.iter().map(|&i| group.srv_name(i)).collect();
        Clerk::new(
            self.clnt(self.cfg.make_client_to(&allowed)),
            group.srv_names(),
        )
    }

    fn clnt(&self, clnt: tester::Clnt) -> TestClnt {
        TestClnt::new(clnt, Arc::clone(&self.stop))
    }

    /// Removes a clerk's ends from the network.
    pub fn delete_clerk(&self, ck: &TestClerk) {
        self.cfg.delete_client(ck.transport().clnt());
    }

    /// Stops every clerk of this test, for good: calls in flight fail at
    /// once, and every later clerk call unwinds its thread with
    /// [`ClerksStopped`]. For a test that has failed, so that threads blocked
    /// in clerks (a minority's clients, say) end and can be joined.
    pub fn stop_clerks(&self) {
        self.stop.stop();
    }

    /// A guard that stops this test's clerks if it is dropped during a
    /// panic. Make one at the top of a `labrt::thread::scope` body (the scope
    /// joins its threads before a failure propagates) and in worker threads.
    pub fn stop_clerks_on_panic(&self) -> StopOnPanic<'_> {
        StopOnPanic { switch: &self.stop }
    }

    /// A recorded Get by client `cli`.
    pub fn get(&self, ck: &TestClerk, key: &str, cli: i64) -> Result<(String, Version), KvError> {
        let call = annotate::timestamp();
        let result = ck.get(key);
        let return_time = annotate::timestamp();
        self.cfg.op();
        self.oplog.append(Operation {
            client_id: cli,
            input: KvInput::get(key),
            call,
            output: get_output(&result),
            return_time,
        });
        result
    }

    /// A recorded Put by client `cli`.
    pub fn put(
        &self,
        ck: &TestClerk,
        key: &str,
        value: &str,
        version: Version,
        cli: i64,
    ) -> Result<(), KvError> {
        let call = annotate::timestamp();
        let result = ck.put(key, value, version);
        let return_time = annotate::timestamp();
        self.cfg.op();
        self.oplog.append(Operation {
            client_id: cli,
            input: KvInput::put(key, value, version),
            call,
            output: put_output(&result),
            return_time,
        });
        result
    }
}

/// `"k0"` .. `"k<n-1>"`.
pub fn make_keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("k{i}")).collect()
}

/// `n` random letters.
pub fn rand_value(n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    labrpc::rng::with(|rng| {
        (0..n)
            .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
            .collect()
    })
}
