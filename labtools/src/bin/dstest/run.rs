//! Running one test once in its own process, and a pool of workers doing many.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crossbeam::channel::{self, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use serde::Serialize;

use crate::gate::Gate;
use crate::select::Test;

/// One planned run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Index into the chosen tests.
    pub test: usize,
    /// Which repetition of that test (0-based).
    pub iteration: u32,
    /// The LAB_SEED it gets.
    pub seed: u64,
    /// A number unique among the runs of this invocation (names its scratch directory).
    pub id: usize,
}

/// How runs are done and where their files go.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Each run writes its output (and, if on, its debug logs) in `<scratch>/<id>`.
    pub scratch: PathBuf,
    /// Failing runs' files are moved to `<failures>/<test>/run-<i>-seed-<seed>`.
    pub failures: PathBuf,
    /// Set LAB_LOG_DIR for the runs.
    pub debug_log: bool,
    /// Kill a run after this long.
    pub timeout: Duration,
    /// The tests were built with --release (for the replay command).
    pub release: bool,
    /// Run simulated (LAB_SIM=1).
    pub sim: bool,
    /// Knob overrides for swarm tests (`SWARM_CONFIG`), while shrinking.
    pub swarm_config: Option<String>,
}

/// The name of the HTML visualisation a failing run writes (via `VIS_FILE`).
pub const VISUALIZATION_FILE: &str = "visualization.html";

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The test passed.
    Passed,
    /// The test failed (libtest reported a failure or the process exited non-zero).
    Failed,
    /// The run took longer than --timeout and was killed.
    TimedOut,
    /// The process died from a signal (e.g. an abort or a stack overflow).
    Crashed,
    /// The process succeeded but the test did not run (renamed, or ignored).
    DidNotRun,
    /// The process could not be started, or its files not written.
    Error,
}

impl Outcome {
    /// Everything but a pass counts as a failure of the test.
    pub fn is_failure(self) -> bool {
        self != Outcome::Passed
    }
}

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The run's id (from its spec).
    #[serde(skip)]
    pub id: usize,
    /// Index into the chosen tests.
    #[serde(skip)]
    pub test: usize,
    /// Which repetition (0-based).
    pub iteration: u32,
    /// Its LAB_SEED.
    pub seed: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it counts as failed, in words.
    pub reason: Option<String>,
    /// The first `Fatal:` line or panic message of its output.
    pub message: Option<String>,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Where its output and debug logs were kept (failing runs only).
    pub kept: Option<PathBuf>,
    /// The command that replays it.
    pub replay: String,
}

/// What a worker reports to the main thread.
pub enum Event {
    /// A run started.
    Started(RunSpec),
    /// A run finished.
    Finished(RunResult),
}

