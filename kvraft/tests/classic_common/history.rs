//! Recording of Clerk operations for porcupine (Go's `Get`/`Put`/`Append`
//! wrappers and `OpLog`), the final linearizability check, and the fault
//! annotations drawn beside a failing history.

use std::time::Duration;

use kvraft::classic::ClerkError;
use parking_lot::Mutex;
use porcupine::models::kv::{KvInput, KvModel, KvOutput};
use porcupine::{CheckResult, Operation};
use tester::annotate;

use super::config::{ClassicConfig, TestClerk};

/// Go's `linearizabilityCheckTimeout`.
const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the verbose re-check that draws a failing history may take.
const VISUALIZATION_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// One recorded Clerk operation.
pub type KvOperation = Operation<KvInput, KvOutput>;

/// The clock of histories: the tester's annotation clock, so faults and
/// operations line up in the visualisation.
fn now_nanos() -> i64 {
    annotate::timestamp()
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

    /// Everything recorded so far, leaving the log empty. The final check
    /// takes the history rather than copying it: Go's copy shares the strings,
    /// a Rust copy would duplicate every value read (hundreds of MB here).
    pub fn take(&self) -> Vec<KvOperation> {
        std::mem::take(&mut *self.operations.lock())
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
    unwrap_clerk(try_get(cfg, ck, key, log, cli))
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
    unwrap_clerk(try_put(cfg, ck, key, value, log, cli));
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
    unwrap_clerk(try_append(cfg, ck, key, value, log, cli));
}

/// [`get`] that returns the Clerk's error instead of failing: for threads
/// that may outlive their test (the network is then gone).
pub fn try_get(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    log: Option<&OpLog>,
    cli: i64,
) -> Result<String, ClerkError> {
    match log {
        // Nothing to record: the caller gets the value itself.
        None => try_get_with(cfg, ck, key, None, cli, |_| ()).map(|((), value)| value),
        Some(_) => try_get_with(cfg, ck, key, log, cli, str::to_owned).map(|(copy, _)| copy),
    }
}

/// [`get`] that hands the value to `inspect` and then records it without
/// copying it (a Get's output is the client's whole key, up to ~100 KB here).
/// Returns what `inspect` returned, and the value when it was not recorded.
#[track_caller]
pub fn get_with<T>(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    log: Option<&OpLog>,
    cli: i64,
    inspect: impl FnOnce(&str) -> T,
) -> T {
    unwrap_clerk(try_get_with(cfg, ck, key, log, cli, inspect)).0
}

fn try_get_with<T>(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    log: Option<&OpLog>,
    cli: i64,
    inspect: impl FnOnce(&str) -> T,
) -> Result<(T, String), ClerkError> {
    let call = now_nanos();
    let value = ck.get(key)?;
    let return_time = now_nanos();
    let inspected = inspect(&value);
    let output = KvOutput { value };
    let unrecorded = record(cfg, log, cli, KvInput::get(key), output, call, return_time);
    Ok((
        inspected,
        unrecorded.map(|output| output.value).unwrap_or_default(),
    ))
}

/// [`put`] that returns the Clerk's error instead of failing.
pub fn try_put(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    value: &str,
    log: Option<&OpLog>,
    cli: i64,
) -> Result<(), ClerkError> {
    let call = now_nanos();
    ck.put(key, value)?;
    let return_time = now_nanos();
    record(
        cfg,
        log,
        cli,
        KvInput::put(key, value),
        KvOutput::default(),
        call,
        return_time,
    );
    Ok(())
}

/// [`append`] that returns the Clerk's error instead of failing.
pub fn try_append(
    cfg: &ClassicConfig,
    ck: &TestClerk,
    key: &str,
    value: &str,
    log: Option<&OpLog>,
    cli: i64,
) -> Result<(), ClerkError> {
    let call = now_nanos();
    ck.append(key, value)?;
    let return_time = now_nanos();
    record(
        cfg,
        log,
        cli,
        KvInput::append(key, value),
        KvOutput::default(),
        call,
        return_time,
    );
    Ok(())
}

/// Counts one finished operation and, given a log, records it; hands the
/// output back when there is no log.
fn record(
    cfg: &ClassicConfig,
    log: Option<&OpLog>,
    client_id: i64,
    input: KvInput,
    output: KvOutput,
    call: i64,
    return_time: i64,
) -> Option<KvOutput> {
    cfg.op();
    let Some(log) = log else {
        return Some(output);
    };
    log.append(Operation {
        client_id,
        input,
        call,
        output,
        return_time,
    });
    None
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
/// writes an HTML visualisation (the history with the tester's fault
/// annotations) unless `VIS_ENABLE=never`, prints its path and fails; a
/// timeout prints Go's info line and passes.
///
/// Go runs the verbose check at once. Here the verdict comes from the plain
/// check (same verdict, no bookkeeping of partial linearizations), and the
/// verbose check runs only when a picture is wanted: on long sequential
/// partitions, like one client's key here, that bookkeeping costs more than
/// the search.
#[track_caller]
pub fn check_linearizable(cfg: &ClassicConfig, log: &OpLog) {
    let operations = log.take();
    if let Some(dir) = std::env::var_os(kvraft::kvtest::HISTORY_DIR_VAR) {
        export_history(std::path::Path::new(&dir), &operations);
    }
    annotate::checker_begin(&format!("checking {} operations", operations.len()));
    let result =
        porcupine::check_operations(&KvModel, &operations, Some(LINEARIZABILITY_CHECK_TIMEOUT));
    let visualize = std::env::var("VIS_ENABLE").unwrap_or_default();
    match result {
        CheckResult::Ok => annotate::checker_success("linearizable", ""),
        CheckResult::Unknown => {
            annotate::checker_neutral("timed out", "");
            println!("info: linearizability check timed out, assuming history is ok");
        }
        CheckResult::Illegal => {
            annotate::checker_failure("not linearizable", "");
            if visualize != "never" {
                write_visualization(&operations, "history visualization");
            }
            cfg.tester().fatal("history is not linearizable");
        }
    }
    if visualize == "always" {
        write_visualization(&operations, "visualization");
    }
}

/// Writes the history (with the fault timeline) in porcupine's JSON history
/// format, model `kv`, to a fresh `history-*.json` in `dir`, for
/// `porcupine check`.
fn export_history(dir: &std::path::Path, operations: &[KvOperation]) {
    let path = dir.join(format!(
        "history-{}-{}.json",
        std::process::id(),
        annotate::timestamp()
    ));
    let history = porcupine::history::History {
        model: porcupine::history::ModelName::Kv.as_str().to_owned(),
        operations: operations.to_vec(),
        annotations: annotate::annotations(),
    };
    match porcupine::history::write_path(&path, &history) {
        Ok(()) => println!("info: wrote history to {}", path.display()),
        Err(error) => println!(
            "info: failed to write history to {} ({error})",
            path.display()
        ),
    }
}

/// Writes the history and the fault timeline as porcupine HTML and prints
/// where; the tester then writes no second file.
fn write_visualization(operations: &[KvOperation], what: &str) {
    let (_, info) = porcupine::check_operations_verbose(
        &KvModel,
        operations,
        Some(VISUALIZATION_CHECK_TIMEOUT),
    );
    let path = annotate::output_path();
    annotate::set_finalized();
    match porcupine::visualize_path(&KvModel, &info, &annotate::annotations(), &path) {
        Ok(()) => println!("info: wrote {what} to {}", path.display()),
        Err(error) => println!(
            "info: failed to write {what} to {} ({error})",
            path.display()
        ),
    }
}
