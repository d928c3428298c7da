//! A checked run: start the cluster, run the clients under the fault
//! schedule, stop cleanly, write the history, check it, report.

use labrt::time::{Duration, Instant};
use std::path::Path;

use labrt::channel::{self, Receiver, after, tick};
use labrt::select;
use porcupine::CheckResult;
use serde::Serialize;
use tester::annotate;

use crate::cli::{
    EXIT_FAILED, EXIT_LINEARIZABLE, EXIT_NOT_LINEARIZABLE, EXIT_UNKNOWN, Faults, RunArgs,
};
use crate::cluster::Cluster;
use crate::faults::{FaultEvent, FaultSchedule};
use crate::interrupt;
use crate::output;
use crate::progress::{self, Progress, Snapshot};
use crate::stats::Latency;
use crate::verdict;
use crate::workload::{ClientLog, Clients, KvOperation, Mix};

/// After the faults are mended, how long the clients get to finish the
/// operations they have in flight; past it the network is shut down and
/// unfinished writes stay in the history with unknown outcomes.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// How long the verbose check that draws the picture may search, after the
/// plain check gave its verdict (when the verdict is "unknown", the picture
/// gets only a short try).
const DRAW_BUDGET: Duration = Duration::from_secs(20);
const DRAW_BUDGET_UNDECIDED: Duration = Duration::from_secs(5);

/// File names inside the output folder.
const HISTORY_FILE: &str = "history.json";
const HTML_FILE: &str = "history.html";
const SUMMARY_FILE: &str = "summary.json";

/// Runs, checks and reports; returns the exit status.
pub fn run(args: &RunArgs, interrupts: &Receiver<()>) -> u8 {
    let seed = args.seed.unwrap_or_else(labrt::rand::random_u64);
    labrpc::rng::reseed(seed);
    // RUST_LOG selects log lines on stderr; LAB_LOG_DIR writes a debug log file.
    tester::logging::start_test("kvsim", seed);
    let folder = match output::create_folder(args.out.as_deref(), &format!("seed{seed}")) {
        Ok(folder) => folder,
        Err(error) => {
            eprintln!("kvsim: cannot create the output folder: {error}");
            return EXIT_FAILED;
        }
    };
    let faults = Faults::from_kinds(&args.faults);
    let servers = usize::from(args.servers);
    let parameters = format!(
        "{servers} servers, {} clients, {} s, faults: {}, maxraftstate: {}, read ratio {}, {} keys, seed {seed}",
        args.clients,
        args.seconds,
        faults.describe(),
        args.maxraftstate,
        args.read_ratio,
        args.keys
    );
    println!("kvsim: {parameters}");
    println!("output: {}", folder.display());

    let cluster = Cluster::start(servers, args.maxraftstate.0);
    // The timeline starts once every server is up and connected, so start-up
    // does not show as a string of faults.
    annotate::test(&format!("kvsim: {parameters};"), servers);
    let schedule = FaultSchedule::start(
        cluster.group().clone(),
        cluster.net().clone(),
        faults,
        labrpc::rng::child(),
    );
    let mix = Mix {
        keys: args.keys,
        read_ratio: args.read_ratio,
    };
    let clients = Clients::start(&cluster, usize::from(args.clients), mix);
    let started = Instant::now();

    let planned = Duration::from_secs_f64(args.seconds);
    let interrupted = watch(&cluster, &schedule, &clients, planned, interrupts);
    let ran = started.elapsed();

    clients.stop();
    let fault_events = schedule.stop();
    let logs = drain(clients, &cluster, interrupts);
    cluster.shut_down();
    interrupt::set_finishing();
    // A server that could not restart leaves the run incomplete, but what
    // was recorded is still worth checking and writing.
    let start_failure = cluster.start_failure();

    let recorded = Recorded::gather(logs);
    let annotations = annotate::annotations();
    let history_path = folder.join(HISTORY_FILE);
    if let Err(error) = verdict::write_history(&history_path, &recorded.operations, &annotations) {
        eprintln!("kvsim: cannot write {}: {error}", history_path.display());
        return EXIT_FAILED;
    }
    println!(
        "checking {} operations for linearizability...",
        recorded.operations.len()
    );
    let checked = verdict::check(
        &recorded.operations,
        Duration::from_secs_f64(args.check_timeout),
    );
    let html_path = folder.join(HTML_FILE);
    let budget = match checked.result {
        CheckResult::Unknown => DRAW_BUDGET_UNDECIDED,
        _ => DRAW_BUDGET,
    };
    let drawing = verdict::draw(
        &html_path,
        &recorded.operations,
        &annotate::annotations(),
        budget,
    );

    let latency = Latency::of(recorded.latencies_ns.clone());
    let summary = Summary {
        parameters: &parameters,
        seed,
        interrupted,
        seconds: ran.as_secs_f64(),
        verdict: checked.result,
        check_seconds: checked.took.as_secs_f64(),
        completed: recorded.completed,
        unknown_outcome_writes: recorded.pending,
        ops_per_second: recorded.completed as f64 / ran.as_secs_f64(),
        latency,
        faults: &fault_events,
    };
    summary.print(&checked, drawing.as_ref().ok());
    let summary_path = folder.join(SUMMARY_FILE);
    let summary_written = write_json(&summary_path, &summary);

    println!("files:");
    println!(
        "  {}  (the history; re-check it with: cargo run --release -p porcupine -- check {})",
        history_path.display(),
        history_path.display()
    );
    tester::logging::finish_test(checked.result != CheckResult::Ok);
    if let Some(log) = tester::logging::log_path() {
        println!("  {}  (the debug log)", log.display());
    }
    let all_written = report_file(
        &html_path,
        drawing.map(|_| ()),
        "the picture: operations, linearization, faults; open it in a browser",
    ) & report_file(&summary_path, summary_written, "these figures as JSON");

    if let Some(failure) = &start_failure {
        eprintln!("kvsim: a server could not restart: {failure}");
    }
    match checked.result {
        CheckResult::Illegal => EXIT_NOT_LINEARIZABLE,
        _ if !all_written || start_failure.is_some() => EXIT_FAILED,
        CheckResult::Ok => EXIT_LINEARIZABLE,
        CheckResult::Unknown => EXIT_UNKNOWN,
    }
}

