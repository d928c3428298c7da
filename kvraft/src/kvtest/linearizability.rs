//! The porcupine check of a test's history (Go's `kvtest1/porcupine.go`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use porcupine::CheckResult;
use porcupine::models::kv_versioned::KvVersionedModel;
use tester::{TestServer, annotate};

use super::Test;

/// The time porcupine gets for every KV linearizability check.
pub const LINEARIZABILITY_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

impl<S: TestServer> Test<S> {
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
        annotate::checker_begin(&format!("checking {} operations", history.len()));
        let (result, info) =
            porcupine::check_operations_verbose(&KvVersionedModel, &history, Some(timeout));
        let vis = std::env::var("VIS_ENABLE").unwrap_or_default();
        match result {
            CheckResult::Illegal => {
                annotate::checker_failure("not linearizable", "");
                if vis != "never" {
                    let path = annotate::output_path();
                    annotate::set_finalized();
                    let annotations = annotate::annotations();
                    match porcupine::visualize_path(&KvVersionedModel, &info, &annotations, &path) {
                        Ok(()) => {
                            println!("info: wrote history visualization to {}", path.display())
                        }
                        Err(e) => println!(
                            "info: failed to write history visualization to {} ({e})",
                            path.display()
                        ),
                    }
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
            let path = annotate::output_path();
            annotate::set_finalized();
            let annotations = annotate::annotations();
            match porcupine::visualize_path(&KvVersionedModel, &info, &annotations, &path) {
                Ok(()) => println!("info: wrote visualization to {}", path.display()),
                Err(e) => println!(
                    "info: failed to open visualization file {} ({e})",
                    path.display()
                ),
            }
        }
    }
}
