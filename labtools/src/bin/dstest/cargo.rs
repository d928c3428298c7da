//! Asking cargo for the workspace, building the test binaries once, and
//! listing the tests inside each binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::cli::Args;

/// What went wrong while preparing the runs (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// cargo could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    /// cargo (or a test binary asked for its list) failed.
    #[error("`{command}` failed ({status}){detail}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        detail: String,
    },
    /// cargo printed something that is not what its documented JSON says.
    #[error("cannot read the output of `{command}`: {detail}")]
    BadOutput { command: String, detail: String },
}

/// The workspace as `cargo metadata` describes it.
#[derive(Debug, Deserialize)]
pub struct Workspace {
    /// The workspace's root directory.
    pub workspace_root: PathBuf,
    packages: Vec<MetadataPackage>,
}

#[derive(Debug, Deserialize)]
struct MetadataPackage {
    id: String,
    name: String,
}

impl Workspace {
    /// Reads the workspace's metadata (no dependencies resolved).
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace, SetupError> {
        let mut cmd = cargo();
        cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
        if let Some(path) = manifest_path {
            cmd.arg("--manifest-path").arg(path);
        }
        let command = describe(&cmd);
        let output = cmd
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| SetupError::Spawn {
                command: command.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(SetupError::Failed {
                command,
                status: output.status,
                detail: String::new(),
            });
        }
        serde_json::from_slice(&output.stdout).map_err(|e| SetupError::BadOutput {
            command,
            detail: e.to_string(),
        })
    }

    fn package_names(&self) -> HashMap<&str, &str> {
        self.packages
            .iter()
            .map(|p| (p.id.as_str(), p.name.as_str()))
            .collect()
    }
}

/// The kind of a test binary's target, which says how to name it to cargo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// The library's unit tests (`--lib`).
    Lib,
    /// A binary's unit tests (`--bin NAME`).
    Bin,
    /// An integration test (`--test NAME`).
    Test,
    /// An example (`--example NAME`).
    Example,
    /// A bench target built as a test (`--bench NAME`).
    Bench,
}

/// One built test executable.
#[derive(Debug, Clone)]
pub struct TestBinary {
    /// The crate it belongs to.
    pub package: String,
    /// The target's name (the crate's name for the library).
    pub target: String,
    /// The target's kind.
    pub kind: TargetKind,
    /// The executable.
    pub executable: PathBuf,
    /// The crate's directory: tests run there, as under `cargo test`.
    pub package_dir: PathBuf,
}

impl TestBinary {
    /// The cargo arguments that select this target, e.g. `--test raft_3a`.
    pub fn cargo_selector(&self) -> Vec<String> {
        let named = |flag: &str| vec![flag.to_string(), self.target.clone()];
        match self.kind {
            TargetKind::Lib => vec!["--lib".to_string()],
            TargetKind::Bin => named("--bin"),
            TargetKind::Test => named("--test"),
            TargetKind::Example => named("--example"),
            TargetKind::Bench => named("--bench"),
        }
    }

    /// A short name for reports: the crate for its library's unit tests,
    /// `crate/target` otherwise.
    pub fn suite(&self) -> String {
        match self.kind {
            TargetKind::Lib => self.package.clone(),
            _ => format!("{}/{}", self.package, self.target),
        }
    }
}

/// The `cargo test` arguments choosing crates and targets (shared by the build
/// command and the replay commands).
pub fn selection_args(args: &Args, packages: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if args.workspace {
        out.push("--workspace".to_string());
    }
    for package in packages {
        out.extend(["-p".to_string(), package.clone()]);
    }
    if args.lib {
        out.push("--lib".to_string());
    }
    for target in &args.test_targets {
        out.extend(["--test".to_string(), target.clone()]);
    }
    out
}

/// The test executables cargo made, and whether every target built (only
/// false with --keep-going; otherwise a failed build is an error).
#[derive(Debug)]
pub struct Built {
    /// The executables.
    pub binaries: Vec<TestBinary>,
    /// Every target compiled.
    pub complete: bool,
}

/// Builds the test binaries once (`cargo test --no-run`), showing cargo's
/// progress and diagnostics, and returns the executables it made.
pub fn build_tests(
    args: &Args,
    packages: &[String],
    workspace: &Workspace,
) -> Result<Built, SetupError> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    cmd.args(selection_args(args, packages));
    if args.release {
        cmd.arg("--release");
    }
    if args.keep_going {
        // For `cargo test`, --no-fail-fast is what keeps the build going.
        cmd.arg("--no-fail-fast");
    }
    if let Some(path) = &args.manifest_path {
        cmd.arg("--manifest-path").arg(path);
    }
    let command = describe(&cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| SetupError::Spawn {
            command: command.clone(),
            source,
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let names = workspace.package_names();
    let mut binaries = Vec::new();
    let mut bad_line = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| SetupError::BadOutput {
            command: command.clone(),
            detail: e.to_string(),
        })?;
        match parse_artifact(&line, &names) {
            Ok(Some(binary)) => binaries.push(binary),
            Ok(None) => {}
            Err(detail) => {
                bad_line.get_or_insert(detail);
            }
        }
    }
    let status = child.wait().map_err(|source| SetupError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !status.success() && !args.keep_going {
        return Err(SetupError::Failed {
            command,
            status,
            detail: String::new(),
        });
    }
    if let Some(detail) = bad_line {
        return Err(SetupError::BadOutput { command, detail });
    }
    Ok(Built {
        binaries,
        complete: status.success(),
    })
}

