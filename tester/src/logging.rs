//! Per-test debug logs, and the line format the `dslogs` viewer reads.
//!
//! The tester calls [`start_test`] when a test's `Config` is made and
//! [`finish_test`] when it is dropped. The first call installs one `log::Log`
//! for the whole process (several tests run one after another in one test
//! binary), which does two independent things:
//!
//! * **stderr, like `env_logger`** — quiet by default; `RUST_LOG` (e.g.
//!   `RUST_LOG=raft=debug`) selects what is printed, and libtest captures it
//!   like any test output.
//! * **a debug log file per test** — only when the environment variable
//!   [`LOG_DIR_ENV`] (`LAB_LOG_DIR`) names a directory. Every record of every
//!   crate at debug level or above then goes to `<dir>/<test name>-<seed>.log`,
//!   whatever `RUST_LOG` says. When a failed test finishes, the path is printed
//!   as `info: debug log in <path>`. `dstest` sets the variable for its runs.
//!
//! The test name is the one the tester passes, or else the current thread's
//! name (libtest names each test's thread after the test). Records from every
//! thread go to the file of the test running now, so per-test files assume one
//! test at a time per process — the workspace's default (`RUST_TEST_THREADS=1`).
//!
//! # Line format
//!
//! One record per line, whitespace-separated fields, then the message:
//!
//! ```text
//!     123456 D ELECTION raft    S0 T1 election timeout, starting election
//! ^ micros since the test started (10 wide)
//!            ^ level: E W I D T
//!              ^ topic: the last segment of the target, upper case
//!                       ^ crate: the first segment of the target
//!                               ^ message; by convention "S<peer> T<term> ..."
//! ```
//!
//! The crates log with `log::debug!(target: "raft::election", "S{me} T{term} ...")`
//! (topic one of election, append, commit, apply, snapshot, persist, client,
//! server, test). A line starting with `#` is a comment (the file's header and
//! footer); a line starting with a tab continues the previous record's message
//! (a message that itself contains newlines). [`LogLine::parse`] reads exactly
//! what [`Record`]'s `Display` writes.

// Process-wide state behind plain locks, never held across a runtime
// operation: shared by the worlds of a simulated process, and no scheduling
// point (logging and annotating must not change a simulated run).
#![allow(clippy::disallowed_types)]

use labrt::time::Instant;
use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

// Logging must not change a simulated run: its locks are not runtime locks
// (no scheduling point) and it reads the clock with `Instant::observe`.
use log::{Level, LevelFilter, Log, Metadata};
use parking_lot::Mutex;

/// The environment variable naming the directory for per-test debug logs.
pub const LOG_DIR_ENV: &str = "LAB_LOG_DIR";

/// Column widths of the topic and crate fields (longer values widen the line).
const TOPIC_WIDTH: usize = 8;
const CRATE_WIDTH: usize = 7;

/// The level written to per-test files: debug and everything more severe.
const FILE_LEVEL: Level = Level::Debug;

/// Called when a test's `Config` is made: installs the process's logger once
/// and, if [`LOG_DIR_ENV`] is set, opens this test's debug log file.
///
/// An empty `test_name` means "the current thread's name".
pub fn start_test(test_name: &str, seed: u64) {
    let logger = logger();
    let name = if test_name.is_empty() {
        std::thread::current()
            .name()
            .unwrap_or("unnamed-test")
            .to_string()
    } else {
        test_name.to_string()
    };
    let dir = std::env::var_os(LOG_DIR_ENV).filter(|d| !d.is_empty());
    let sink = match dir {
        Some(dir) => match TestLog::create(Path::new(&dir), &name, seed) {
            Ok(sink) => Some(sink),
            Err(err) => {
                eprintln!("warning: per-test debug log disabled: {err}");
                None
            }
        },
        None => None,
    };
    if sink.is_some() && !INSTALLED.load(Ordering::Acquire) {
        eprintln!(
            "warning: another logger was installed before the tester's; \
             {LOG_DIR_ENV} has no effect in this process"
        );
    }
    logger.replace_sink(sink, &name);
}

