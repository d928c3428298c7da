//! Running an untrusted test process with limits: its own process group, a
//! wall-clock deadline after which the whole group is killed, an
//! address-space limit, and a cap on the output kept.
//!
//! The memory limit is set by a small trampoline: the grader runs itself as
//! `grade __limited --memory-bytes N -- PROGRAM ARGS...`, which sets its own
//! resource limits and then replaces itself with the program (so no `unsafe`
//! `pre_exec` hook is needed).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The hidden sub-command of `grade` that applies limits and runs a program.
pub const TRAMPOLINE: &str = "__limited";

/// Largest file a test process may write (a runaway log cannot fill the disk).
pub const FILE_BYTES: u64 = 1 << 30;

/// Puts the command's process in a new process group, so the deadline can
/// kill everything it starts.
pub fn own_group(cmd: &mut Command) {
    cmd.process_group(0);
}

/// Kills every process of the group `pgid` (nothing if it is gone).
pub fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A deadline on a process group: killed when it passes.
pub struct Deadline {
    done: crossbeam::channel::Sender<()>,
    fired: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    pgid: u32,
}

impl Deadline {
    /// Starts the clock for the group led by `pgid`.
    pub fn start(pgid: u32, limit: Duration) -> Deadline {
        let (done, wait) = crossbeam::channel::bounded::<()>(1);
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::Builder::new()
            .name("grade-deadline".into())
            .spawn(move || {
                if let Err(crossbeam::channel::RecvTimeoutError::Timeout) = wait.recv_timeout(limit)
                {
                    flag.store(true, Ordering::SeqCst);
                    kill_group(pgid);
                }
            })
            .expect("spawn the deadline thread");
        Deadline {
            done,
            fired,
            thread,
            pgid,
        }
    }

    /// Stops the clock once the leader has exited, kills whatever the group
    /// left running, and says whether the deadline had passed.
    pub fn finish(self) -> bool {
        let _ = self.done.send(());
        let _ = self.thread.join();
        kill_group(self.pgid);
        self.fired.load(Ordering::SeqCst)
    }
}

/// The trampoline's work: sets this process's limits and becomes `program`.
/// Returns only if that fails.
pub fn exec_limited(memory_bytes: u64, program: &Path, args: &[String]) -> String {
    use rlimit::Resource;
    for (resource, limit) in [
        (Resource::AS, memory_bytes),
        (Resource::FSIZE, FILE_BYTES),
        (Resource::CORE, 0),
    ] {
        if let Err(e) = resource.set(limit, limit) {
            return format!("cannot set {resource:?} to {limit}: {e}");
        }
    }
    let error = Command::new(program).args(args).exec();
    format!("cannot run {}: {error}", program.display())
}

/// Limits for one test process.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Killed (with its whole process group) after this long.
    pub wall: Duration,
    /// Address-space limit.
    pub memory_bytes: u64,
    /// Bytes of output kept (half from the start, half from the end).
    pub output_bytes: usize,
}

/// Output kept under a cap: the first half-cap bytes and the last half-cap
/// bytes, with the number of bytes left out between them.
#[derive(Debug, Default)]
pub struct Capture {
    head: String,
    tail: VecDeque<String>,
    tail_bytes: usize,
    dropped: u64,
    cap: usize,
}

impl Capture {
    /// An empty capture keeping about `cap` bytes.
    pub fn new(cap: usize) -> Capture {
        Capture {
            cap,
            ..Capture::default()
        }
    }

    /// Adds one line (without its newline).
    pub fn push(&mut self, line: &str) {
        let half = self.cap / 2;
        if self.head.len() + line.len() < half {
            self.head.push_str(line);
            self.head.push('\n');
            return;
        }
        self.tail.push_back(format!("{line}\n"));
        self.tail_bytes += line.len() + 1;
        while self.tail_bytes > half {
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= old.len();
            self.dropped += old.len() as u64;
        }
    }

