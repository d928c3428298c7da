//! The recorded history on disk (porcupine's JSON history format), its
//! linearizability check, and the HTML picture of both with the faults.

use std::path::Path;
use std::time::{Duration, Instant};

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
    /// Partial linearizations, for the picture.
    pub info: KvInfo,
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

    /// For a history that is not linearizable: per illegal key, the first
    /// operation that cannot be placed.
    pub fn culprits(&self) -> Vec<String> {
        let history = self.info.history();
        self.info
            .partitions()
            .iter()
            .filter_map(|partition| partition.first_unplaceable(history))
            .map(|index| {
                let op = &history[index];
                let input = &op.input;
                format!(
                    "client {} {:?}({:?}{}) -> {:?}, called at {} ns",
                    op.client_id,
                    input.op,
                    input.key,
                    if input.value.is_empty() {
                        String::new()
                    } else {
                        format!(", {:?}", input.value)
                    },
                    op.output.value,
                    op.call
                )
            })
            .collect()
    }
}

/// Checks `operations` with the partitioned Put/Append/Get model, verbosely
/// (for the picture), giving up after `timeout`. Marks the check on the
/// fault timeline.
pub fn check(operations: &[KvOperation], timeout: Duration) -> Checked {
    annotate::checker_begin(&format!("{} operations", operations.len()));
    let started = Instant::now();
    let (result, info) = porcupine::check_operations_verbose(&KvModel, operations, Some(timeout));
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
    Checked { result, info, took }
}

/// Writes the HTML picture of the checked history and the timeline.
pub fn write_html(path: &Path, info: &KvInfo, annotations: &[Annotation]) -> std::io::Result<()> {
    porcupine::visualize_path(&KvModel, info, annotations, path)
}
