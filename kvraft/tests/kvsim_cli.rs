//! Tests of the `kvsim` binary as a user runs it (no Go suite: kvsim is this
//! port's own tool). Each test runs the real binary for a few seconds with a
//! fixed seed and checks its exit status, its output and the files it writes;
//! the history it writes is checked again in-process and with the porcupine CLI.

// Drives kvsim as a process, in real time: std's threads and clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use porcupine::CheckResult;
use porcupine::history::{self, History};
use porcupine::models::kv::{KvInput, KvModel, KvOutput};

const KVSIM: &str = env!("CARGO_BIN_EXE_kvsim");

/// A fresh, empty folder for one test's output.
fn scratch(name: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("kvsim-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("create the scratch folder");
    folder
}

fn kvsim(args: &[&str]) -> Output {
    Command::new(KVSIM)
        .env_remove(labrt::SIM_VAR)
        .args(args)
        .output()
        .expect("run the kvsim binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "kvsim exited {:?}, expected {expected}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

type KvHistory = History<KvInput, KvOutput>;

#[track_caller]
fn read_history(path: &Path) -> KvHistory {
    history::read_path(path)
        .unwrap_or_else(|error| panic!("{} is not a KV history: {error}", path.display()))
}

#[track_caller]
fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// The porcupine CLI next to this test's binaries, built on demand (under
/// `cargo test --workspace` it is already there).
fn porcupine_cli() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps");
    let cli = profile_dir.join(format!("porcupine{}", std::env::consts::EXE_SUFFIX));
    if !cli.exists() {
        let target_dir = profile_dir.parent().expect("<target>/<profile>");
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "-p", "porcupine", "--bin", "porcupine"])
            .env("CARGO_TARGET_DIR", target_dir);
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            build.arg("--release");
        }
        let status = build
            .status()
            .expect("run cargo to build the porcupine CLI");
        assert!(status.success(), "building the porcupine CLI failed");
    }
    cli
}

/// A short run with every fault exits 0, says where it wrote its files, and
/// its history checks linearizable both in-process and with the porcupine CLI.
#[test]
fn faulty_run_writes_a_history_the_porcupine_cli_accepts() {
    let out = scratch("faulty-run");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let output = kvsim(&[
        "--seconds",
        "3",
        "--seed",
        "42",
        "--servers",
        "5",
        "--out",
        out_arg,
    ]);
    assert_exit(&output, 0);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("verdict: linearizable"), "{stdout}");
    assert!(
        stdout.contains(out_arg),
        "kvsim must say where it wrote: {stdout}"
    );
    assert!(stdout.contains("seed: 42"), "{stdout}");

    let history_path = out.join("history.json");
    let history = read_history(&history_path);
    assert_eq!(history.model, "kv");
    assert!(
        history.operations.len() > 10,
        "only {} operations",
        history.operations.len()
    );
    assert!(
        history.annotations.iter().any(|a| a.tag == "$ Network"),
        "the unreliable network is on the timeline"
    );
    assert_eq!(
        porcupine::check_operations(&KvModel, &history.operations, Some(Duration::from_secs(10))),
        CheckResult::Ok
    );
    let html = std::fs::read_to_string(out.join("history.html")).expect("the HTML picture");
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "not an HTML file"
    );

    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["verdict"], "Ok");
    assert_eq!(summary["seed"], 42);
    assert!(
        summary["faults"].as_array().is_some_and(|f| !f.is_empty()),
        "{summary}"
    );

    let cli = Command::new(porcupine_cli())
        .arg("check")
        .arg(&history_path)
        .output()
        .expect("run the porcupine CLI");
    assert_exit(&cli, 0);
    assert!(
        text(&cli.stdout).contains("linearizable"),
        "{}",
        text(&cli.stdout)
    );
}

/// Without faults every operation completes and no fault is reported.
#[test]
fn run_without_faults_completes_every_operation() {
    let out = scratch("no-faults");
    let output = kvsim(&[
        "--faults",
        "none",
        "--seconds",
        "1",
        "--servers",
        "3",
        "--clients",
        "3",
        "--seed",
        "7",
        "--out",
        out.to_str().expect("a UTF-8 path"),
    ]);
    assert_exit(&output, 0);
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["unknown_outcome_writes"], 0, "{summary}");
    assert_eq!(
        summary["faults"].as_array().map(Vec::len),
        Some(0),
        "{summary}"
    );
    let history = read_history(&out.join("history.json"));
    assert!(history.operations.iter().all(|op| !op.is_pending()));
    assert_eq!(
        summary["completed"].as_u64(),
        Some(history.operations.len() as u64)
    );
}