/// Called when a test's `Config` is dropped: closes the test's debug log and,
/// if the test failed, prints `info: debug log in <path>`.
pub fn finish_test(failed: bool) {
    let Some(logger) = LOGGER.get() else {
        return;
    };
    let finished = logger.sink.lock().take();
    logger.file_on.store(false, Ordering::Release);
    if INSTALLED.load(Ordering::Acquire) {
        // Between tests only stderr's filter matters.
        log::set_max_level(logger.stderr.filter());
    }
    if let Some(mut sink) = finished {
        let verdict = if failed { "FAILED" } else { "passed" };
        sink.footer(&format!("test {verdict}"));
        if failed {
            println!("info: debug log in {}", sink.path.display());
        }
    }
}

/// Where the current test's debug log is written (or, between tests, where
/// the last one was), if per-test logs are on.
pub fn log_path() -> Option<PathBuf> {
    LOGGER
        .get()
        .and_then(|logger| logger.last_path.lock().clone())
}

/// The file name a test's debug log gets: `<test name>-<seed>.log`, with
/// `::` (a test inside a module) turned into `.` and anything else unsafe in a
/// file name into `_`.
pub fn log_file_name(test_name: &str, seed: u64) -> String {
    let name = test_name.replace("::", ".");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{seed}.log")
}

/// The process-wide logger: env_logger for stderr, plus the current test's file.
struct LabLogger {
    stderr: env_logger::Logger,
    /// Fast check before taking the lock: is a test file open?
    file_on: AtomicBool,
    sink: Mutex<Option<TestLog>>,
    last_path: Mutex<Option<PathBuf>>,
}

static LOGGER: OnceLock<LabLogger> = OnceLock::new();

fn logger() -> &'static LabLogger {
    let mut first = false;
    let logger = LOGGER.get_or_init(|| {
        first = true;
        let mut builder = env_logger::Builder::from_default_env();
        builder.is_test(true);
        if labrt::simulated() {
            // Virtual timestamps: a simulated run's stderr replays byte for byte.
            builder.format(|buf, record| {
                use std::io::Write as _;
                let virtual_time = labrt::sim::trace().map_or(0.0, |t| t.elapsed.as_secs_f64());
                writeln!(
                    buf,
                    "[{virtual_time:.6}s {} {}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                )
            });
        }
        let stderr = builder.build();
        LabLogger {
            stderr,
            file_on: AtomicBool::new(false),
            sink: Mutex::new(None),
            last_path: Mutex::new(None),
        }
    });
    if first {
        INSTALLED.store(log::set_logger(logger).is_ok(), Ordering::Release);
        log::set_max_level(logger.stderr.filter());
    }
    logger
}

/// Whether our logger is the one `log` calls (another may have been set first).
static INSTALLED: AtomicBool = AtomicBool::new(false);

impl LabLogger {
    fn replace_sink(&'static self, sink: Option<TestLog>, name: &str) {
        let installed = INSTALLED.load(Ordering::Acquire);
        let new_path = sink.as_ref().map(|s| s.path.clone());
        let on = sink.is_some() && installed;
        let previous = std::mem::replace(&mut *self.sink.lock(), sink.filter(|_| installed));
        if let Some(mut previous) = previous {
            previous.footer(&format!("superseded: test {name} started in this process"));
        }
        *self.last_path.lock() = new_path.filter(|_| installed);
        self.file_on.store(on, Ordering::Release);
        let file_level = if on {
            FILE_LEVEL.to_level_filter()
        } else {
            LevelFilter::Off
        };
        if installed {
            log::set_max_level(self.stderr.filter().max(file_level));
        }
    }