/// Runs the plan behind `gate` on `jobs` worker threads, reporting each start
/// and finish on `events`; once `stop` is set, runs not yet started are
/// skipped. Returns when every worker is done.
pub fn run_all(
    tests: &[Test],
    gate: &Gate,
    jobs: usize,
    settings: &RunSettings,
    events: Sender<Event>,
    stop: &AtomicBool,
) {
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let events = events.clone();
            scope.spawn(move || {
                while let Some(spec) = gate.next(stop) {
                    let _ = events.send(Event::Started(spec.clone()));
                    let result = run_one(&tests[spec.test], &spec, settings);
                    gate.done(&spec);
                    if events.send(Event::Finished(result)).is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// Runs one test once: `<binary> --exact <name> --nocapture --test-threads 1`
/// in the crate's directory with LAB_SEED (and LAB_LOG_DIR) set, stdout and
/// stderr interleaved into one file.
pub fn run_one(test: &Test, spec: &RunSpec, settings: &RunSettings) -> RunResult {
    let dir = settings.scratch.join(format!("{:06}", spec.id));
    let start = Instant::now();
    let ended = std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
        .and_then(|()| execute(test, spec, settings, &dir));
    let secs = start.elapsed().as_secs_f64();
    let replay = test.replay_command(spec.seed, settings.release, settings.sim);
    let (outcome, reason, message) = match ended {
        Ok(ended) => {
            let (outcome, reason) = judge(&ended);
            (outcome, reason, ended.scan.message())
        }
        Err(err) => (Outcome::Error, Some(err), None),
    };
    let kept = if outcome.is_failure() {
        let note = format!(
            "test:    {}\nseed:    {}\noutcome: {}\nreplay:  {replay}\n",
            test.label(),
            spec.seed,
            reason.as_deref().unwrap_or("failed"),
        );
        match keep(&dir, &settings.failures, test, spec, &note) {
            Ok(path) => Some(path),
            Err(err) => {
                eprintln!("warning: {err}");
                Some(dir)
            }
        }
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        None
    };
    RunResult {
        id: spec.id,
        test: spec.test,
        iteration: spec.iteration,
        seed: spec.seed,
        outcome,
        reason,
        message,
        secs,
        kept,
        replay,
    }
}

/// How the process ended and what its output said.
struct Ended {
    status: ExitStatus,
    timed_out: Option<Duration>,
    scan: OutputScan,
}

fn execute(
    test: &Test,
    spec: &RunSpec,
    settings: &RunSettings,
    dir: &Path,
) -> Result<Ended, String> {
    let output_path = dir.join("output.log");
    let output = File::create(&output_path)
        .map_err(|e| format!("cannot create {}: {e}", output_path.display()))?;
    let binary = &test.binary;
    let mut cmd = Command::new(&binary.executable);
    cmd.args(["--exact", &test.name, "--nocapture", "--test-threads", "1"]);
    if test.ignored {
        cmd.arg("--include-ignored");
    }
    cmd.current_dir(&binary.package_dir)
        .env("LAB_SEED", spec.seed.to_string())
        .env("LAB_SIM", if settings.sim { "1" } else { "0" })
        .env("CARGO_MANIFEST_DIR", &binary.package_dir)
        .env("CARGO_PKG_NAME", &binary.package)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(config) = &settings.swarm_config {
        cmd.env("SWARM_CONFIG", config);
    }
    // A failing KV test's HTML picture lands beside its logs (unless the
    // user chose a file).
    if std::env::var_os("VIS_FILE").is_none() {
        cmd.env("VIS_FILE", dir.join(VISUALIZATION_FILE));
    }
    if settings.debug_log {
        cmd.env(tester::logging::LOG_DIR_ENV, dir);
    } else {
        cmd.env_remove(tester::logging::LOG_DIR_ENV);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.executable.display()))?;
    // Both streams go, line by line as they come, into one file, so their
    // lines stay in (nearly) the order they were written.
    let output = Arc::new(Mutex::new(output));
    let (done_tx, done_rx) = channel::bounded(2);
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    for stream in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
        let output = output.clone();
        let done_tx = done_tx.clone();
        std::thread::spawn(move || {
            let _ = done_tx.send(copy_and_scan(stream, &output));
        });
    }
    drop(done_tx);
    // Both copiers finish when the child (and anything holding its pipes)
    // exits; waiting on them with a deadline needs no polling of the child.
    let deadline = Instant::now() + settings.timeout;
    let mut scans = Vec::new();
    let mut timed_out = None;
    while scans.len() < 2 {
        match done_rx.recv_deadline(deadline) {
            Ok(scan) => scans.push(scan?),
            Err(RecvTimeoutError::Timeout) => {
                // Not reaped yet, so the id still names our child.
                let _ = child.kill();
                timed_out = Some(settings.timeout);
                break;
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the output copier stopped".to_string());
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for the test: {e}"))?;
    if timed_out.is_some() {
        // After the kill the pipes close, unless a grandchild still holds them.
        let grace = Instant::now() + Duration::from_secs(5);
        while scans.len() < 2 {
            match done_rx.recv_deadline(grace) {
                Ok(scan) => scans.push(scan?),
                Err(_) => break,
            }
        }
    }
    let scan = scans
        .into_iter()
        .fold(OutputScan::default(), OutputScan::merge);
    Ok(Ended {
        status,
        timed_out,
        scan,
    })
}

fn copy_and_scan(stream: Box<dyn Read + Send>, output: &Mutex<File>) -> Result<OutputScan, String> {
    let mut reader = BufReader::new(stream);
    let mut scan = OutputScan::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("reading the test's output: {e}")),
        }
        output
            .lock()
            .write_all(&line)
            .map_err(|e| format!("writing the test's output: {e}"))?;
        scan.line(&String::from_utf8_lossy(&line));
    }
    Ok(scan)
}

/// What dstest learns from a run's output while copying it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutputScan {
    /// From libtest's `test result:` line: (passed, failed).
    pub counts: Option<(u32, u32)>,
    /// The first `Fatal: ...` line (the tester's failure message).
    pub fatal: Option<String>,
    /// The first panic: `thread 'x' panicked at file:line:col:` and its message line.
    pub panic: Option<String>,
    panic_open: bool,
}

impl OutputScan {
    /// Looks at one line of output.
    pub fn line(&mut self, line: &str) {
        let line = line.trim_end_matches(['\n', '\r']);
        if self.panic_open {
            self.panic_open = false;
            if let Some(panic) = &mut self.panic {
                panic.push(' ');
                panic.push_str(line.trim());
            }
        }
        if let Some(summary) = line.strip_prefix("test result: ") {
            self.counts = parse_summary(summary);
        } else if let Some(at) = line.find("Fatal: ")
            && self.fatal.is_none()
        {
            // With --nocapture libtest prints `test <name> ... ` and then the
            // test's own output on the same line.
            self.fatal = Some(line[at..].to_string());
        } else if line.starts_with("thread '")
            && line.contains(" panicked at ")
            && self.panic.is_none()
        {
            self.panic = Some(line.to_string());
            self.panic_open = line.ends_with(':');
        }
    }

    /// Combines the scans of stdout and stderr (the first finding wins).
    pub fn merge(self, other: OutputScan) -> OutputScan {
        OutputScan {
            counts: self.counts.or(other.counts),
            fatal: self.fatal.or(other.fatal),
            panic: self.panic.or(other.panic),
            panic_open: false,
        }
    }

    /// The most telling failure message: the tester's `Fatal:` line, else the panic.
    pub fn message(&self) -> Option<String> {
        let message = self.fatal.as_ref().or(self.panic.as_ref())?;
        Some(message.chars().take(500).collect())
    }
}

/// Reads `ok. 1 passed; 0 failed; 0 ignored; ...` into (passed, failed).
fn parse_summary(summary: &str) -> Option<(u32, u32)> {
    let mut passed = None;
    let mut failed = None;
    for part in summary.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let (count, what) = match words.as_slice() {
            [_, count, what] | [count, what] => (count, what),
            _ => continue,
        };
        match *what {
            "passed" => passed = count.parse().ok(),
            "failed" => failed = count.parse().ok(),
            _ => {}
        }
    }
    Some((passed?, failed?))
}

