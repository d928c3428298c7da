//! The command line: a fault-injected run (the default) or `bench`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status when every operation of the history fits a linearization.
pub const EXIT_LINEARIZABLE: u8 = 0;
/// Exit status when the history is not linearizable.
pub const EXIT_NOT_LINEARIZABLE: u8 = 1;
/// Exit status of a usage error (clap's own).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the checker timed out before a verdict.
pub const EXIT_UNKNOWN: u8 = 3;
/// Exit status when the run itself failed (a server would not start, a file
/// could not be written).
pub const EXIT_FAILED: u8 = 4;

const EXIT_CODES: &str = "\
Exit status: 0 the history is linearizable, 1 it is not, 2 bad flags,
3 the check timed out (unknown), 4 the run or its output failed.

The seed fixes the fault schedule (which fault, when, for how long, and
which servers, except that \"the leader\" is whoever leads at that moment)
and each client's sequence of operations. Threads still interleave as they
please, so the network's drops and delays and the exact history differ
from run to run.

RUST_LOG=raft=debug (or any target) prints log lines on stderr;
LAB_LOG_DIR=DIR writes a debug log file for the run there.";

/// A fault-injected Put/Append/Get cluster on the simulated network: clients
/// run against it while servers crash and the network drops, delays and
/// partitions, then porcupine checks the recorded history for
/// linearizability.
#[derive(Parser, Debug)]
#[command(name = "kvsim", version, after_help = EXIT_CODES)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// `bench` for the fault-free benchmark; no subcommand for a checked run.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of the checked run.
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Latency and throughput without faults: 1, 8 and 64 clients on 3 and 5
    /// servers, beside the labrpc round trip, as a table and as JSON.
    Bench(BenchArgs),
}

/// Flags of a checked run.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Number of KV servers.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=15))]
    pub servers: u16,
    /// Number of concurrent clients (one Clerk each).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub clients: u16,
    /// How long the clients run, in seconds.
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Faults to inject, comma-separated: none, unreliable, partitions, crashes, all.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub faults: Vec<FaultKind>,
    /// Seed of the fault schedule and the clients' choices (default: random,
    /// printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: kvsim-out/<time>-seed<seed>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Snapshot when the persisted Raft state reaches this many bytes; `off`
    /// (or -1) never snapshots.
    #[arg(long, default_value = "1000", value_parser = parse_maxraftstate, allow_hyphen_values = true)]
    pub maxraftstate: MaxRaftState,
    /// Fraction of operations that are Gets (the rest are Appends and Puts, 3:1).
    #[arg(long, default_value_t = 0.5, value_parser = parse_ratio)]
    pub read_ratio: f64,
    /// Number of distinct keys the clients use.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub keys: u32,
    /// Give the linearizability check this many seconds before the verdict is
    /// "unknown".
    #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
    pub check_timeout: f64,
}

/// Flags of the benchmark.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Seconds each (servers, clients) case runs after its warm-up.
    #[arg(long, default_value_t = 3.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Server counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "3,5",
          value_parser = clap::value_parser!(u16).range(1..=15))]
    pub servers: Vec<u16>,
    /// Client counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub clients: Vec<u16>,
    /// Snapshot when the persisted Raft state reaches this many bytes; `off`
    /// (or -1) never snapshots. The default holds a few batches of entries,
    /// so followers catch up by AppendEntries rather than InstallSnapshot,
    /// while every persist (which writes the whole Raft state) stays small.
    #[arg(long, default_value = "4096", value_parser = parse_maxraftstate, allow_hyphen_values = true)]
    pub maxraftstate: MaxRaftState,
    /// Fraction of operations that are Gets.
    #[arg(long, default_value_t = 0.5, value_parser = parse_ratio)]
    pub read_ratio: f64,
    /// Number of distinct keys.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub keys: u32,
    /// Seed of the clients' choices (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder for bench.json (default: kvsim-out/<time>-bench).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// A kind of fault the run injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FaultKind {
    /// No faults at all.
    None,
    /// Drop 10% of requests and of replies, delay requests 0–26 ms.
    Unreliable,
    /// Split the servers (isolate the leader, random splits, cut one off).
    Partitions,
    /// Crash and restart servers (the leader, a minority, or all at once).
    Crashes,
    /// All of the above.
    All,
}