    fn file_wants(&self, metadata: &Metadata) -> bool {
        metadata.level() <= FILE_LEVEL && self.file_on.load(Ordering::Acquire)
    }
}

impl Log for LabLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.stderr.enabled(metadata) || self.file_wants(metadata)
    }

    fn log(&self, record: &log::Record) {
        if self.stderr.matches(record) {
            self.stderr.log(record);
        }
        if !self.file_wants(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let mut sink = self.sink.lock();
        if let Some(sink) = sink.as_mut() {
            let line = Record::from_log(
                Instant::observe()
                    .saturating_duration_since(sink.start)
                    .as_micros(),
                record,
                message,
            );
            sink.write(&format!("{line}\n"));
        }
    }

    fn flush(&self) {
        self.stderr.flush();
    }
}

/// The files this process has created, so a second start of the same test
/// and seed appends instead of truncating.
static CREATED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// One test's open debug log file.
struct TestLog {
    file: File,
    path: PathBuf,
    start: Instant,
    /// Set after the first failed write, so a full disk warns once.
    broken: bool,
}

impl TestLog {
    fn create(dir: &Path, name: &str, seed: u64) -> Result<TestLog, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(log_file_name(name, seed));
        // A test that makes a second Config (same name, same LAB_SEED) adds to
        // its file; a file left by an earlier process is replaced.
        let again = !CREATED.lock().insert(path.clone());
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(again)
            .truncate(!again)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut log = TestLog {
            file,
            path,
            start: Instant::observe(),
            broken: false,
        };
        log.write(&format!(
            "# lab debug log: test {name} seed {seed}\n\
             # fields: micros-since-start level topic crate message (view with dslogs)\n"
        ));
        Ok(log)
    }

    /// Writes straight to the file (no buffer), so a log survives a test
    /// process that dies without unwinding.
    fn write(&mut self, text: &str) {
        if self.broken {
            return;
        }
        if let Err(err) = self.file.write_all(text.as_bytes()) {
            self.broken = true;
            eprintln!("warning: writing {}: {err}", self.path.display());
        }
    }

    fn footer(&mut self, what: &str) {
        let secs = Instant::observe()
            .saturating_duration_since(self.start)
            .as_secs_f64();
        self.write(&format!("# {what} after {secs:.3} s\n"));
    }
}

/// One log record as written to (and read back from) a per-test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Microseconds since the test started.
    pub micros: u64,
    /// Severity.
    pub level: Level,
    /// The topic: the target's last segment in upper case (`ELECTION`).
    pub topic: String,
    /// The crate: the target's first segment (`raft`).
    pub crate_name: String,
    /// The message, conventionally `S<peer> T<term> <text>`; may contain newlines.
    pub message: String,
}

impl Record {
    fn from_log(micros: u128, record: &log::Record, message: String) -> Record {
        let target = record.target();
        let mut segments = target.split("::");
        let crate_name = segments.next().unwrap_or_default();
        let topic = target.rsplit("::").next().unwrap_or_default();
        let field = |s: &str| -> String {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.chars()
                    .map(|c| if c.is_whitespace() { '_' } else { c })
                    .collect()
            }
        };
        Record {
            micros: u64::try_from(micros).unwrap_or(u64::MAX),
            level: record.level(),
            topic: field(topic).to_uppercase(),
            crate_name: field(crate_name),
            message,
        }
    }

    /// The peer named by a leading `S<peer>` in the message, if any.
    pub fn peer(&self) -> Option<usize> {
        self.prefix().0
    }

    /// The term named by a `T<term>` after the peer (or leading the message), if any.
    pub fn term(&self) -> Option<u64> {
        self.prefix().1
    }

    /// The message without its `S<peer> T<term>` prefix.
    pub fn text(&self) -> &str {
        self.prefix().2
    }

    fn prefix(&self) -> (Option<usize>, Option<u64>, &str) {
        let mut rest = self.message.as_str();
        let peer = take_tagged_number(&mut rest, 'S');
        let term = take_tagged_number(&mut rest, 'T');
        (peer, term, rest)
    }
}

