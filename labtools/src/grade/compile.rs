//! Building a grading tree's test binaries with cargo, and keeping the
//! compiler's first errors when the submission does not compile.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::grade::limits;

/// How many compiler errors a report keeps.
pub const ERRORS_KEPT: usize = 5;

/// The outcome of a build.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Build {
    /// Whether every requested binary was built.
    pub ok: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The compiler's first errors, rendered as it prints them (or cargo's
    /// own message when it failed before compiling).
    pub errors: Vec<String>,
    /// Each built test binary, by `package/binary`.
    #[serde(skip)]
    pub executables: BTreeMap<String, Executable>,
}

/// A built integration-test binary.
#[derive(Debug, Clone)]
pub struct Executable {
    /// The file to run.
    pub path: PathBuf,
    /// Its package's folder: tests run there, as under `cargo test`.
    pub package_dir: PathBuf,
}

#[derive(Deserialize)]
pub(crate) struct Message {
    pub(crate) reason: String,
    package_id: Option<String>,
    manifest_path: Option<PathBuf>,
    target: Option<Target>,
    executable: Option<PathBuf>,
    pub(crate) message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// A compiler diagnostic, as cargo's JSON messages carry it.
#[derive(Deserialize, Debug, Clone)]
pub struct Diagnostic {
    /// `error`, `warning`, ...
    pub level: String,
    /// As the compiler prints it.
    pub rendered: Option<String>,
    /// Where it points.
    #[serde(default)]
    pub spans: Vec<Span>,
}

/// One place a diagnostic points at.
#[derive(Deserialize, Debug, Clone)]
pub struct Span {
    /// The file, relative to the workspace root.
    pub file_name: String,
    /// Whether it is the diagnostic's main place.
    pub is_primary: bool,
}

/// A `cargo` command for the tree at `root`, building into `target_dir`.
pub fn cargo(root: &Path, target_dir: &Path, offline: bool) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if offline {
        cmd.env("CARGO_NET_OFFLINE", "true");
    }
    cmd
}

/// Runs `cmd` (a cargo command with `--message-format=json`) within
/// `timeout`, handing each JSON message to `each`; returns whether cargo
/// succeeded and the tail of what it printed on standard error.
pub(crate) fn run_json(
    mut cmd: Command,
    timeout: Duration,
    mut each: impl FnMut(Message),
) -> Result<(bool, String), String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limits::own_group(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let guard = limits::Deadline::start(child.id(), timeout);
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Ok(message) = serde_json::from_str::<Message>(&line) {
            each(message);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for cargo: {e}"))?;
    let timed_out = guard.finish();
    let err = err_reader.join().unwrap_or_default();
    if timed_out {
        return Ok((
            false,
            format!(
                "cargo took longer than {} s and was stopped",
                timeout.as_secs()
            ),
        ));
    }
    let tail: Vec<&str> = err.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Ok((status.success(), tail.join("\n")))
}

/// The package name in a cargo package id (`path+file:///x/raft#0.1.0`,
/// `path+file:///x/raft#raft@0.1.0` or the older `raft 0.1.0 (path+...)`).
fn package_name(id: &str, manifest_path: Option<&Path>) -> Option<String> {
    if let Some((_, fragment)) = id.rsplit_once('#') {
        if let Some((name, _)) = fragment.split_once('@') {
            return Some(name.to_string());
        }
        return manifest_path
            .and_then(|p| p.parent())
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned());
    }
    id.split_whitespace().next().map(str::to_string)
}

/// Builds the given `package/binary` integration tests in the tree at `root`.
pub fn build_tests(
    root: &Path,
    target_dir: &Path,
    suites: &[(String, String)],
    timeout: Duration,
    offline: bool,
) -> Result<Build, String> {
    let started = Instant::now();
    let mut cmd = cargo(root, target_dir, offline);
    cmd.args(["test", "--no-run", "--locked", "--message-format=json"]);
    let mut packages: Vec<&str> = suites.iter().map(|(p, _)| p.as_str()).collect();
    packages.sort();
    packages.dedup();
    for package in packages {
        cmd.args(["-p", package]);
    }
    for (_, binary) in suites {
        cmd.args(["--test", binary]);
    }
    let mut build = Build::default();
    let (ok, stderr) = run_json(cmd, timeout, |message| match message.reason.as_str() {
        "compiler-artifact" => {
            let (Some(target), Some(executable), Some(id)) =
                (message.target, message.executable, message.package_id)
            else {
                return;
            };
            if !target.kind.iter().any(|k| k == "test") {
                return;
            }
            let Some(package) = package_name(&id, message.manifest_path.as_deref()) else {
                return;
            };
            let package_dir = message
                .manifest_path
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.join(&package));
            build.executables.insert(
                format!("{package}/{}", target.name),
                Executable {
                    path: executable,
                    package_dir,
                },
            );
        }
        "compiler-message" => {
            if let Some(diagnostic) = message.message
                && diagnostic.level == "error"
                && build.errors.len() < ERRORS_KEPT
                && let Some(rendered) = diagnostic.rendered
            {
                build.errors.push(rendered);
            }
        }
        _ => {}
    })?;
    build.seconds = started.elapsed().as_secs_f64();
    let missing: Vec<String> = suites
        .iter()
        .map(|(p, b)| format!("{p}/{b}"))
        .filter(|s| !build.executables.contains_key(s))
        .collect();
    build.ok = ok && missing.is_empty();
    if !build.ok && build.errors.is_empty() {
        let mut message = stderr;
        if ok {
            message = format!("cargo built no test binary for: {}", missing.join(", "));
        }
        build.errors.push(message);
    }
    Ok(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_every_id_format() {
        assert_eq!(
            package_name(
                "path+file:///t/raft#0.1.0",
                Some(Path::new("/t/raft/Cargo.toml"))
            )
            .as_deref(),
            Some("raft")
        );
        assert_eq!(
            package_name("path+file:///t/x#kvraft@0.1.0", None).as_deref(),
            Some("kvraft")
        );
        assert_eq!(
            package_name("raft 0.1.0 (path+file:///t/raft)", None).as_deref(),
            Some("raft")
        );
    }
}
