//! Per-test debug logs (stub: the tools work replaces this).

use std::path::PathBuf;

/// Called when a test's Config is made: installs the process's logger once.
pub fn start_test(_test_name: &str, _seed: u64) {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// Called when a test's Config is dropped.
pub fn finish_test(_failed: bool) {}

/// Where the current test's debug log is written, if per-test logs are on.
pub fn log_path() -> Option<PathBuf> {
    None
}
