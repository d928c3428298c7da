//! The Gradescope bundle end to end: `grade gradescope-bundle` writes the zip,
//! it is unpacked into a fake `/autograder` root, `setup.sh` builds the grader
//! there, and `run_autograder` grades a submission into
//! `results/results.json`, as Gradescope would in its container.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const GRADE: &str = env!("CARGO_BIN_EXE_grade");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) -> String {
    let output = cmd.output().expect("start");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn run_autograder_grades_a_submission_in_a_fake_autograder_root() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-bundle");
    let _ = std::fs::remove_dir_all(&scratch);
    let root = scratch.join("autograder");
    std::fs::create_dir_all(root.join("source")).unwrap();
    let rubric = scratch.join("rubric.toml");
    std::fs::write(
        &rubric,
        r#"
name = "bundle test"
parts = ["raft"]
[run]
timeout_secs = 60
[[item]]
name = "basic agreement"
test = "raft/raft_test::basic_agree_3b"
points = 5
visibility = "after_due_date"
"#,
    )
    .unwrap();
    let zip_path = scratch.join("autograder.zip");
    run(Command::new(GRADE)
        .args(["gradescope-bundle", "--rubric"])
        .arg(&rubric)
        .arg("--out")
        .arg(&zip_path)
        .arg("--workspace")
        .arg(workspace()));

    // Gradescope unpacks the zip into /autograder/source.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    archive.extract(root.join("source")).unwrap();
    for script in ["setup.sh", "run_autograder"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(root.join("source").join(script))
                .unwrap()
                .permissions(),
        );
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
    assert!(root.join("source/pristine/handout/manifest.toml").is_file());
    assert!(
        !root.join("source/pristine/raft/src/node.rs").exists(),
        "the bundle holds the solution's Raft"
    );
    // The release build of the grader is kept between runs of this test.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-bundle-release-target");
    std::fs::create_dir_all(&kept).unwrap();
    std::os::unix::fs::symlink(&kept, root.join("source/target")).unwrap();

    // The suites' build cache is the one the grader's other tests use (the
    // grader locks it while it grades), so only the student's crate is
    // rebuilt here.
    std::fs::create_dir_all(root.join("source/work")).unwrap();
    let tests_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-tests-target");
    std::fs::create_dir_all(&tests_target).unwrap();
    std::os::unix::fs::symlink(&tests_target, root.join("source/work/target")).unwrap();

    run(Command::new("bash")
        .arg(root.join("source/setup.sh"))
        .env("AUTOGRADER_ROOT", &root)
        .env("GRADE_SETUP_WARM", "0"));
    assert!(root.join("source/target/release/grade").is_file());

    // The student's upload: this workspace's Raft, and a test file of theirs.
    let submission = root.join("submission");
    let src = workspace().join("raft/src");
    for path in labtools::tree::files_below(&src).unwrap() {
        labtools::tree::copy_file(
            &src.join(&path),
            &labtools::tree::join(&submission, &format!("raft/src/{path}")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(submission.join("raft/tests")).unwrap();
    std::fs::write(submission.join("raft/tests/raft_test.rs"), "// mine\n").unwrap();

    let out = run(Command::new(root.join("source/run_autograder")).env("AUTOGRADER_ROOT", &root));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("results/results.json")).unwrap())
            .unwrap();
    assert_eq!(results["score"], 5.0, "{out}\n{results}");
    assert_eq!(results["tests"][0]["status"], "passed");
    assert_eq!(results["tests"][0]["visibility"], "after_due_date");
    assert!(
        results["output"]
            .as_str()
            .unwrap()
            .contains("raft/tests/raft_test.rs"),
        "{results}"
    );
    assert!(results["execution_time"].as_u64().is_some());
    let _ = std::fs::remove_dir_all(&scratch);
}
