//! Recording of Clerk operations for porcupine (Go's `Get`/`Put`/`Append`
//! wrappers and `OpLog`), the final linearizability check, and the fault
//! annotations drawn beside a failing history.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::Duration;

use kvraft::classic::ClerkError;
use labrt::sync::Mutex;
use porcupine::models::kv::{KvInput, KvModel, KvOp, KvOutput};
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

/// What a thread unwinds with when its Clerk gave up because the test's
/// network is gone: the test is over (it ended, or failed and stopped its
/// clerks, see [`ClassicConfig::stop_clerks`](super::ClassicConfig::stop_clerks)).
/// Raised with [`std::panic::resume_unwind`], so nothing is printed: the
/// failure that stopped the test has already said what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestStopped;

/// True if a thread's panic payload is [`TestStopped`], not a failure of its own.
pub fn is_test_stopped(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.is::<TestStopped>()
}

/// A Clerk result in a test: the Clerk only gives up when the network is gone,
/// i.e. the test is over and this is a leftover thread, which then ends
/// quietly (it unwinds with [`TestStopped`]).
#[track_caller]
pub fn unwrap_clerk<T>(result: Result<T, ClerkError>) -> T {
    match result {
        Ok(value) => value,
        Err(ClerkError::NetworkGone) => std::panic::resume_unwind(Box::new(TestStopped)),
        Err(error) => panic!("Clerk gave up: {error}"),
    }
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

/// [`try_get`] (unrecorded) for a thread that may outlive its test: it holds
/// only a weak reference to the config while the Clerk call blocks, so a
/// failed test is torn down on its own thread, and the Clerk then gives up.
pub fn try_get_detached(
    cfg: &Weak<ClassicConfig>,
    ck: &TestClerk,
    key: &str,
) -> Result<String, ClerkError> {
    let value = ck.get(key)?;
    if let Some(cfg) = cfg.upgrade() {
        cfg.op();
    }
    Ok(value)
}

/// [`try_put`] (unrecorded) for a thread that may outlive its test; see
/// [`try_get_detached`].
pub fn try_put_detached(
    cfg: &Weak<ClassicConfig>,
    ck: &TestClerk,
    key: &str,
    value: &str,
) -> Result<(), ClerkError> {
    ck.put(key, value)?;
    if let Some(cfg) = cfg.upgrade() {
        cfg.op();
    }
    Ok(())
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
/// Two departures from Go's single `CheckOperationsVerbose` call, neither
/// changing the verdict:
/// - Keys whose operations never overlap in time are checked by replaying
///   them in order ([`replay_sequential_keys`]); porcupine gets the other keys.
///   With clients this fast, one client's key holds tens of thousands of
///   operations whose reads return up to ~100 KB each; porcupine's generic
///   search (memo cache of whole states) cannot finish that within 1 s, a
///   replay takes one comparison per read.
/// - The verdict comes from the plain check; the verbose one (partial
///   linearizations, far slower) runs only to draw a picture.
#[track_caller]
pub fn check_linearizable(cfg: &ClassicConfig, log: &OpLog) {
    let operations = log.take();
    if let Some(dir) = std::env::var_os(kvraft::kvtest::HISTORY_DIR_VAR) {
        export_history(std::path::Path::new(&dir), &operations);
    }
    annotate::checker_begin(&format!("checking {} operations", operations.len()));
    let result = match replay_sequential_keys(&operations) {
        Err(_) => CheckResult::Illegal,
        Ok(rest) => {
            porcupine::check_operations(&KvModel, &rest, Some(LINEARIZABILITY_CHECK_TIMEOUT))
        }
    };
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

/// A key whose replay failed: the first operation (index into the history)
/// that its in-order replay cannot explain.
#[derive(Debug, PartialEq, Eq)]
pub struct SequentialViolation {
    /// Index of the offending operation in the history.
    pub operation: usize,
}

/// Checks, by replay, every key whose operations are totally ordered in real
/// time (each returns strictly before the next is called; touching intervals
/// count as concurrent, as in porcupine). Such a key is linearizable iff
/// replaying its operations in that order is legal in the model: it is the
/// only order a linearization may use. Returns the operations of the other
/// keys, for porcupine, or the first violation found.
///
/// Keys are independent in the model (porcupine checks them as separate
/// partitions), so the history is linearizable iff both parts are.
pub fn replay_sequential_keys(
    operations: &[KvOperation],
) -> Result<Vec<KvOperation>, SequentialViolation> {
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, operation) in operations.iter().enumerate() {
        by_key.entry(&operation.input.key).or_default().push(index);
    }
    let mut rest = Vec::new();
    for mut indices in by_key.into_values() {
        indices.sort_by_key(|&i| operations[i].call);
        let sequential = indices
            .windows(2)
            .all(|pair| operations[pair[0]].return_time < operations[pair[1]].call);
        if !sequential {
            rest.extend(indices.iter().map(|&i| operations[i].clone()));
            continue;
        }
        let mut state = String::new();
        for &i in &indices {
            let KvOperation { input, output, .. } = &operations[i];
            match input.op {
                KvOp::Get if output.value != state => {
                    return Err(SequentialViolation { operation: i });
                }
                KvOp::Get => {}
                KvOp::Put => {
                    state.clear();
                    state.push_str(&input.value);
                }
                KvOp::Append => state.push_str(&input.value),
            }
        }
    }
    Ok(rest)
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A random history over three keys: some keys strictly sequential, some
    /// with overlapping operations; reads return a plausible or a wrong value.
    fn random_history(rng: &mut rand::rngs::StdRng) -> Vec<KvOperation> {
        let mut history = Vec::new();
        for key in ["a", "b", "c"] {
            let overlapping = rng.random_bool(0.5);
            let mut time = 0_i64;
            let mut model = String::new();
            for _ in 0..rng.random_range(0..12) {
                let call = if overlapping {
                    time - rng.random_range(0..3)
                } else {
                    time + 1
                };
                let return_time = call + rng.random_range(0..4);
                time = return_time;
                let value = ["x", "y", "z"][rng.random_range(0..3)].to_owned();
                let (input, output) = match rng.random_range(0..3) {
                    0 => {
                        model.push_str(&value);
                        (KvInput::append(key, value), KvOutput::default())
                    }
                    1 => {
                        model = value.clone();
                        (KvInput::put(key, value), KvOutput::default())
                    }
                    _ => {
                        let read = if rng.random_bool(0.8) {
                            model.clone()
                        } else {
                            value
                        };
                        (KvInput::get(key), KvOutput::new(read))
                    }
                };
                history.push(Operation {
                    client_id: 0,
                    input,
                    call,
                    output,
                    return_time,
                });
            }
        }
        history
    }

    /// Replaying the sequential keys and giving porcupine the rest reaches
    /// porcupine's verdict on the whole history, for legal and illegal ones.
    #[test]
    fn replay_split_agrees_with_porcupine() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let (mut legal, mut illegal) = (0, 0);
        for _ in 0..3000 {
            let history = random_history(&mut rng);
            let whole = porcupine::check_operations(&KvModel, &history, None);
            let split = match replay_sequential_keys(&history) {
                Err(_) => CheckResult::Illegal,
                Ok(rest) => porcupine::check_operations(&KvModel, &rest, None),
            };
            assert_eq!(split, whole, "history {history:?}");
            if whole == CheckResult::Ok {
                legal += 1;
            } else {
                illegal += 1;
            }
        }
        assert!(
            legal > 300 && illegal > 300,
            "{legal} legal, {illegal} illegal"
        );
    }

    /// Operations whose intervals touch are concurrent: such a key goes to
    /// porcupine, which may order the touching read first.
    #[test]
    fn touching_intervals_are_not_sequential() {
        let op = |input, output, call, return_time| Operation {
            client_id: 0,
            input,
            call,
            output,
            return_time,
        };
        let history = vec![
            op(KvInput::append("k", "x"), KvOutput::default(), 0, 5),
            op(KvInput::get("k"), KvOutput::new(""), 5, 9),
        ];
        let rest = replay_sequential_keys(&history).expect("not judged by replay");
        assert_eq!(rest.len(), 2);
        assert_eq!(
            porcupine::check_operations(&KvModel, &rest, None),
            CheckResult::Ok
        );
    }
}
