//! Command-line arguments.

use std::path::PathBuf;

use clap::Parser;

/// Run chosen tests many times, in parallel, each run with a fresh LAB_SEED;
/// keep the logs of failing runs; print a table and write JUnit XML and JSON.
///
/// Example: `cargo run -p labtools --release --bin dstest -- -p raft 3a -n 100 -j 2`
#[derive(Debug, Parser)]
#[command(name = "dstest", version, after_help = AFTER_HELP)]
pub struct Args {
    /// Run only tests whose names contain one of these (case-insensitive), like
    /// `cargo test FILTER`; with --exact, names equal to one of them.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,

    /// Crate whose tests to run (repeatable).
    #[arg(short = 'p', long = "package", value_name = "CRATE")]
    pub packages: Vec<String>,

    /// Run the tests of every crate of the workspace.
    #[arg(long, conflicts_with = "packages")]
    pub workspace: bool,

    /// Only this integration-test target (tests/<NAME>.rs; repeatable), as in `cargo test --test`.
    #[arg(long = "test", value_name = "NAME")]
    pub test_targets: Vec<String>,

    /// Only the library's unit tests, as in `cargo test --lib`.
    #[arg(long)]
    pub lib: bool,

    /// The workspace's Cargo.toml (default: the one cargo finds from here).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Filters must equal the test name (e.g. `tests::foo` or `initial_election_3a`).
    #[arg(long)]
    pub exact: bool,

    /// Leave out tests whose names contain this (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,

    /// Also run tests marked #[ignore].
    #[arg(long)]
    pub include_ignored: bool,

    /// How many times to run each test.
    #[arg(short = 'n', long, default_value_t = 10, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,

    /// How many runs at once.
    #[arg(short = 'j', long, default_value_t = 1, value_name = "J",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,

    /// Run the tests that built even if other targets did not compile; the
    /// missing ones make the exit status 1.
    #[arg(long)]
    pub keep_going: bool,

    /// Build the tests with --release.
    #[arg(long)]
    pub release: bool,

    /// Run every test simulated (LAB_SIM=1): one thread at a time in virtual
    /// time, so a failing run's seed replays it exactly (docs/SIMULATION.md).
    #[arg(long)]
    pub sim: bool,

    /// With --sim, for a failing swarm test (swarm_*), at most this many
    /// extra runs spent finding the smallest configuration that still fails
    /// (fewer peers, fewer fault kinds, a shorter run); 0 turns it off.
    #[arg(long, default_value_t = 60, value_name = "RUNS")]
    pub shrink_runs: u32,

    /// Give every run this LAB_SEED instead of a fresh random one (to replay a failure).
    #[arg(long, value_name = "SEED")]
    pub seed: Option<u64>,

    /// Kill a run that takes longer than this many seconds (it counts as failed).
    #[arg(long, default_value_t = 600, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Cap the runs of each suite at once as nextest profile PROFILE of
    /// .config/nextest.toml does with its test groups (e.g. `--caps fast`, with
    /// -j large enough to fill them).
    #[arg(long, value_name = "PROFILE")]
    pub caps: Option<String>,

    /// Stop starting new runs after the first failure.
    #[arg(long)]
    pub fail_fast: bool,

    /// Where results go: results.json, junit.xml and failures/
    /// [default: <workspace>/out/dstest/<UTC date-time>].
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Where runs write their output and per-test debug logs while running
    /// (each run gets LAB_LOG_DIR=<DIR>/<run>); passing runs' files are deleted,
    /// failing runs' moved to <output>/failures [default: <output>/scratch].
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Do not ask the runs for per-test debug logs (keeps only stdout and stderr).
    #[arg(long)]
    pub no_debug_log: bool,

    /// TOML file of points per test (see docs/DEBUGGING.md); prints a score
    /// table. Without -p/--workspace it chooses the crates, and without
    /// FILTERs it chooses the tests.
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,

    /// Print the tests that would run, and exit.
    #[arg(long)]
    pub list: bool,
}

const AFTER_HELP: &str = "\
Exit status: 0 if every run passed, 1 if any run failed, 2 on a usage error or
when the tests could not be built, listed or started.

Replay a failing run with the command printed for it, e.g.
  LAB_SEED=123 cargo test -p raft --test raft_3a -- --exact initial_election_3a
A seed fixes the network's and tester's random choices, not the threads' interleaving.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_command_line_parses() {
        let args =
            Args::try_parse_from(["dstest", "-p", "raft", "3a", "-n", "100", "-j", "2"]).unwrap();
        assert_eq!(args.packages, ["raft"]);
        assert_eq!(args.filters, ["3a"]);
        assert_eq!((args.iterations, args.jobs), (100, 2));
        assert_eq!(args.timeout, 600);
    }

    #[test]
    fn zero_iterations_and_conflicts_are_usage_errors() {
        assert!(Args::try_parse_from(["dstest", "-n", "0"]).is_err());
        assert!(Args::try_parse_from(["dstest", "-j", "0"]).is_err());
        assert!(Args::try_parse_from(["dstest", "--workspace", "-p", "raft"]).is_err());
        assert!(Args::try_parse_from(["dstest", "--seed", "x"]).is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
