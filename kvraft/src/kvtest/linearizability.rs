//! The porcupine check of a test's history (Go's `kvtest1/porcupine.go`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use porcupine::CheckResult;
use porcupine::models::kv_versioned::KvVersionedModel;
use tester::{TestServer, annotate};

use super::{KvOperation, Test};

/// The time porcupine gets for every KV linearizability check.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the verbose check that computes partial linearizations for a
/// visualisation may take (the verdict is already known then).
const VISUALIZATION_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// If set, every checked history is also written, in porcupine's JSON history
/// format, to a fresh `history-*.json` file in this directory (and the path
/// printed), so it can be re-checked with `porcupine check`.
pub const HISTORY_DIR_VAR: &str = "KV_HISTORY_DIR";

impl<S: TestServer> Test<S> {
    /// Writes the history recorded so far, with the tester's annotations, in
    /// porcupine's JSON history format (model `kv-versioned`).
    pub fn export_history(
        &self,
        path: &std::path::Path,
    ) -> Result<(), porcupine::history::HistoryError> {
        let history = porcupine::history::History {
            model: porcupine::history::ModelName::KvVersioned
                .as_str()
                .to_string(),
            operations: self.oplog.read(),
            annotations: annotate::annotations(),
        };
        porcupine::history::write_path(path, &history)
    }

    /// Marks the timeline final before the last check of a test (Go's
    /// `SetAnnotationFinalized`): with `VIS_ENABLE=always`, the next check
    /// writes its visualisation.
    pub fn finalize_annotations(&self) {
        self.finalized.store(true, Ordering::SeqCst);
    }

    /// Checks the whole history so far with a 1 s timeout.
    #[track_caller]
    pub fn check_porcupine(&self) {
        self.check_porcupine_timeout(LINEARIZABILITY_CHECK_TIMEOUT);
    }

    /// Checks the whole history so far with porcupine's versioned KV model.
    ///
    /// - Illegal: writes the HTML visualisation (history plus the tester's
    ///   annotations) to `VIS_FILE` or a fresh `porcupine-*.html` unless
    ///   `VIS_ENABLE=never`, prints its path, and fails with `history is not
    ///   linearizable`.
    /// - Timed out: prints `info: linearizability check timed out, assuming
    ///   history is ok` and passes.
    #[track_caller]
    pub fn check_porcupine_timeout(&self, timeout: Duration) {
        let history = self.oplog.read();
        if let Some(dir) = std::env::var_os(HISTORY_DIR_VAR) {
            let path = std::path::Path::new(&dir).join(format!(
                "history-{}-{}.json",
                std::process::id(),
                annotate::timestamp()
            ));
            match self.export_history(&path) {
                Ok(()) => println!("info: wrote history to {}", path.display()),
                Err(e) => println!("info: failed to write history to {} ({e})", path.display()),
            }
        }
        annotate::checker_begin(&format!("checking {} operations", history.len()));
        // The verdict comes from the plain check, as fast as porcupine gets; the
        // verbose one (partial linearizations) is only needed to draw a history.
        let result = check_history(&history, timeout);
        let vis = std::env::var("VIS_ENABLE").unwrap_or_default();
        match result {
            CheckResult::Illegal => {
                annotate::checker_failure("not linearizable", "");
                if vis != "never" {
                    self.write_visualization(&history, "history visualization");
                }
                self.cfg.fatal("history is not linearizable");
            }
            CheckResult::Unknown => {
                annotate::checker_neutral("timed out", "");
                println!("info: linearizability check timed out, assuming history is ok");
            }
            CheckResult::Ok => annotate::checker_success("linearizable", ""),
        }
        if vis == "always" && self.finalized.load(Ordering::SeqCst) {
            self.write_visualization(&history, "visualization");
        }
    }

    /// Writes the HTML of `history` with the tester's annotations to
    /// `VIS_FILE` or a fresh `porcupine-*.html`, and prints its path.
    fn write_visualization(&self, history: &[KvOperation], what: &str) {
        let path = annotate::output_path();
        annotate::set_finalized();
        match visualize_history(history, &annotate::annotations(), &path) {
            Ok(()) => println!("info: wrote {what} to {}", path.display()),
            Err(e) => println!("info: failed to write {what} to {} ({e})", path.display()),
        }
    }
}

/// Checks a recorded history against porcupine's versioned KV model.
pub fn check_history(history: &[KvOperation], timeout: Duration) -> CheckResult {
    porcupine::check_operations(&KvVersionedModel, history, Some(timeout))
}

/// Writes porcupine's HTML visualisation of `history` (its longest partial
/// linearizations, found within 10 s) with `annotations` to `path`.
pub fn visualize_history(
    history: &[KvOperation],
    annotations: &[porcupine::Annotation],
    path: &std::path::Path,
) -> std::io::Result<()> {
    let (_, info) = porcupine::check_operations_verbose(
        &KvVersionedModel,
        history,
        Some(VISUALIZATION_CHECK_TIMEOUT),
    );
    porcupine::visualize_path(&KvVersionedModel, &info, annotations, path)
}