#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    package_id: Option<String>,
    manifest_path: Option<PathBuf>,
    target: Option<MessageTarget>,
    profile: Option<MessageProfile>,
    executable: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct MessageTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MessageProfile {
    test: bool,
}

/// Reads one line of cargo's JSON messages: a test executable, or nothing of
/// interest, or a description of what is wrong with the line.
fn parse_artifact(line: &str, names: &HashMap<&str, &str>) -> Result<Option<TestBinary>, String> {
    let message: Message = serde_json::from_str(line).map_err(|e| format!("{e} in {line:?}"))?;
    if message.reason != "compiler-artifact" {
        return Ok(None);
    }
    let (Some(executable), Some(target), Some(profile)) =
        (message.executable, message.target, message.profile)
    else {
        return Ok(None);
    };
    if !profile.test {
        return Ok(None);
    }
    let package_id = message.package_id.ok_or("an artifact without package_id")?;
    let package = names
        .get(package_id.as_str())
        .ok_or_else(|| format!("artifact of unknown package {package_id}"))?
        .to_string();
    let manifest = message
        .manifest_path
        .ok_or("an artifact without manifest_path")?;
    let package_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let kind = match target.kind.first().map(String::as_str) {
        Some("bin") => TargetKind::Bin,
        Some("test") => TargetKind::Test,
        Some("example") => TargetKind::Example,
        Some("bench") => TargetKind::Bench,
        _ => TargetKind::Lib,
    };
    Ok(Some(TestBinary {
        package,
        target: target.name,
        kind,
        executable,
        package_dir,
    }))
}

/// The tests in one binary: (name, ignored).
pub fn list_tests(binary: &TestBinary) -> Result<Vec<(String, bool)>, SetupError> {
    let all = list(binary, false)?;
    let ignored = list(binary, true)?;
    Ok(all
        .into_iter()
        .map(|name| {
            let is_ignored = ignored.contains(&name);
            (name, is_ignored)
        })
        .collect())
}

fn list(binary: &TestBinary, ignored: bool) -> Result<Vec<String>, SetupError> {
    let mut cmd = Command::new(&binary.executable);
    cmd.args(["--list", "--format", "terse"])
        .current_dir(&binary.package_dir);
    if ignored {
        cmd.arg("--ignored");
    }
    let command = describe(&cmd);
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| SetupError::Spawn {
            command: command.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(SetupError::Failed {
            command,
            status: output.status,
            detail: String::new(),
        });
    }
    Ok(parse_list(&String::from_utf8_lossy(&output.stdout)))
}

/// Reads libtest's `--list --format terse` output: `name: test` lines
/// (benchmarks, `name: bench`, are left out).
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command as a person would type it (for error messages).
fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTIFACT: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/raft#0.1.0","manifest_path":"/w/raft/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"raft_3a","src_path":"/w/raft/tests/raft_3a.rs","edition":"2024","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"1","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/t/debug/deps/raft_3a-abc"],"executable":"/t/debug/deps/raft_3a-abc","fresh":true}"#;

    fn names() -> HashMap<&'static str, &'static str> {
        HashMap::from([("path+file:///w/raft#0.1.0", "raft")])
    }

    #[test]
    fn test_artifact_becomes_a_binary() {
        let binary = parse_artifact(ARTIFACT, &names()).unwrap().unwrap();
        assert_eq!(binary.package, "raft");
        assert_eq!(binary.target, "raft_3a");
        assert_eq!(binary.kind, TargetKind::Test);
        assert_eq!(
            binary.executable,
            PathBuf::from("/t/debug/deps/raft_3a-abc")
        );
        assert_eq!(binary.package_dir, PathBuf::from("/w/raft"));
        assert_eq!(binary.cargo_selector(), ["--test", "raft_3a"]);
        assert_eq!(binary.suite(), "raft/raft_3a");
    }

    #[test]
    fn other_messages_are_skipped() {
        let not_test =
            ARTIFACT.replace(r#""test":true},"features""#, r#""test":false},"features""#);
        assert!(parse_artifact(&not_test, &names()).unwrap().is_none());
        let finished = r#"{"reason":"build-finished","success":true}"#;
        assert!(parse_artifact(finished, &names()).unwrap().is_none());
        let no_exe = ARTIFACT.replace(
            r#""executable":"/t/debug/deps/raft_3a-abc""#,
            r#""executable":null"#,
        );
        assert!(parse_artifact(&no_exe, &names()).unwrap().is_none());
    }

    #[test]
    fn garbage_and_unknown_packages_are_errors() {
        assert!(parse_artifact("not json", &names()).is_err());
        let other = ARTIFACT.replace("file:///w/raft#", "file:///w/other#");
        let err = parse_artifact(&other, &names()).unwrap_err();
        assert!(err.contains("unknown package"), "{err}");
    }

    #[test]
    fn lib_targets_are_selected_with_lib() {
        let lib = ARTIFACT
            .replace(r#""kind":["test"]"#, r#""kind":["lib"]"#)
            .replace("raft_3a", "raft");
        let binary = parse_artifact(&lib, &names()).unwrap().unwrap();
        assert_eq!(binary.kind, TargetKind::Lib);
        assert_eq!(binary.cargo_selector(), ["--lib"]);
        assert_eq!(binary.suite(), "raft");
    }

    #[test]
    fn list_output_keeps_tests_only() {
        let text = "initial_election_3a: test\ntests::inner: test\nspeed: bench\n\n";
        assert_eq!(parse_list(text), ["initial_election_3a", "tests::inner"]);
    }
}
