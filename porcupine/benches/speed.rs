//! Speed per data file: this crate against the Go original (BASELINE.md's medians, measured
//! on this kind of machine) and against the crates.io crate porcupine-rs 0.3.0 run here on
//! the same histories with the same model code.
//!
//! `cargo bench -p porcupine --bench speed [-- SUBSTRING]` prints a Markdown table.
//! Each figure is the median of repeated non-verbose checks without timeout (parsing
//! excluded), after one warm-up run; repetitions stop after ~0.3 s (at least 3 runs).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use porcupine::formats::{jepsen_etcd, jepsen_kv};
use porcupine::models::etcd::{EtcdInput, EtcdModel, EtcdOutput};
use porcupine::models::kv::{KvInput, KvMapState, KvModel, KvNoPartitionModel, KvOutput, KvState};
use porcupine::{CheckOptions, CheckResult, Model, Operation, check, events_to_operations};

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata"))
}

// ------------------------------------------------------------------ porcupine-rs models
// The same step functions as ours, so the comparison is about the checkers.

#[derive(Clone)]
struct RsEtcd;
impl porcupine_rs::Model for RsEtcd {
    type State = Option<i64>;
    type Op = (EtcdInput, EtcdOutput);
    type Metadata = ();
    fn init() -> Option<i64> {
        None
    }
    fn step(state: &Option<i64>, op: &(EtcdInput, EtcdOutput)) -> (bool, Option<i64>) {
        match EtcdModel.step(state, &op.0, &op.1) {
            Some(next) => (true, next),
            None => (false, *state),
        }
    }
}

#[derive(Clone)]
struct RsKv;
impl porcupine_rs::Model for RsKv {
    type State = KvState;
    type Op = (KvInput, KvOutput);
    type Metadata = ();
    fn partition_operations(
        history: &[porcupine_rs::Operation<Self>],
    ) -> Vec<Vec<porcupine_rs::Operation<Self>>> {
        let mut by_key: std::collections::BTreeMap<&str, Vec<porcupine_rs::Operation<Self>>> =
            Default::default();
        for op in history {
            by_key
                .entry(op.op.0.key.as_str())
                .or_default()
                .push(op.clone());
        }
        by_key.into_values().collect()
    }
    fn init() -> KvState {
        KvModel.init()
    }
    fn step(state: &KvState, op: &(KvInput, KvOutput)) -> (bool, KvState) {
        match KvModel.step(state, &op.0, &op.1) {
            Some(next) => (true, next),
            None => (false, state.clone()),
        }
    }
}

/// porcupine-rs models have no `self`: one shared instance of our model serves them.
static NO_PARTITION: std::sync::LazyLock<KvNoPartitionModel> =
    std::sync::LazyLock::new(KvNoPartitionModel::new);

#[derive(Clone)]
struct RsKvNoPartition;
impl porcupine_rs::Model for RsKvNoPartition {
    type State = KvMapState;
    type Op = (KvInput, KvOutput);
    type Metadata = ();
    fn init() -> KvMapState {
        NO_PARTITION.init()
    }
    fn step(state: &KvMapState, op: &(KvInput, KvOutput)) -> (bool, KvMapState) {
        match NO_PARTITION.step(state, &op.0, &op.1) {
            Some(next) => (true, next),
            None => (false, state.clone()),
        }
    }
}

fn to_rs<R, I: Clone, O: Clone>(history: &[Operation<I, O>]) -> Vec<porcupine_rs::Operation<R>>
where
    R: porcupine_rs::Model<Op = (I, O), Metadata = ()>,
{
    history
        .iter()
        .map(|op| porcupine_rs::Operation {
            client_id: Some(op.client_id as u32),
            call_time: op.call,
            return_time: op.return_time,
            op: (op.input.clone(), op.output.clone()),
            metadata: None,
        })
        .collect()
}

// ------------------------------------------------------------------ timing

/// Median and minimum wall time of `run` (after one warm-up), repeated for ~0.3 s, at
/// least 3 times.
fn median_time(mut run: impl FnMut()) -> (Duration, Duration) {
    let started = Instant::now();
    run();
    let warm_up = started.elapsed();
    let mut samples = Vec::new();
    let budget = Duration::from_millis(300);
    let spent = Instant::now();
    while samples.len() < 3 || (spent.elapsed() < budget && samples.len() < 500) {
        if warm_up > Duration::from_secs(5) && samples.len() >= 3 {
            break;
        }
        let started = Instant::now();
        run();
        samples.push(started.elapsed());
    }
    samples.sort();
    (samples[samples.len() / 2], samples[0])
}

