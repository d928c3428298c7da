//! `kvsim`: the main job. Starts classic Put/Append/Get KV servers on the
//! simulated network, runs clients against them while it injects faults
//! (unreliable network, partitions, crashes and restarts, with snapshots on),
//! shows live progress, then checks the recorded history for
//! linearizability with porcupine and writes the history (porcupine's JSON
//! format) and its HTML picture into an output folder it names.
//!
//! `kvsim bench` measures latency and throughput without faults instead.
//!
//! ```text
//! cargo run --release -p kvraft --bin kvsim                 # 5 servers, 10 s, all faults
//! cargo run --release -p kvraft --bin kvsim -- --help
//! cargo run --release -p kvraft --bin kvsim -- bench
//! ```

mod bench;
mod cli;
mod cluster;
mod cpu;
mod faults;
mod interrupt;
mod output;
mod progress;
mod run;
mod stats;
mod verdict;
mod workload;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, EXIT_FAILED, EXIT_USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version print to stdout and succeed; usage errors
            // print clap's message with the usage line and fail.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    if labrt::simulated() {
        eprintln!(
            "kvsim: runs in real time (a live display, Ctrl-C); unset {} to run it",
            labrt::SIM_VAR
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let interrupts = match interrupt::install() {
        Ok(interrupts) => interrupts,
        Err(error) => {
            eprintln!("kvsim: cannot install the Ctrl-C handler: {error}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let status = match &cli.command {
        Some(Command::Bench(args)) => bench::bench(args, &interrupts),
        None => run::run(&cli.run, &interrupts),
    };
    ExitCode::from(status)
}