fn judge(ended: &Ended) -> (Outcome, Option<String>) {
    if let Some(limit) = ended.timed_out {
        return (
            Outcome::TimedOut,
            Some(format!("timed out after {} s (killed)", limit.as_secs())),
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = ended.status.signal() {
            return (Outcome::Crashed, Some(format!("killed by signal {signal}")));
        }
    }
    match (ended.status.success(), ended.scan.counts) {
        (true, Some((1, 0))) => (Outcome::Passed, None),
        (true, _) => (
            Outcome::DidNotRun,
            Some("the test did not run (renamed or ignored?)".to_string()),
        ),
        (false, _) => (Outcome::Failed, Some(format!("failed ({})", ended.status))),
    }
}

/// Moves a failing run's directory to `<failures>/<test>/run-<i>-seed-<seed>`
/// and writes `replay.txt` there.
fn keep(
    dir: &Path,
    failures: &Path,
    test: &Test,
    spec: &RunSpec,
    note: &str,
) -> Result<PathBuf, String> {
    let parent = failures.join(file_safe(&test.label()));
    let target = parent.join(format!("run-{}-seed-{}", spec.iteration, spec.seed));
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    if std::fs::rename(dir, &target).is_err() {
        // Different file systems: copy, then remove.
        std::fs::create_dir_all(&target)
            .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        for entry in
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        {
            let entry = entry.map_err(|e| e.to_string())?;
            std::fs::copy(entry.path(), target.join(entry.file_name()))
                .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
        let _ = std::fs::remove_dir_all(dir);
    }
    std::fs::write(target.join("replay.txt"), note)
        .map_err(|e| format!("cannot write replay.txt in {}: {e}", target.display()))?;
    Ok(target)
}

/// A test label as a directory name: `raft/raft_3a initial_election_3a` ->
/// `raft.raft_3a.initial_election_3a`.
pub fn file_safe(label: &str) -> String {
    label
        .replace("::", ".")
        .chars()
        .map(|c| match c {
            '/' | ' ' => '.',
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> OutputScan {
        let mut scan = OutputScan::default();
        for line in text.split_inclusive('\n') {
            scan.line(line);
        }
        scan
    }

    #[test]
    fn summary_counts_are_read() {
        assert_eq!(
            parse_summary(
                "ok. 1 passed; 0 failed; 0 ignored; 0 measured; 5 filtered out; finished in 3.2s"
            ),
            Some((1, 0))
        );
        assert_eq!(
            parse_summary("FAILED. 0 passed; 1 failed; 0 ignored"),
            Some((0, 1))
        );
        assert_eq!(parse_summary("garbage"), None);
    }

    #[test]
    fn failure_messages_are_found() {
        let output = "\nrunning 1 test\ntest initial_election_3a ... Test (3A): initial election (reliable network)...\n\
            Fatal: expected one leader, got none\n\
            thread 'initial_election_3a' (1234) panicked at raft/tests/harness.rs:10:5:\n\
            expected one leader, got none\n\
            test initial_election_3a ... FAILED\n\
            test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out\n";
        let s = scan(output);
        assert_eq!(s.counts, Some((0, 1)));
        assert_eq!(
            s.fatal.as_deref(),
            Some("Fatal: expected one leader, got none")
        );
        assert_eq!(
            s.panic.as_deref(),
            Some(
                "thread 'initial_election_3a' (1234) panicked at raft/tests/harness.rs:10:5: expected one leader, got none"
            )
        );
        assert_eq!(
            s.message().as_deref(),
            Some("Fatal: expected one leader, got none")
        );
        let same_line = scan("test x ... Fatal: wrong value\n");
        assert_eq!(same_line.fatal.as_deref(), Some("Fatal: wrong value"));
        let only_panic = scan("thread 'x' panicked at a.rs:1:1:\nboom\n");
        assert_eq!(
            only_panic.message().as_deref(),
            Some("thread 'x' panicked at a.rs:1:1: boom")
        );
    }

    #[test]
    fn labels_become_directory_names() {
        assert_eq!(
            file_safe("raft/raft_3a initial_election_3a"),
            "raft.raft_3a.initial_election_3a"
        );
        assert_eq!(file_safe("labgob tests::gob"), "labgob.tests.gob");
    }
}