/// If `text` starts with `<tag><digits>` followed by a space or the end,
/// returns the number and advances `text` past it (and the space).
fn take_tagged_number<T: std::str::FromStr>(text: &mut &str, tag: char) -> Option<T> {
    let rest = text.strip_prefix(tag)?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if digits == 0 {
        return None;
    }
    let after = &rest[digits..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let number = rest[..digits].parse().ok()?;
    *text = after.strip_prefix(' ').unwrap_or(after);
    Some(number)
}

fn level_letter(level: Level) -> char {
    match level {
        Level::Error => 'E',
        Level::Warn => 'W',
        Level::Info => 'I',
        Level::Debug => 'D',
        Level::Trace => 'T',
    }
}

fn level_from_letter(letter: &str) -> Option<Level> {
    Some(match letter {
        "E" => Level::Error,
        "W" => Level::Warn,
        "I" => Level::Info,
        "D" => Level::Debug,
        "T" => Level::Trace,
        _ => return None,
    })
}

impl fmt::Display for Record {
    /// The record's line(s), without the final newline: continuation lines of
    /// a multi-line message start with a tab.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>10} {} {:<topic$} {:<krate$} ",
            self.micros,
            level_letter(self.level),
            self.topic,
            self.crate_name,
            topic = TOPIC_WIDTH,
            krate = CRATE_WIDTH,
        )?;
        let mut lines = self.message.split('\n');
        f.write_str(lines.next().unwrap_or_default())?;
        for line in lines {
            write!(f, "\n\t{line}")?;
        }
        Ok(())
    }
}

/// One line of a per-test log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// A `#` line (header, footer), without the `#` and the space after it.
    Comment(String),
    /// The start of a record.
    Record(Record),
    /// A tab-led line continuing the previous record's message (tab removed).
    Continuation(String),
}

/// Why a line is not in the per-test log format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The first field is not a number of microseconds.
    #[error("expected a time in microseconds first, found {0:?}")]
    BadTime(String),
    /// The second field is not one of the level letters E W I D T.
    #[error("expected a level letter (E, W, I, D or T) second, found {0:?}")]
    BadLevel(String),
    /// The line ends before the topic and crate fields.
    #[error("line ends early: expected `<micros> <level> <TOPIC> <crate> <message>`")]
    Truncated,
}

