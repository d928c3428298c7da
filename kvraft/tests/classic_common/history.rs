//! Recording of Clerk operations for porcupine (Go's `Get`/`Put`/`Append`
//! wrappers and `OpLog`), the final linearizability check, and the fault
//! annotations drawn beside a failing history.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use kvraft::classic::ClerkError;
use parking_lot::Mutex;
use porcupine::models::kv::{KvInput, KvModel, KvOutput};
use porcupine::{CheckResult, Operation};

use super::config::{ClassicConfig, TestClerk};

/// Go's `linearizabilityCheckTimeout`.
const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// One recorded Clerk operation.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// The origin of every timestamp in a history: one monotonic clock with one
/// origin (the first use in the process), as Go's package-level `t0`.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Nanoseconds since [`ORIGIN`].
fn now_nanos() -> i64 {
    i64::try_from(ORIGIN.elapsed().as_nanos()).expect("a test runs for less than 292 years")
}

/// Go's `OpLog`: every recorded operation of a test, in completion order.
#[derive(Default)]
pub struct OpLog {
    operations: Mutex<Vec<KvOperation>>,
}

impl OpLog {
    /// An empty log.
    pub fn new() -> OpLog {
        OpLog::default()
    }

    /// Adds one completed operation.
    pub fn append(&self, operation: KvOperation) {
        self.operations.lock().push(operation);
    }

    /// A copy of everything recorded so far.
    pub fn read(&self) -> Vec<KvOperation> {
        self.operations.lock().clone()
    }

    /// Number of operations recorded.
    pub fn len(&self) -> usize {
        self.operations.lock().len()
    }
}

/// A Clerk result in a test: the Clerk only gives up when the network is gone,
/// i.e. the test is over and this is a leftover thread.
#[track_caller]
pub fn unwrap_clerk<T>(result: Result<T, ClerkError>) -> T {
    result.unwrap_or_else(|error| panic!("Clerk gave up: {error}"))
}

/// Go's `Get(cfg, ck, key, log, cli)`: a counted (and, with a log, recorded) read.
#[track_caller]
pub fn get(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    log: Option<&OpLog>,
    cli: i64,
) -> String {
    let call = now_nanos();
    let value = unwrap_clerk(ck.get(key));
    let return_time = now_nanos();
    cfg.op();
    if let Some(log) = log {
        log.append(Operation {
            client_id: cli,
            input: KvInput::get(key),
            call,
            output: KvOutput::value(&value),
            return_time,
        });
    }
    value
}

/// Go's `Put(cfg, ck, key, value, log, cli)`.
#[track_caller]
pub fn put(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    value: &str,
    log: Option<&OpLog>,
    cli: i64,
) {
    let call = now_nanos();
    unwrap_clerk(ck.put(key, value));
    let return_time = now_nanos();
    cfg.op();
    if let Some(log) = log {
        log.append(Operation {
            client_id: cli,
            input: KvInput::put(key, value),
            call,
            output: KvOutput::none(),
            return_time,
        });
    }
}

/// Go's `Append(cfg, ck, key, value, log, cli)`.
#[track_caller]
pub fn append(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    value: &str,
    log: Option<&OpLog>,
    cli: i64,
) {
    let call = now_nanos();
    unwrap_clerk(ck.append(key, value));
    let return_time = now_nanos();
    cfg.op();
    if let Some(log) = log {
        log.append(Operation {
            client_id: cli,
            input: KvInput::append(key, value),
            call,
            output: KvOutput::none(),
            return_time,
        });
    }
}

/// Go's `check(cfg, t, ck, key, value)`: an unrecorded Get must read `value`.
#[track_caller]
pub fn check(cfg: &ClassicConfig, ck: &TestClerk, key: &str, value: &str) {
    let v = get(cfg, ck, key, None, -1);
    if v != value {
        panic!("Get({key}): expected:\n{value}\nreceived:\n{v}");
    }
}

/// The end-of-test porcupine check with a 1 s timeout. An illegal history
/// writes an HTML visualisation (with the fault annotations), prints its path
/// and fails; a timeout prints an info line and passes, as in Go.
#[track_caller]
pub fn check_linearizable(cfg: &ClassicConfig, log: &OpLog) {
    let _ = cfg;
    let operations = log.read();
    let (result, info) = porcupine::check_operations_verbose(
        &KvModel,
        &operations,
        Some(LINEARIZABILITY_CHECK_TIMEOUT),
    );
    match result {
        CheckResult::Ok => {}
        CheckResult::Unknown => {
            println!("info: linearizability check timed out, assuming history is ok");
        }
        CheckResult::Illegal => {
            todo_write_html(&info);
            panic!("history is not linearizable");
        }
    }
}
