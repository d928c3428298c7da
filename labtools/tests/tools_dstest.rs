//! dstest's integration tests: the real binary runs the tests of a small
//! fixture crate (tests/tools_fixtures/flaky) whose outcome follows LAB_SEED.
//! (Tool tests; they follow no Go suite.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// A private copy of the fixture crate (cargo writes Cargo.lock next to it).
fn fixture_manifest() -> &'static Path {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools_fixtures/flaky");
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dstest-fixture");
        let copy = root.join("flaky");
        std::fs::create_dir_all(copy.join("src")).unwrap();
        for file in ["Cargo.toml", "src/lib.rs"] {
            copy_if_changed(&source.join(file), &copy.join(file));
        }
        copy.join("Cargo.toml")
    })
}

/// Copies a file unless the copy is already the same (so cargo sees no change
/// and does not rebuild the fixture).
fn copy_if_changed(from: &Path, to: &Path) {
    write_if_changed(to, &std::fs::read_to_string(from).unwrap());
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

/// A second copy of the fixture with an integration test that does not compile.
fn broken_fixture_manifest() -> PathBuf {
    let good = fixture_manifest().parent().unwrap();
    let copy = good.parent().unwrap().join("flaky-broken");
    std::fs::create_dir_all(copy.join("src")).unwrap();
    std::fs::create_dir_all(copy.join("tests")).unwrap();
    for file in ["Cargo.toml", "src/lib.rs"] {
        copy_if_changed(&good.join(file), &copy.join(file));
    }
    write_if_changed(
        &copy.join("tests/broken.rs"),
        "compile_error!(\"a test target that does not build\");\n",
    );
    copy.join("Cargo.toml")
}

/// A fresh output directory for one dstest invocation.
fn out_dir(name: &str) -> PathBuf {
    let dir = fixture_manifest()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("out")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs dstest on the fixture with `-o out` and the given arguments.
fn dstest(out: &Path, args: &[&str]) -> Output {
    dstest_on(fixture_manifest(), out, args)
}

/// Runs dstest on the crate of `manifest` with `-o out` and the given arguments.
fn dstest_on(manifest: &Path, out: &Path, args: &[&str]) -> Output {
    let target = manifest.parent().unwrap().parent().unwrap().join("target");
    Command::new(env!("CARGO_BIN_EXE_dstest"))
        .arg("--manifest-path")
        .arg(manifest)
        .arg("-o")
        .arg(out)
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        // These tests may themselves run under dstest, whose per-run
        // settings must not leak into the dstest they start.
        .env_remove("LAB_SEED")
        .env_remove("LAB_LOG_DIR")
        .env_remove("VIS_FILE")
        .env_remove("VIS_ENABLE")
        .output()
        .expect("dstest starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn results(out: &Path) -> Value {
    let json = std::fs::read_to_string(out.join("results.json")).expect("results.json written");
    serde_json::from_str(&json).expect("results.json is JSON")
}

/// The JSON entry of the fixture test with this libtest name.
fn test_entry<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {results}"))
}

/// An odd seed fails the odd-seed test on every run: exit 1, its output, debug
/// log and replay command kept per run, nothing kept for passing runs.
#[test]
fn failing_runs_keep_output_debug_log_and_replay_command() {
    let out = out_dir("odd");
    let output = dstest(&out, &["--seed", "7", "-n", "2", "-j", "2"]);
    assert_exit(&output, 1);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("flaky tests::fails_on_odd_seed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL flaky tests::fails_on_odd_seed (run 0, seed 7)"),
        "{stdout}"
    );
    assert!(stdout.contains("Fatal: odd seed 7"), "{stdout}");
    assert!(stdout.contains("total (3 tests)"), "{stdout}");

    let kept = out.join("failures/flaky.tests.fails_on_odd_seed");
    for run in ["run-0-seed-7", "run-1-seed-7"] {
        let dir = kept.join(run);
        let printed = std::fs::read_to_string(dir.join("output.log")).unwrap();
        assert!(printed.contains("Fatal: odd seed 7"), "{printed}");
        assert!(
            printed.contains("panicked at"),
            "stderr is kept too: {printed}"
        );
        assert!(
            dir.join("fails_on_odd_seed-7.log").exists(),
            "debug log kept in {}",
            dir.display()
        );
        assert!(
            dir.join("visualization.html").exists(),
            "VIS_FILE points into the run's directory"
        );
        let replay = std::fs::read_to_string(dir.join("replay.txt")).unwrap();
        assert!(
            replay.contains(
                "LAB_SEED=7 cargo test -p flaky --lib -- --exact tests::fails_on_odd_seed"
            ),
            "{replay}"
        );
    }
    let kept_tests: Vec<_> = std::fs::read_dir(out.join("failures")).unwrap().collect();
    assert_eq!(kept_tests.len(), 1, "only the failing test keeps files");
    assert!(
        !out.join("scratch").exists(),
        "passing runs' files are deleted"
    );

    let results = results(&out);
    assert_eq!(results["runs"], 6);
    assert_eq!(results["failures"], 2);
    let failing = test_entry(&results, "tests::fails_on_odd_seed");
    assert_eq!(
        (failing["runs"].as_u64(), failing["failures"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(failing["run_results"][0]["outcome"], "failed");
    assert_eq!(failing["run_results"][0]["seed"], 7);
    assert_eq!(test_entry(&results, "tests::always_passes")["failures"], 0);

    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuites name=\"dstest\" tests=\"6\" failures=\"2\""),
        "{junit}"
    );
    assert_eq!(junit.matches("<failure ").count(), 2);
}

/// An even seed passes everything (in the crate's directory): exit 0, no files kept.
#[test]
fn passing_runs_keep_nothing_and_exit_zero() {
    let out = out_dir("even");
    let output = dstest(&out, &["--seed", "8", "-n", "2"]);
    assert_exit(&output, 0);
    assert!(!out.join("failures").exists());
    assert!(!out.join("scratch").exists());
    let results = results(&out);
    assert_eq!(
        (results["runs"].as_u64(), results["failures"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(
        test_entry(&results, "tests::runs_in_the_crate_directory")["failures"],
        0
    );
}

/// Without --seed every run gets its own random LAB_SEED, and the test sees it.
#[test]
fn each_run_gets_a_fresh_seed() {
    let out = out_dir("random");
    let output = dstest(
        &out,
        &["-n", "8", "-j", "2", "--no-debug-log", "fails_on_odd"],
    );
    let results = results(&out);
    let runs = test_entry(&results, "tests::fails_on_odd_seed")["run_results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(runs.len(), 8);
    let mut seeds = Vec::new();
    for run in &runs {
        let seed = run["seed"].as_u64().unwrap();
        let expected = if seed % 2 == 1 { "failed" } else { "passed" };
        assert_eq!(run["outcome"], expected, "seed {seed}");
        seeds.push(seed);
    }
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 8, "seeds repeat: {seeds:?}");
    let odd = runs.iter().any(|r| r["seed"].as_u64().unwrap() % 2 == 1);
    assert_exit(&output, if odd { 1 } else { 0 });
    if odd {
        // --no-debug-log: no debug log is kept, only the output (and the picture).
        let kept = out.join("failures/flaky.tests.fails_on_odd_seed");
        let run = std::fs::read_dir(&kept)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut files: Vec<String> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["output.log", "replay.txt", "visualization.html"]);
    }
}

/// A run that hangs is killed at --timeout and counted as a failure.
#[test]
fn hung_run_is_killed_at_the_timeout() {
    let out = out_dir("hang");
    let start = std::time::Instant::now();
    let output = dstest(
        &out,
        &[
            "--include-ignored",
            "--exact",
            "tests::hangs",
            "--timeout",
            "2",
            "-n",
            "1",
        ],
    );
    assert_exit(&output, 1);
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    let results = results(&out);
    let run = &test_entry(&results, "tests::hangs")["run_results"][0];
    assert_eq!(run["outcome"], "timed_out");
    assert_eq!(run["reason"], "timed out after 2 s (killed)");
}

/// A run whose process dies from a signal is reported as a crash.
#[test]
fn crashing_run_is_reported() {
    let out = out_dir("abort");
    let output = dstest(
        &out,
        &["--include-ignored", "--exact", "tests::aborts", "-n", "1"],
    );
    assert_exit(&output, 1);
    let results = results(&out);
    let run = &test_entry(&results, "tests::aborts")["run_results"][0];
    assert_eq!(run["outcome"], "crashed");
    assert_eq!(run["reason"], "killed by signal 6");
}

/// A points file chooses the crate and tests, and the score counts a test only
/// if all its runs passed.
#[test]
fn points_file_scores_the_tests_it_names() {
    let out = out_dir("points");
    std::fs::create_dir_all(&out).unwrap();
    let points = out.join("points.toml");
    std::fs::write(
        &points,
        "[flaky]\n\"tests::always_passes\" = 3\n\"tests::fails_on_odd_seed\" = 2\n\"tests::missing\" = 1\n",
    )
    .unwrap();
    let points_arg = points.to_str().unwrap();
    // No --manifest-path -p: the file names the crate; the fixture manifest still points cargo at it.
    let output = dstest(&out, &["--points", points_arg, "--seed", "7", "-n", "1"]);
    assert_exit(&output, 1);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("flaky tests::always_passes"), "{stdout}");
    assert!(
        !stdout.contains("runs_in_the_crate_directory"),
        "only the file's tests run: {stdout}"
    );
    assert!(stdout.contains("1 of 1 runs failed"), "{stdout}");
    assert!(stdout.contains("not run"), "{stdout}");
    let results = results(&out);
    assert_eq!(results["score"]["possible"], 6.0);
    assert_eq!(results["score"]["earned"], 3.0);
}

/// Bad input is a clear error with exit status 2.
#[test]
fn setup_problems_exit_with_two() {
    let out = out_dir("errors");
    let output = dstest(&out, &["no_such_test_name"]);
    assert_exit(&output, 2);
    assert!(
        text(&output.stderr).contains("no tests match"),
        "{}",
        text(&output.stderr)
    );

    std::fs::create_dir_all(&out).unwrap();
    let points = out.join("bad.toml");
    std::fs::write(&points, "[flaky]\nx = \"many\"\n").unwrap();
    let output = dstest(&out, &["--points", points.to_str().unwrap()]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("points must be a number"),
        "{stderr}"
    );

    let output = dstest(&out, &["-n", "0"]);
    assert_exit(&output, 2);
}

/// --list prints the chosen tests (ignored ones only with --include-ignored).
#[test]
fn list_prints_the_chosen_tests() {
    let out = out_dir("list");
    let output = dstest(&out, &["--list"]);
    assert_exit(&output, 0);
    assert_eq!(
        text(&output.stdout),
        "flaky tests::always_passes\nflaky tests::fails_on_odd_seed\nflaky tests::runs_in_the_crate_directory\n"
    );
    let output = dstest(&out, &["--list", "--include-ignored", "--skip", "always"]);
    assert_exit(&output, 0);
    assert_eq!(
        text(&output.stdout),
        "flaky tests::aborts\nflaky tests::fails_on_odd_seed\nflaky tests::hangs\nflaky tests::runs_in_the_crate_directory\nflaky tests::swarm_fake\n"
    );
    assert!(!out.exists(), "--list writes no results");
}

/// A target that does not compile stops dstest (exit 2), unless --keep-going:
/// then the tests that built run, and the exit status is 1.
#[test]
fn keep_going_runs_what_built() {
    let manifest = broken_fixture_manifest();
    let out = out_dir("broken");
    let output = dstest_on(&manifest, &out, &["--seed", "8", "-n", "1"]);
    assert_exit(&output, 2);
    assert!(text(&output.stderr).contains("a test target that does not build"));

    let output = dstest_on(&manifest, &out, &["--seed", "8", "-n", "1", "--keep-going"]);
    assert_exit(&output, 1);
    assert!(text(&output.stderr).contains("some test targets did not compile"));
    let results = results(&out);
    assert_eq!(results["build_complete"], false);
    assert_eq!(
        (results["runs"].as_u64(), results["failures"].as_u64()),
        (Some(3), Some(0))
    );
}

/// `--caps PROFILE` reads the test groups of that nextest profile from the
/// workspace's .config/nextest.toml and says so; an unknown profile is a setup
/// error (exit 2). (The cap itself is checked by the gate's unit tests.)
#[test]
fn caps_follow_a_nextest_profile() {
    let crate_dir = fixture_manifest().parent().unwrap();
    std::fs::create_dir_all(crate_dir.join(".config")).unwrap();
    write_if_changed(
        &crate_dir.join(".config/nextest.toml"),
        "[profile.fast]\ntest-threads = 8\n\n[test-groups]\none = { max-threads = 1 }\n\n\
         [[profile.fast.overrides]]\nfilter = 'package(flaky)'\ntest-group = 'one'\n",
    );
    let out = out_dir("caps");
    let output = dstest(
        &out,
        &["always_passes", "-n", "3", "-j", "3", "--caps", "fast"],
    );
    assert_exit(&output, 0);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("per suite as nextest profile fast: one 1"),
        "{stderr}"
    );

    let output = dstest(&out_dir("caps-bad"), &["always_passes", "--caps", "slow"]);
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no profile \"slow\""), "{stderr}");
}