fn fmt(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros >= 1e6 {
        format!("{:.2} s", micros / 1e6)
    } else if micros >= 1e3 {
        format!("{:.2} ms", micros / 1e3)
    } else {
        format!("{micros:.0} µs")
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = text.trim().split_once(' ')?;
    let value: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => value,
        "ms" => value / 1e3,
        "µs" => value / 1e6,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// BASELINE.md rows: name -> (single-check median, bench median, Go steps).
fn baseline() -> HashMap<String, (Option<Duration>, Option<Duration>, String)> {
    let text = std::fs::read_to_string(data_dir().join("BASELINE.md")).expect("BASELINE.md");
    let mut rows = HashMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() == 11 && (cells[0].starts_with("etcd_") || cells[0].starts_with("kv")) {
            rows.insert(
                cells[0].to_string(),
                (
                    parse_duration(cells[4]),
                    parse_duration(cells[5]),
                    cells[7].to_string(),
                ),
            );
        }
    }
    rows
}

struct Row {
    name: String,
    ops: usize,
    result: CheckResult,
    ours: Duration,
    ours_min: Duration,
    steps: u64,
    attempts: u64,
    theirs: Option<Duration>,
}

/// A porcupine-rs timing, run after all of ours so that anything it leaves running
/// cannot slow our measurements down.
type TheirJob = Box<dyn FnOnce() -> Option<Duration>>;

fn measure<M: Model, R>(
    name: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    rs: Option<Vec<porcupine_rs::Operation<R>>>,
) -> (Row, Option<TheirJob>)
where
    M::Input: Clone,
    M::Output: Clone,
    R: porcupine_rs::Model + 'static,
{
    let outcome = check(model, history, &CheckOptions::default());
    let (ours, ours_min) = median_time(|| {
        std::hint::black_box(check(model, history, &CheckOptions::default()).result);
    });
    let expected_ok = outcome.result == CheckResult::Ok;
    let label = name.to_string();
    let job = rs.map(|rs_history| -> TheirJob {
        Box::new(move || {
            // porcupine-rs may not cancel its other partitions fairly: give its first run
            // 20 s on a helper thread before timing it.
            let (verdict_tx, verdict_rx) = std::sync::mpsc::channel();
            let first = rs_history.clone();
            std::thread::spawn(move || {
                let _ = verdict_tx.send(porcupine_rs::check_operations(&first));
            });
            let verdict = verdict_rx.recv_timeout(Duration::from_secs(20)).ok()?;
            assert_eq!(verdict, expected_ok, "{label}: porcupine-rs disagrees");
            Some(
                median_time(|| {
                    std::hint::black_box(porcupine_rs::check_operations(&rs_history));
                })
                .0,
            )
        })
    });
    let row = Row {
        name: name.to_string(),
        ops: history.len(),
        result: outcome.result,
        ours,
        ours_min,
        steps: outcome.steps,
        attempts: outcome.attempts,
        theirs: None,
    };
    (row, job)
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let wanted = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let go = baseline();
    let mut rows = Vec::new();
    let mut jobs: Vec<(usize, TheirJob)> = Vec::new();
    let mut record = |(row, job): (Row, Option<TheirJob>)| {
        eprintln!("{} done", row.name);
        if let Some(job) = job {
            jobs.push((rows.len(), job));
        }
        rows.push(row);
    };

    let mut etcd_files: Vec<PathBuf> = std::fs::read_dir(data_dir().join("jepsen"))
        .expect("jepsen folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    etcd_files.sort();
    for path in etcd_files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if !wanted(&name) {
            continue;
        }
        let events = jepsen_etcd::parse(&std::fs::read_to_string(&path).unwrap()).expect("parse");
        let history = events_to_operations(events, |i| EtcdModel.unknown_output(i)).unwrap();
        let rs = to_rs::<RsEtcd, _, _>(&history);
        record(measure(&name, &EtcdModel, &history, Some(rs)));
    }
    for file in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        let text = std::fs::read_to_string(data_dir().join(format!("kv/{file}.txt"))).unwrap();
        let events = jepsen_kv::parse(&text).expect("parse");
        let history = events_to_operations(events, |i| KvModel.unknown_output(i)).unwrap();
        let name = format!("kv/{file}");
        if wanted(&name) {
            let rs = to_rs::<RsKv, _, _>(&history);
            record(measure(&name, &KvModel, &history, Some(rs)));
        }
        let name = format!("kv-nopartition/{file}");
        if !file.starts_with("c50") && wanted(&name) {
            let rs = to_rs::<RsKvNoPartition, _, _>(&history);
            record(measure(
                &name,
                &KvNoPartitionModel::new(),
                &history,
                Some(rs),
            ));
        }
    }
    for (index, job) in jobs {
        rows[index].theirs = job();
        eprintln!("{} (porcupine-rs) done", rows[index].name);
    }

    println!(
        "| data set | ops | result | Go single check | Go bench | ours (median) | ours (min) | faster Go / ours | porcupine-rs 0.3.0 | porcupine-rs / ours | our model steps | our attempts | Go steps |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut total_ours, mut total_go, mut total_rs) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for row in &rows {
        let (go_single, go_bench, go_steps) =
            go.get(&row.name)
                .cloned()
                .unwrap_or((None, None, "-".into()));
        // Conservative: the faster of Go's two medians.
        let go_ref = match (go_bench, go_single) {
            (Some(bench), Some(single)) => Some(bench.min(single)),
            (bench, single) => bench.or(single),
        };
        total_ours += row.ours;
        total_go += go_ref.unwrap_or_default();
        total_rs += row.theirs.unwrap_or_default();
        println!(
            "| {} | {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.ops,
            row.result,
            go_single.map_or("-".into(), fmt),
            go_bench.map_or("-".into(), fmt),
            fmt(row.ours),
            fmt(row.ours_min),
            go_ref.map_or("-".into(), |go| format!(
                "{:.1}×",
                go.as_secs_f64() / row.ours.as_secs_f64()
            )),
            row.theirs.map_or("-".into(), fmt),
            row.theirs.map_or("-".into(), |t| format!(
                "{:.1}×",
                t.as_secs_f64() / row.ours.as_secs_f64()
            )),
            row.steps,
            row.attempts,
            go_steps,
        );
    }
    println!(
        "\nTotals: ours {}, Go (the faster of its two medians) {}, porcupine-rs {}",
        fmt(total_ours),
        fmt(total_go),
        fmt(total_rs)
    );
}
