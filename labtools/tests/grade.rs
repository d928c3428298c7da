//! The grader against real submissions built from this workspace's Raft:
//! the solution scores full marks, and the submissions that try their luck
//! (exit(0) in `start`, a changed test file, code that does not compile, a
//! hanging test) are each graded as they deserve.
//!
//! Each test grades in its own fixed folder with a shared cargo target
//! folder, so after the first build only the submitted crate is rebuilt.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const GRADE: &str = env!("CARGO_BIN_EXE_grade");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("labtools sits in the workspace")
        .to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("grade-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-tests-target")
}

/// A small rubric over two Raft tests, with a short wall-clock limit.
fn rubric(dir: &Path, timeout_secs: u64) -> PathBuf {
    let path = dir.join("rubric.toml");
    let text = format!(
        r#"
name = "grader test"
parts = ["raft"]
[run]
timeout_secs = {timeout_secs}
[[item]]
name = "basic agreement"
test = "raft/raft_test::basic_agree_3b"
points = 5
sim_seeds = 2
[[item]]
name = "style"
quality = "fmt"
points = 1
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// This workspace's Raft as a submission folder, edited by `edit` (path,
/// text) -> text.
fn raft_submission(dir: &Path, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let root = workspace();
    let out = dir.join("submission");
    let src = root.join("raft/src");
    for path in labtools::tree::files_below(&src).unwrap() {
        let relative = format!("raft/src/{path}");
        let text = std::fs::read_to_string(src.join(&path)).unwrap();
        let to = labtools::tree::join(&out, &relative);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, edit(&relative, text)).unwrap();
    }
    out
}

/// `text` of the submission file `path`, with `code` put first in the body
/// of `Raft::start` when the file is the one that holds it.
fn at_start_of_raft_start(path: &str, text: String, code: &str) -> String {
    if path != "raft/src/node.rs" {
        return text;
    }
    let at = text
        .find("pub fn start(")
        .expect("Raft::start is in node.rs");
    let body = at + text[at..].find('{').unwrap() + 1;
    format!("{}{code}\n{}", &text[..body], &text[body..])
}

/// Runs the grader; returns its report.json and its standard output.
fn grade(dir: &Path, rubric: &Path, submission: &Path) -> (Value, String) {
    let out = dir.join("out");
    let output = Command::new(GRADE)
        .arg("--rubric")
        .arg(rubric)
        .arg("--submission")
        .arg(submission)
        .arg("--workspace")
        .arg(workspace())
        .arg("--work-dir")
        .arg(dir.join("work"))
        .arg("--target-dir")
        .arg(shared_target())
        .arg("--out")
        .arg(&out)
        .args(["--format", "table,json,gradescope,autolab,junit", "--quiet"])
        .output()
        .expect("run grade");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "grade failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in [
        "report.json",
        "results.json",
        "junit.xml",
        "autolab.json",
        "report.txt",
    ] {
        assert!(out.join(file).is_file(), "grade did not write {file}");
    }
    assert!(
        !dir.join("work/tree").exists(),
        "the grading tree was not removed"
    );
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    (serde_json::from_str(&report).unwrap(), stdout)
}

fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name} in {report}"))
}