/// With --sim, a failing swarm test is shrunk: the smallest configuration that
/// still fails is printed and written with its replay command.
#[test]
fn sim_shrinks_a_failing_swarm_run() {
    let out = out_dir("shrink");
    let output = dstest(
        &out,
        &[
            "--sim",
            "--include-ignored",
            "--exact",
            "tests::swarm_fake",
            "--seed",
            "11",
            "-n",
            "1",
        ],
    );
    assert_exit(&output, 1);
    let stdout = text(&output.stdout);
    // peers 5 -> 3 fails; crashes=off passes; secs 10 -> 5 fails; then
    // neither crashes=off nor secs=2 fails (3 seeds each): 1 + 3 + 1 + 3 + 3.
    assert!(
        stdout.contains("shrinking flaky tests::swarm_fake (seed 11) in 11 runs:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  from: peers=5 crashes=on secs=10\n  to:   peers=3 crashes=on secs=5"),
        "{stdout}"
    );
    let replay = "  replay: LAB_SIM=1 LAB_SEED=11 SWARM_CONFIG='peers=3 secs=5' cargo test -p flaky \
                  --lib -- --exact tests::swarm_fake --include-ignored";
    assert!(stdout.contains(replay), "{stdout}");
    let written = std::fs::read_to_string(out.join("shrunk.txt")).unwrap();
    assert!(written.contains(replay), "{written}");
}
