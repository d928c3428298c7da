//! Per-test debug logs (tester::logging) seen from outside: a child process of
//! this test binary runs the logging calls with LAB_LOG_DIR set, and the
//! parent reads the files it wrote, also through dslogs. (Tool tests; they
//! follow no Go suite.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tester::logging::{self, LogLine};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tools-logging-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs one of the ignored child tests below in a new process.
fn run_child(test: &str, envs: &[(&str, &Path)], rust_log: Option<&str>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        test,
        "--include-ignored",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env_remove(logging::LOG_DIR_ENV)
    .env_remove("RUST_LOG");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "child {test} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn lines(path: &Path) -> Vec<LogLine> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| LogLine::parse(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn records(lines: &[LogLine]) -> Vec<(String, String, String)> {
    lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Record(r) => Some((r.topic.clone(), r.crate_name.clone(), r.message.clone())),
            _ => None,
        })
        .collect()
}

/// Child: two tests' worth of logging calls in one process, as a test binary makes them.
#[test]
#[ignore = "child process of per_test_files_hold_each_tests_records"]
fn child_logs_two_tests() {
    logging::start_test("", 77);
    log::debug!(target: "raft::election", "S0 T1 election timeout");
    std::thread::spawn(|| log::info!(target: "raft::append", "S1 T1 got append\nlog=[1 2]"))
        .join()
        .unwrap();
    log::trace!(target: "raft::commit", "S0 T1 trace is below the file's level");
    log::warn!(target: "kvraft::client", "retrying Get");
    let dir = PathBuf::from(std::env::var_os(logging::LOG_DIR_ENV).unwrap());
    assert_eq!(
        logging::log_path(),
        Some(dir.join("child_logs_two_tests-77.log"))
    );
    logging::finish_test(true);
    log::debug!(target: "raft::election", "S0 T1 between tests: nowhere");
    logging::start_test("second_test", 78);
    log::debug!(target: "rsm::apply", "S2 T3 applied 5");
    logging::finish_test(false);
    // A second Config in the same test (same name and seed) adds to the file.
    logging::start_test("second_test", 78);
    log::debug!(target: "rsm::apply", "S2 T3 applied 6");
    logging::finish_test(false);
    assert_eq!(logging::log_path(), Some(dir.join("second_test-78.log")));
}

/// Child: logging without LAB_LOG_DIR.
#[test]
#[ignore = "child process of without_a_log_dir_only_rust_log_prints"]
fn child_logs_without_a_dir() {
    logging::start_test("", 5);
    assert_eq!(logging::log_path(), None);
    log::debug!(target: "raft::election", "S0 T1 election timeout");
    logging::finish_test(true);
}

/// With LAB_LOG_DIR every test gets its own file of its debug records, in the
/// format LogLine::parse reads, and a failed test prints the path.
#[test]
fn per_test_files_hold_each_tests_records() {
    let dir = scratch("two");
    let output = run_child(
        "child_logs_two_tests",
        &[(logging::LOG_DIR_ENV, &dir)],
        None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = dir.join("child_logs_two_tests-77.log");
    assert!(
        stdout.contains(&format!("info: debug log in {}", first.display())),
        "{stdout}"
    );
    assert!(
        !stdout.contains("second_test-78.log"),
        "a passing test prints no path: {stdout}"
    );
    assert!(
        output.stderr.is_empty(),
        "quiet on stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let first_lines = lines(&first);
    assert_eq!(
        first_lines.first(),
        Some(&LogLine::Comment(
            "lab debug log: test child_logs_two_tests seed 77".into()
        ))
    );
    assert!(
        matches!(first_lines.last(), Some(LogLine::Comment(c)) if c.starts_with("test FAILED after "))
    );
    assert_eq!(
        records(&first_lines),
        [
            (
                "ELECTION".into(),
                "raft".into(),
                "S0 T1 election timeout".into()
            ),
            ("APPEND".into(), "raft".into(), "S1 T1 got append".into()),
            ("CLIENT".into(), "kvraft".into(), "retrying Get".into()),
        ]
    );
    assert!(first_lines.contains(&LogLine::Continuation("log=[1 2]".into())));

    let second_lines = lines(&dir.join("second_test-78.log"));
    assert_eq!(
        records(&second_lines),
        [
            ("APPLY".into(), "rsm".into(), "S2 T3 applied 5".into()),
            ("APPLY".into(), "rsm".into(), "S2 T3 applied 6".into()),
        ]
    );
    let headers = second_lines
        .iter()
        .filter(|l| matches!(l, LogLine::Comment(c) if c.starts_with("lab debug log")))
        .count();
    assert_eq!(headers, 2, "each start writes its header");
    assert!(
        matches!(second_lines.last(), Some(LogLine::Comment(c)) if c.starts_with("test passed after "))
    );

    // dslogs reads exactly what the logger wrote.
    let shown = Command::new(env!("CARGO_BIN_EXE_dslogs"))
        .arg(&first)
        .args(["--no-color", "--width", "80"])
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let shown = String::from_utf8_lossy(&shown.stdout);
    let body: Vec<&str> = shown.lines().collect();
    // (80 - 20 - 2) / 2 = 29 characters per column.
    assert_eq!(body[0].trim(), format!("S0{}S1", " ".repeat(29)));
    assert!(
        body.iter()
            .any(|l| l.contains(" ELECTION T1 election timeout")),
        "{shown}"
    );
    let append = body.iter().position(|l| l.contains(" APPEND ")).unwrap();
    assert!(
        body[append].ends_with(&format!("{}T1 got append", " ".repeat(30))),
        "{shown}"
    );
    assert!(body[append + 1].trim() == "log=[1 2]", "{shown}");
    assert!(
        body.iter().any(|l| l.contains(" CLIENT   retrying Get")),
        "{shown}"
    );
}

/// Without LAB_LOG_DIR nothing is written, and RUST_LOG prints to stderr like env_logger.
#[test]
fn without_a_log_dir_only_rust_log_prints() {
    let dir = scratch("none");
    let quiet = run_child("child_logs_without_a_dir", &[], None);
    let stdout = String::from_utf8_lossy(&quiet.stdout);
    assert!(!stdout.contains("info: debug log"), "{stdout}");
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert!(!dir.exists());

    let loud = run_child("child_logs_without_a_dir", &[], Some("raft=debug"));
    let stderr = String::from_utf8_lossy(&loud.stderr);
    assert!(stderr.contains("S0 T1 election timeout"), "{stderr}");
}