fn first_run_status(report: &Value) -> String {
    report["tests"][0]["runs"][0]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_solution_scores_full_marks_and_tampering_is_ignored() {
    let dir = scratch("solution");
    let rubric = rubric(&dir, 60);
    let submission = raft_submission(&dir, |_, text| text);
    // Files that are not the student's: a test replaced by one that cannot
    // fail, a changed tester, a build script. None may be used.
    for (path, text) in [
        (
            "raft/tests/raft_test.rs",
            "#[test]\nfn basic_agree_3b() {}\n",
        ),
        ("tester/src/lib.rs", "pub fn broken() {}\n"),
        (
            "raft/build.rs",
            "fn main() { panic!(\"build scripts are not the student's\") }\n",
        ),
        ("Cargo.toml", "[workspace]\n"),
    ] {
        let to = submission.join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    let before = labtools::tree::files_below(&submission).unwrap();
    let (report, stdout) = grade(&dir, &rubric, &submission);
    assert_eq!(report["score"], 6.0, "{stdout}");
    assert_eq!(report["max_score"], 6.0);
    // The item's two simulated seeds ran and passed too.
    let simulated = report["tests"][0]["simulated"].as_array().unwrap();
    assert_eq!(simulated.len(), 2, "{stdout}");
    for sim in simulated {
        assert_eq!(sim["run"]["status"], "passed", "{sim}");
        assert!(
            sim["replay"]
                .as_str()
                .unwrap()
                .starts_with("LAB_SIM=1 LAB_SEED="),
            "{sim}"
        );
    }
    let ignored: Vec<&str> = report["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for path in [
        "raft/tests/raft_test.rs",
        "tester/src/lib.rs",
        "raft/build.rs",
        "Cargo.toml",
    ] {
        assert!(
            ignored.contains(&path),
            "{path} not reported as ignored: {ignored:?}"
        );
    }
    assert!(stdout.contains("Ignored"), "{stdout}");
    assert_eq!(
        labtools::tree::files_below(&submission).unwrap(),
        before,
        "the submission was changed"
    );
    let autolab_line = stdout.lines().last().unwrap();
    let scores: Value = serde_json::from_str(autolab_line).unwrap();
    assert_eq!(scores["scores"]["basic agreement"], 5.0);
    let gradescope: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/results.json")).unwrap())
            .unwrap();
    assert_eq!(gradescope["score"], 6.0);
    assert_eq!(gradescope["tests"][0]["status"], "passed");
    assert_eq!(gradescope["tests"][0]["visibility"], "visible");
}

#[test]
fn exit_zero_in_start_scores_zero() {
    let dir = scratch("exit-zero");
    let rubric = rubric(&dir, 60);
    let submission = raft_submission(&dir, |path, text| {
        at_start_of_raft_start(path, text, "\n        std::process::exit(0);")
    });
    let (report, stdout) = grade(&dir, &rubric, &submission);
    assert_eq!(item(&report, "basic agreement")["score"], 0.0, "{stdout}");
    assert_eq!(report["tests"][0]["runs"][0]["exit_code"], 0);
    assert_eq!(first_run_status(&report), "incomplete");
    // Style points need a passing test.
    assert_eq!(report["score"], 0.0, "{stdout}");
}

#[test]
fn a_changed_test_file_does_not_help_the_starter_code() {
    let dir = scratch("changed-test");
    let rubric = rubric(&dir, 60);
    let submission = dir.join("submission");
    let starter = workspace().join("handout/starter");
    for path in labtools::tree::files_below(&starter.join("raft")).unwrap() {
        let to = labtools::tree::join(&submission, &format!("raft/{path}"));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(starter.join("raft").join(&path), to).unwrap();
    }
    let fake =
        "#[test]\nfn basic_agree_3b() {\n    println!(\"  ... Passed --  time  0.1s\");\n}\n";
    std::fs::create_dir_all(submission.join("raft/tests")).unwrap();
    std::fs::write(submission.join("raft/tests/raft_test.rs"), fake).unwrap();
    let (report, stdout) = grade(&dir, &rubric, &submission);
    assert_eq!(report["score"], 0.0, "{stdout}");
    assert_eq!(report["ignored"][0], "raft/tests/raft_test.rs");
    assert_eq!(first_run_status(&report), "failed");
}

#[test]
fn a_submission_that_does_not_compile_scores_zero_with_the_errors() {
    let dir = scratch("no-compile");
    let rubric = rubric(&dir, 60);
    let submission = raft_submission(&dir, |path, text| {
        if path == "raft/src/lib.rs" {
            format!("{text}\nfn broken( {{\n")
        } else {
            text
        }
    });
    let (report, stdout) = grade(&dir, &rubric, &submission);
    assert_eq!(report["score"], 0.0);
    assert_eq!(report["build"]["ok"], false);
    let first = report["build"]["errors"][0].as_str().unwrap();
    assert!(first.contains("raft/src/lib.rs"), "{first}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        item(&report, "basic agreement")["output"]
            .as_str()
            .unwrap()
            .contains("does not compile")
    );
    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert!(junit.contains("failures=\"2\""), "{junit}");
}

#[test]
fn a_hanging_test_is_killed_at_the_limit() {
    let dir = scratch("hang");
    let rubric = rubric(&dir, 5);
    let submission = raft_submission(&dir, |path, text| {
        let hang = "\n        loop { std::thread::sleep(std::time::Duration::from_secs(1)); }";
        at_start_of_raft_start(path, text, hang)
    });
    let (report, stdout) = grade(&dir, &rubric, &submission);
    assert_eq!(report["score"], 0.0, "{stdout}");
    assert_eq!(first_run_status(&report), "timed_out");
    let seconds = report["tests"][0]["runs"][0]["seconds"].as_f64().unwrap();
    assert!((5.0..30.0).contains(&seconds), "killed after {seconds} s");
    assert!(
        report["tests"][0]["runs"][0]["output"]
            .as_str()
            .unwrap()
            .contains("killed after the 5 s limit")
    );
}