/// Bad flags give clap's usage error (naming the flag, pointing at --help)
/// and exit status 2; `--help` succeeds and lists every flag.
#[test]
fn bad_flags_are_usage_errors() {
    for args in [
        &["--servers", "0"][..],
        &["--read-ratio", "1.5"],
        &["--faults", "lightning"],
        &["--seconds", "soon"],
        &["--maxraftstate", "0"],
        &["--frobnicate"],
        &["bench", "--clients", "0"],
    ] {
        let output = kvsim(args);
        assert_exit(&output, 2);
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("error:") && stderr.contains("--help"),
            "{args:?} gave no usage error: {stderr}"
        );
    }
    let help = kvsim(&["--help"]);
    assert_exit(&help, 0);
    let help = text(&help.stdout);
    for flag in [
        "--servers",
        "--clients",
        "--seconds",
        "--faults",
        "--seed",
        "--out",
        "--maxraftstate",
        "--read-ratio",
        "--keys",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

/// Ctrl-C (SIGINT) stops a long run early; it still checks and writes what
/// it recorded and exits by the verdict.
#[cfg(unix)]
#[test]
fn interrupt_stops_cleanly_and_still_writes() {
    let out = scratch("interrupted");
    let mut child = Command::new(KVSIM)
        .env_remove(labrt::SIM_VAR)
        .args(["--seconds", "300", "--seed", "5", "--servers", "3"])
        .args(["--out", out.to_str().expect("a UTF-8 path")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kvsim");
    // Without a terminal kvsim prints a progress line every 2 s on stderr:
    // interrupt once one reports completed operations.
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut progress = String::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no progress with operations within 30 s: {progress}"));
        progress.push_str(&line);
        progress.push('\n');
        if completed_in(&line).is_some_and(|ops| ops > 0) {
            break;
        }
    }
    let interrupted_at = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("piped stdout"), &mut stdout)
        .expect("read kvsim's output");
    let status = child.wait().expect("wait for kvsim");
    let took = interrupted_at.elapsed();
    assert_eq!(status.code(), Some(0), "{stdout}\n{progress}");
    assert!(
        took < Duration::from_secs(60),
        "kvsim took {took:?} to stop after Ctrl-C"
    );
    assert!(stdout.contains("verdict: linearizable"), "{stdout}");
    assert!(stdout.contains("(interrupted)"), "{stdout}");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["interrupted"], true);
    let history = read_history(&out.join("history.json"));
    assert!(!history.operations.is_empty(), "nothing was recorded");
}

/// The operation count of a plain progress line (`[  2.0s/300s] ops 142 ...`).
fn completed_in(line: &str) -> Option<u64> {
    let after = line.split_once("] ops ")?.1;
    after.split_whitespace().next()?.parse().ok()
}

/// The benchmark prints its table and JSON and writes bench.json with the
/// labrpc round trip beside each case.
#[test]
fn bench_reports_cases_beside_the_round_trip() {
    let out = scratch("bench");
    let output = kvsim(&[
        "bench",
        "--seconds",
        "0.3",
        "--servers",
        "3",
        "--clients",
        "1,4",
        "--seed",
        "3",
        "--out",
        out.to_str().expect("a UTF-8 path"),
    ]);
    assert_exit(&output, 0);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("labrpc round trip"), "{stdout}");
    assert!(stdout.contains("ops/s"), "{stdout}");
    let report = read_json(&out.join("bench.json"));
    assert!(
        report["labrpc_round_trip"]["p50_us"]
            .as_f64()
            .is_some_and(|us| us > 0.0)
    );
    let cases = report["cases"].as_array().expect("a list of cases");
    assert_eq!(cases.len(), 2, "{report}");
    for case in cases {
        assert!(case["operations"].as_u64().is_some_and(|n| n > 0), "{case}");
        assert!(
            case["ops_per_second"].as_f64().is_some_and(|r| r > 0.0),
            "{case}"
        );
    }
    assert_eq!(cases[1]["clients"], 4);
}