impl LogLine {
    /// Parses one line (without its newline) of a per-test log file.
    pub fn parse(line: &str) -> Result<LogLine, LineError> {
        if let Some(comment) = line.strip_prefix('#') {
            return Ok(LogLine::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_string(),
            ));
        }
        if let Some(more) = line.strip_prefix('\t') {
            return Ok(LogLine::Continuation(more.to_string()));
        }
        let mut rest = line.trim_start_matches(' ');
        // A field is padded to `width` and followed by one space; the message
        // starts right after, so its own leading spaces survive.
        let mut field = |width: usize| -> Option<&str> {
            if rest.is_empty() {
                return None;
            }
            let end = rest.find(' ').unwrap_or(rest.len());
            let (field, mut after) = rest.split_at(end);
            for _ in 0..width.saturating_sub(field.len()) + 1 {
                after = after.strip_prefix(' ').unwrap_or(after);
            }
            rest = after;
            Some(field)
        };
        let time = field(0).ok_or(LineError::Truncated)?;
        let micros = time
            .parse()
            .map_err(|_| LineError::BadTime(time.to_string()))?;
        let letter = field(1).ok_or(LineError::Truncated)?;
        let level = level_from_letter(letter).ok_or(LineError::BadLevel(letter.to_string()))?;
        let topic = field(TOPIC_WIDTH).ok_or(LineError::Truncated)?.to_string();
        let crate_name = field(CRATE_WIDTH).ok_or(LineError::Truncated)?.to_string();
        Ok(LogLine::Record(Record {
            micros,
            level,
            topic,
            crate_name,
            message: rest.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str) -> Record {
        Record {
            micros: 1234,
            level: Level::Debug,
            topic: "ELECTION".into(),
            crate_name: "raft".into(),
            message: message.into(),
        }
    }

    #[test]
    fn record_line_has_fixed_columns() {
        let line = record("S0 T1 timeout").to_string();
        assert_eq!(line, "      1234 D ELECTION raft    S0 T1 timeout");
    }

    #[test]
    fn record_round_trips_through_parse() {
        for message in [
            "S2 T7 sent append to S1",
            "no peer here",
            "",
            "  two  spaces",
        ] {
            let written = record(message);
            let parsed = LogLine::parse(&written.to_string()).unwrap();
            assert_eq!(parsed, LogLine::Record(written), "message {message:?}");
        }
    }

    #[test]
    fn multi_line_message_continues_with_tabs() {
        let written = record("S1 T2 state:\nlog=[1 2]\ncommit=2");
        let text = written.to_string();
        let lines: Vec<LogLine> = text.lines().map(|l| LogLine::parse(l).unwrap()).collect();
        assert_eq!(
            lines,
            vec![
                LogLine::Record(record("S1 T2 state:")),
                LogLine::Continuation("log=[1 2]".into()),
                LogLine::Continuation("commit=2".into()),
            ]
        );
    }

    #[test]
    fn peer_and_term_come_from_the_message_prefix() {
        let r = record("S3 T12 became leader");
        assert_eq!(
            (r.peer(), r.term(), r.text()),
            (Some(3), Some(12), "became leader")
        );
        let r = record("T4 client sees term");
        assert_eq!(
            (r.peer(), r.term(), r.text()),
            (None, Some(4), "client sees term")
        );
        let r = record("Start of something");
        assert_eq!(
            (r.peer(), r.term(), r.text()),
            (None, None, "Start of something")
        );
        let r = record("S1x not a peer");
        assert_eq!(r.peer(), None);
        let r = record("S2");
        assert_eq!((r.peer(), r.term(), r.text()), (Some(2), None, ""));
    }

    #[test]
    fn comments_and_bad_lines() {
        assert_eq!(
            LogLine::parse("# test x seed 1"),
            Ok(LogLine::Comment("test x seed 1".into()))
        );
        assert_eq!(
            LogLine::parse("abc D X y z"),
            Err(LineError::BadTime("abc".into()))
        );
        assert_eq!(
            LogLine::parse("  12 Q X y z"),
            Err(LineError::BadLevel("Q".into()))
        );
        assert_eq!(LogLine::parse("  12 D X"), Err(LineError::Truncated));
        assert_eq!(LogLine::parse(""), Err(LineError::Truncated));
    }

    #[test]
    fn target_splits_into_crate_and_topic() {
        let check = |target: &str, krate: &str, topic: &str| {
            let args = format_args!("m");
            let rec = log::Record::builder()
                .target(target)
                .level(Level::Info)
                .args(args)
                .build();
            let r = Record::from_log(5, &rec, "m".into());
            assert_eq!((r.crate_name.as_str(), r.topic.as_str()), (krate, topic));
        };
        check("raft::election", "raft", "ELECTION");
        check("kvraft::server", "kvraft", "SERVER");
        check("labrpc", "labrpc", "LABRPC");
        check("rsm::core::apply", "rsm", "APPLY");
        check("", "-", "-");
        check("odd target", "odd_target", "ODD_TARGET");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            log_file_name("initial_election_3a", 42),
            "initial_election_3a-42.log"
        );
        assert_eq!(log_file_name("tests::basic", 7), "tests.basic-7.log");
        assert_eq!(log_file_name("a/b c", 1), "a_b_c-1.log");
    }
}