/// Shows progress until the planned time is up or Ctrl-C; true if interrupted.
fn watch(
    cluster: &Cluster,
    schedule: &FaultSchedule,
    clients: &Clients,
    planned: Duration,
    interrupts: &Receiver<()>,
) -> bool {
    let mut display = Progress::start(planned);
    let deadline = after(planned);
    let refresh = tick(progress::REFRESH);
    let interrupted = loop {
        select! {
            recv(deadline) -> _ => break false,
            recv(interrupts) -> _ => break true,
            recv(refresh) -> _ => {
                let fault = schedule.status();
                display.update(&Snapshot {
                    completed: clients.counters().completed.load(std::sync::atomic::Ordering::Relaxed),
                    leader: cluster.leader(),
                    fault: &fault,
                });
            }
        }
    };
    let completed = clients
        .counters()
        .completed
        .load(std::sync::atomic::Ordering::Relaxed);
    let why = if interrupted {
        "interrupted"
    } else {
        "time is up"
    };
    display.finish(
        &format!("{why}: {completed} operations; mending faults and letting the clients finish"),
        interrupted,
    );
    interrupted
}

/// Waits for the stopped clients to finish their last operations; if they
/// cannot within [`DRAIN_GRACE`] (or on Ctrl-C), shuts the network down so
/// their calls fail, and collects what they recorded.
fn drain(clients: Clients, cluster: &Cluster, interrupts: &Receiver<()>) -> Vec<ClientLog> {
    let (done_tx, done_rx) = channel::bounded(1);
    let joiner = labrt::thread::Builder::new()
        .name("kvsim-join".to_string())
        .spawn(move || {
            let _ = done_tx.send(clients.join());
        })
        .expect("spawn the joining thread");
    let finished = select! {
        recv(done_rx) -> logs => logs.ok(),
        recv(after(DRAIN_GRACE)) -> _ => None,
        recv(interrupts) -> _ => None,
    };
    let logs = match finished {
        Some(logs) => logs,
        None => {
            eprintln!("some clients are still waiting: shutting the network down");
            cluster.shut_down();
            done_rx
                .recv()
                .expect("the joining thread sends the clients' logs")
        }
    };
    joiner.join().expect("the joining thread panicked");
    logs
}

/// Every client's operations in one history.
struct Recorded {
    operations: Vec<KvOperation>,
    latencies_ns: Vec<u64>,
    completed: usize,
    pending: usize,
}

impl Recorded {
    fn gather(logs: Vec<ClientLog>) -> Recorded {
        let mut recorded = Recorded {
            operations: Vec::new(),
            latencies_ns: Vec::new(),
            completed: 0,
            pending: 0,
        };
        for log in logs {
            recorded.completed += log.latencies_ns.len();
            recorded.pending += log.operations.len() - log.latencies_ns.len();
            recorded.operations.extend(log.operations);
            recorded.latencies_ns.extend(log.latencies_ns);
        }
        recorded
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    parameters: &'a str,
    seed: u64,
    interrupted: bool,
    seconds: f64,
    verdict: CheckResult,
    check_seconds: f64,
    completed: usize,
    unknown_outcome_writes: usize,
    ops_per_second: f64,
    latency: Latency,
    faults: &'a [FaultEvent],
}

impl Summary<'_> {
    fn print(&self, checked: &verdict::Checked, drawing: Option<&verdict::Drawing>) {
        println!(
            "verdict: {} ({} operations checked in {:.2} s)",
            checked.describe(),
            self.completed + self.unknown_outcome_writes,
            self.check_seconds
        );
        if let Some(drawing) = drawing {
            for culprit in &drawing.culprits {
                println!("  cannot be placed: {culprit}");
            }
            if !drawing.complete {
                println!(
                    "  (the picture's search ran out of time: some partitions show as undecided)"
                );
            }
        }
        if checked.result == CheckResult::Unknown {
            println!(
                "  the checker needs more time for this history: give it --check-timeout, or make the \
                 history easier to check with fewer --clients or more --keys"
            );
        }
        println!(
            "operations: {} completed, {} writes cut off with unknown outcome, {:.0} ops/s over {:.1} s{}",
            self.completed,
            self.unknown_outcome_writes,
            self.ops_per_second,
            self.seconds,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
        println!("latency: {}", self.latency.describe());
        println!("faults injected: {}", self.faults.len());
        for fault in self.faults {
            println!(
                "  at {:5.1} s for {:.1} s: {}",
                fault.at_seconds, fault.seconds, fault.description
            );
        }
        println!(
            "seed: {} (replay the schedule with --seed {})",
            self.seed, self.seed
        );
    }
}

fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Says where a file went, or why it could not be written; true if written.
fn report_file(path: &Path, written: std::io::Result<()>, what: &str) -> bool {
    match written {
        Ok(()) => {
            println!("  {}  ({what})", path.display());
            true
        }
        Err(error) => {
            eprintln!("kvsim: cannot write {}: {error}", path.display());
            false
        }
    }
}