    /// The kept text.
    pub fn text(&self) -> String {
        let mut out = self.head.clone();
        if self.dropped > 0 {
            out.push_str(&format!(
                "[... {} bytes of output not kept ...]\n",
                self.dropped
            ));
        }
        out.extend(self.tail.iter().map(String::as_str));
        out
    }
}

/// How a limited process ended.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit status (None if it could not be waited for).
    pub status: Option<ExitStatus>,
    /// Whether the deadline killed it.
    pub timed_out: bool,
    /// Its standard output's lines, every one (for the verdict; each cut to
    /// a bounded length, at most a bounded number).
    pub stdout_lines: Vec<String>,
    /// Its output, standard error included, under the cap.
    pub output: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Most standard-output lines kept for the verdict, and their length.
const VERDICT_LINES: usize = 20_000;
const VERDICT_LINE_CHARS: usize = 400;

/// Runs `program args` under `limits` in `cwd` with exactly the environment
/// `env` (nothing inherited), through the trampoline `trampoline` (the grade
/// executable).
pub fn run(
    trampoline: &Path,
    program: &Path,
    args: &[String],
    cwd: &Path,
    env: &[(String, String)],
    limits: &Limits,
) -> std::io::Result<Outcome> {
    let started = Instant::now();
    let mut cmd = Command::new(trampoline);
    cmd.arg(TRAMPOLINE)
        .arg("--memory-bytes")
        .arg(limits.memory_bytes.to_string())
        .arg("--")
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_group(&mut cmd);
    let mut child = cmd.spawn()?;
    let capture = Arc::new(Mutex::new(Capture::new(limits.output_bytes)));
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let out_capture = capture.clone();
    let out_reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        read_lines(stdout, |line| {
            out_capture.lock().push(line);
            if lines.len() < VERDICT_LINES {
                lines.push(line.chars().take(VERDICT_LINE_CHARS).collect());
            }
        });
        lines
    });
    let err_capture = capture.clone();
    let err_reader = std::thread::spawn(move || {
        read_lines(stderr, |line| err_capture.lock().push(line));
    });
    let deadline = Deadline::start(child.id(), limits.wall);
    let status = child.wait().ok();
    let timed_out = deadline.finish();
    let stdout_lines = out_reader.join().unwrap_or_default();
    let _ = err_reader.join();
    let output = capture.lock().text();
    Ok(Outcome {
        status,
        timed_out,
        stdout_lines,
        output,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Calls `each` with every line of `reader` (bytes that are not UTF-8 are
/// replaced), until it ends or fails.
fn read_lines(reader: impl Read, mut each: impl FnMut(&str)) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                each(line.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// The trampoline's command line, parsed: (memory bytes, program, args).
pub fn parse_trampoline(args: &[String]) -> Result<(u64, PathBuf, Vec<String>), String> {
    match args {
        [flag, bytes, dash, program, rest @ ..] if flag == "--memory-bytes" && dash == "--" => {
            let bytes = bytes
                .parse()
                .map_err(|_| format!("--memory-bytes {bytes}: not a number"))?;
            Ok((bytes, PathBuf::from(program), rest.to_vec()))
        }
        _ => Err("usage: grade __limited --memory-bytes N -- PROGRAM [ARGS...]".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_head_and_tail_and_counts_the_rest() {
        let mut capture = Capture::new(40);
        for i in 0..100 {
            capture.push(&format!("line {i:03}"));
        }
        let text = capture.text();
        assert!(text.starts_with("line 000\nline 001\n"), "{text}");
        assert!(text.ends_with("line 099\n"), "{text}");
        assert!(text.contains("bytes of output not kept"), "{text}");
        assert!(text.len() < 120, "{text}");
    }

    #[test]
    fn trampoline_arguments_parse() {
        let args: Vec<String> = ["--memory-bytes", "1024", "--", "/bin/true", "-x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (bytes, program, rest) = parse_trampoline(&args).unwrap();
        assert_eq!(
            (bytes, program, rest),
            (1024, PathBuf::from("/bin/true"), vec!["-x".to_string()])
        );
        assert!(parse_trampoline(&args[1..]).is_err());
    }
}