/// The set of faults a run injects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Unreliable network for the whole run.
    pub unreliable: bool,
    /// Partitions come and go.
    pub partitions: bool,
    /// Servers crash and restart.
    pub crashes: bool,
}

impl Faults {
    /// The union of the kinds named on the command line (`none` adds nothing).
    pub fn from_kinds(kinds: &[FaultKind]) -> Faults {
        let mut faults = Faults::default();
        for kind in kinds {
            match kind {
                FaultKind::None => {}
                FaultKind::Unreliable => faults.unreliable = true,
                FaultKind::Partitions => faults.partitions = true,
                FaultKind::Crashes => faults.crashes = true,
                FaultKind::All => {
                    faults = Faults {
                        unreliable: true,
                        partitions: true,
                        crashes: true,
                    }
                }
            }
        }
        faults
    }

    /// A short description, e.g. `unreliable+partitions+crashes`.
    pub fn describe(self) -> String {
        let names: Vec<&str> = [
            (self.unreliable, "unreliable"),
            (self.partitions, "partitions"),
            (self.crashes, "crashes"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join("+")
        }
    }
}

/// The snapshot threshold: `None` never snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxRaftState(pub Option<usize>);

impl std::fmt::Display for MaxRaftState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(bytes) => write!(f, "{bytes} bytes"),
            None => f.write_str("off"),
        }
    }
}

fn parse_maxraftstate(text: &str) -> Result<MaxRaftState, String> {
    match text.trim() {
        "off" | "-1" => Ok(MaxRaftState(None)),
        number => match number.parse::<usize>() {
            Ok(0) => Err("must be at least 1 byte (or `off`)".to_string()),
            Ok(bytes) => Ok(MaxRaftState(Some(bytes))),
            Err(_) => Err(format!(
                "expected a number of bytes or `off`, got {number:?}"
            )),
        },
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of seconds, got {text:?}"))?;
    if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
        Ok(seconds)
    } else {
        Err(format!(
            "must be more than 0 and at most 86400 seconds, got {text}"
        ))
    }
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    let ratio: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a fraction between 0 and 1, got {text:?}"))?;
    if (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(format!("must be between 0 and 1, got {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `all` switches every fault on, `none` none, and lists combine.
    #[test]
    fn fault_kinds_combine() {
        assert_eq!(Faults::from_kinds(&[FaultKind::None]), Faults::default());
        assert_eq!(Faults::default().describe(), "none");
        assert_eq!(
            Faults::from_kinds(&[FaultKind::All]).describe(),
            "unreliable+partitions+crashes"
        );
        let some = Faults::from_kinds(&[FaultKind::Crashes, FaultKind::Unreliable]);
        assert!(some.crashes && some.unreliable && !some.partitions);
    }

    /// Out-of-range values are refused with a message, not clamped.
    #[test]
    fn bad_values_are_refused() {
        assert!(parse_ratio("1.5").is_err());
        assert!(parse_ratio("x").is_err());
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-3").is_err());
        assert!(parse_seconds("NaN").is_err());
        assert!(parse_maxraftstate("0").is_err());
        assert_eq!(parse_maxraftstate("off"), Ok(MaxRaftState(None)));
        assert_eq!(parse_maxraftstate("-1"), Ok(MaxRaftState(None)));
        assert_eq!(parse_maxraftstate("2000"), Ok(MaxRaftState(Some(2000))));
    }

    /// The derive's own consistency checks (conflicting names, bad defaults).
    #[test]
    fn command_line_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
