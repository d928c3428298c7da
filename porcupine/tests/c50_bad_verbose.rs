//! Follows DATA.md's hazard note on kv/c50-bad (no upstream test does this): a verbose
//! check cannot finish (keys 0 and 9 are undecidable in practice), so with a 10 s timeout
//! it must come back Illegal (keys 1-8 are illegal) in about 10 s, within 2 GB.
//! Its own test binary, so the peak memory measured is this check's.

mod common;

use std::time::{Duration, Instant};

use common::kv_history;
use porcupine::models::kv::KvModel;
use porcupine::{CheckResult, PartitionVerdict, check_operations_verbose};

/// Peak resident memory of this process (VmHWM), in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kilobytes: u64 = line
        .split_whitespace()
        .nth(1)
        .expect("value")
        .parse()
        .expect("number");
    kilobytes * 1024
}

/// Verbose c50-bad with a 10 s timeout: Illegal, about 10 s, under 2 GB, and partial
/// linearizations for every key.
#[test]
fn c50_bad_verbose_times_out_illegal_within_memory() {
    let history = kv_history("kv/c50-bad.txt");
    let started = Instant::now();
    let (result, info) =
        check_operations_verbose(&KvModel, &history, Some(Duration::from_secs(10)));
    let elapsed = started.elapsed();
    assert_eq!(result, CheckResult::Illegal);
    assert!(elapsed < Duration::from_secs(12), "took {elapsed:?}");
    let peak = peak_memory();
    assert!(peak < 2 << 30, "peak memory {peak} bytes");
    let verdicts: Vec<PartitionVerdict> = info.partitions().iter().map(|p| p.verdict).collect();
    assert_eq!(verdicts.len(), 10);
    assert!(verdicts.contains(&PartitionVerdict::Illegal));
    assert!(
        info.partitions()
            .iter()
            .all(|p| !p.partial_linearizations.is_empty())
    );
    eprintln!(
        "c50-bad verbose: {elapsed:?}, peak {} MB, verdicts {verdicts:?}",
        peak >> 20
    );
}
