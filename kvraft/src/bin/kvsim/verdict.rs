//! The recorded history on disk (porcupine's JSON history format), its
//! linearizability check, and the HTML picture of both with the faults.

use labrt::time::{Duration, Instant};
use std::path::Path;

use porcupine::history::{self, History, HistoryError, ModelName};
use porcupine::models::kv::KvModel;
use porcupine::{Annotation, CheckResult, LinearizationInfo, Model};
use tester::annotate;

use crate::workload::KvOperation;

/// Linearization info of the classic KV model.
pub type KvInfo = LinearizationInfo<<KvModel as Model>::Input, <KvModel as Model>::Output>;

/// Writes `operations` and the fault timeline as a porcupine JSON history
/// (model `kv`), which `porcupine check` reads.
pub fn write_history(
    path: &Path,
    operations: &[KvOperation],
    annotations: &[Annotation],
) -> Result<(), HistoryError> {
    let history = History {
        model: ModelName::Kv.as_str().to_string(),
        operations: operations.to_vec(),
        annotations: annotations.to_vec(),
    };
    history::write_path(path, &history)
}

/// What the checker said, and how long it took.
pub struct Checked {
    /// The verdict.
    pub result: CheckResult,
    /// Time the check took.
    pub took: Duration,
}

impl Checked {
    /// `linearizable`, `NOT linearizable` or `unknown (...)`.
    pub fn describe(&self) -> &'static str {
        match self.result {
            CheckResult::Ok => "linearizable",
            CheckResult::Illegal => "NOT linearizable",
            CheckResult::Unknown => "unknown (the check timed out)",
        }
    }
}

/// Checks `operations` with the partitioned Put/Append/Get model, giving up
/// after `timeout`, and marks the check on the fault timeline. The plain
/// check: the verbose one, which also keeps partial linearizations for the
/// picture, is many times slower.
pub fn check(operations: &[KvOperation], timeout: Duration) -> Checked {
    annotate::checker_begin(&format!("{} operations", operations.len()));
    let started = Instant::now();
    let result = porcupine::check_operations(&KvModel, operations, Some(timeout));
    let took = started.elapsed();
    let details = format!(
        "{} operations in {:.2} s",
        operations.len(),
        took.as_secs_f64()
    );
    match result {
        CheckResult::Ok => annotate::checker_success("linearizable", &details),
        CheckResult::Illegal => annotate::checker_failure("not linearizable", &details),
        CheckResult::Unknown => annotate::checker_neutral("unknown (timeout)", &details),
    }
    Checked { result, took }
}

/// The picture of a history, and what its verbose check found.
pub struct Drawing {
    /// Whether the verbose check decided every partition within its budget
    /// (if not, the picture shows undecided partitions).
    pub complete: bool,
    /// For a history that is not linearizable: per illegal key, the first
    /// operation that cannot be placed.
    pub culprits: Vec<String>,
}

/// Runs the verbose check (at most `budget`) for the partial
/// linearizations, and writes the HTML picture of the history with the
/// timeline's `annotations` to `path`.
pub fn draw(
    path: &Path,
    operations: &[KvOperation],
    annotations: &[Annotation],
    budget: Duration,
) -> std::io::Result<Drawing> {
    let (result, info) = porcupine::check_operations_verbose(&KvModel, operations, Some(budget));
    porcupine::visualize_path(&KvModel, &info, annotations, path)?;
    Ok(Drawing {
        complete: result != CheckResult::Unknown,
        culprits: culprits(&info),
    })
}

fn culprits(info: &KvInfo) -> Vec<String> {
    let history = info.history();
    info.partitions()
        .iter()
        .filter_map(|partition| partition.first_unplaceable(history))
        .map(|index| {
            let op = &history[index];
            let input = &op.input;
            let value = if input.value.is_empty() {
                String::new()
            } else {
                format!(", {:?}", input.value)
            };
            format!(
                "client {} {:?}({:?}{value}) -> {:?}, called at {} ns",
                op.client_id, input.op, input.key, op.output.value, op.call
            )
        })
        .collect()
}
