//! Follows upstream Porcupine's data-file tests (`porcupine_test.go`: TestEtcdJepsenNNN,
//! TestKv*Clients*, TestKvNoPartition*): every file in porcupine/testdata checked
//! against the verdicts, step counts and partial-linearization lengths DATA.md records.

mod common;

use std::time::{Duration, Instant};

use common::{etcd_expectations, etcd_history, kv_history, kv_key_expectations};
use porcupine::models::etcd::EtcdModel;
use porcupine::models::kv::{KvModel, KvNoPartitionModel};
use porcupine::{CheckOptions, CheckResult, check, check_operations, check_operations_verbose};

fn expected(linearizable: bool) -> CheckResult {
    if linearizable {
        CheckResult::Ok
    } else {
        CheckResult::Illegal
    }
}

/// Every etcd log gets upstream's verdict (the empty etcd_095 is linearizable).
#[test]
fn etcd_files_match_upstream_verdicts() {
    for row in etcd_expectations() {
        let history = etcd_history(&row.file);
        assert_eq!(history.len(), row.ops, "{}: operation count", row.file);
        let result = check_operations(&EtcdModel, &history, None);
        assert_eq!(result, expected(row.linearizable), "{}", row.file);
    }
}

/// The search makes no more model step calls than Go's on any etcd log.
#[test]
fn etcd_step_counts_no_higher_than_go() {
    for row in etcd_expectations() {
        let history = etcd_history(&row.file);
        let outcome = check(&EtcdModel, &history, &CheckOptions::default());
        assert!(
            outcome.steps <= row.go_steps,
            "{}: {} steps, Go needs {}",
            row.file,
            outcome.steps,
            row.go_steps
        );
    }
}

/// The verbose check finds upstream's longest partial linearization on every etcd log
/// (the whole history when it is linearizable).
#[test]
fn etcd_verbose_longest_partial_matches() {
    for row in etcd_expectations() {
        let history = etcd_history(&row.file);
        let (result, info) = check_operations_verbose(&EtcdModel, &history, None);
        assert_eq!(result, expected(row.linearizable), "{}", row.file);
        let partials = info.partial_linearizations();
        let longest = partials.iter().flatten().map(Vec::len).max().unwrap_or(0);
        assert_eq!(
            longest, row.longest_partial,
            "{}: longest partial linearization",
            row.file
        );
    }
}

/// The verbose check of etcd_070 (upstream's visualisation test) is Illegal.
#[test]
fn etcd_070_verbose_is_illegal() {
    let history = etcd_history("jepsen/etcd_070.log");
    let (result, info) = check_operations_verbose(&EtcdModel, &history, None);
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(info.partitions().len(), 1);
    let partition = &info.partitions()[0];
    let unplaceable = partition
        .first_unplaceable(info.history())
        .expect("an illegal partition has one");
    assert!(!partition.partial_linearizations[0].contains(&unplaceable));
}

const KV_FILES: [(&str, bool); 6] = [
    ("c01-ok.txt", true),
    ("c01-bad.txt", false),
    ("c10-ok.txt", true),
    ("c10-bad.txt", false),
    ("c50-ok.txt", true),
    ("c50-bad.txt", false),
];

/// Every kv log gets upstream's verdict with the partitioned model.
#[test]
fn kv_partitioned_verdicts() {
    for (file, linearizable) in KV_FILES {
        let history = kv_history(&format!("kv/{file}"));
        assert_eq!(
            check_operations(&KvModel, &history, None),
            expected(linearizable),
            "{file}"
        );
    }
}

/// The 1- and 10-client kv logs get upstream's verdict with the unpartitioned model.
#[test]
fn kv_unpartitioned_verdicts() {
    for (file, linearizable) in &KV_FILES[..4] {
        let history = kv_history(&format!("kv/{file}"));
        let started = Instant::now();
        let result = check_operations(&KvNoPartitionModel::new(), &history, None);
        assert_eq!(result, expected(*linearizable), "{file}");
        eprintln!("unpartitioned {file}: {:?}", started.elapsed());
    }
}

/// Keys whose search alone takes Go more than a million steps (seconds, and about a
/// gigabyte) are left to `kv_heavy_keys`, run on demand.
const HEAVY_KEY_STEPS: u64 = 1_000_000;

fn check_keys(heavy: bool) {
    for (file, _) in KV_FILES {
        let history = kv_history(&format!("kv/{file}"));
        for (key, ops, verdict, go_steps) in kv_key_expectations(file) {
            let single: Vec<_> = history
                .iter()
                .filter(|op| op.input.key == key)
                .cloned()
                .collect();
            assert_eq!(single.len(), ops, "{file} key {key}: operation count");
            let want = match verdict.as_str() {
                "Ok" => CheckResult::Ok,
                "Illegal" => CheckResult::Illegal,
                _ => continue,
            };
            let go_steps = go_steps.expect("decided keys list their steps");
            if (go_steps > HEAVY_KEY_STEPS) != heavy {
                continue;
            }
            // The heavy keys need more than the default memory budget.
            let options = CheckOptions {
                memory_limit: if heavy {
                    4 << 30
                } else {
                    porcupine::DEFAULT_MEMORY_LIMIT
                },
                ..CheckOptions::default()
            };
            let outcome = check(&KvModel, &single, &options);
            assert_eq!(outcome.result, want, "{file} key {key}");
            assert!(
                outcome.steps <= go_steps,
                "{file} key {key}: {} steps, Go needs {go_steps}",
                outcome.steps
            );
        }
    }
}

/// Each key of each kv log, checked alone, gets DATA.md's per-key verdict in no more model
/// steps than Go (keys Go could not decide in 100 s, and the heavy ones, are skipped).
#[test]
fn kv_per_key_verdicts_and_steps() {
    check_keys(false);
}

/// The heavy keys of c50-bad (keys 5 and 7: 10 and 14 million steps in Go) alone, with a
/// 4 GiB memory budget (about 1.3 GB resident).
#[test]
#[ignore = "seconds and over a gigabyte per key; run with --ignored"]
fn kv_heavy_keys() {
    check_keys(true);
}

/// c50-bad is decided in well under a second: the cheap illegal keys cancel the
/// undecidable ones (keys 0 and 9 run for minutes alone).
#[test]
fn kv_c50_bad_is_fast() {
    let history = kv_history("kv/c50-bad.txt");
    let started = Instant::now();
    let result = check_operations(&KvModel, &history, None);
    let elapsed = started.elapsed();
    assert_eq!(result, CheckResult::Illegal);
    assert!(elapsed < Duration::from_secs(1), "c50-bad took {elapsed:?}");
}

/// A search that needs more than its memory budget gives up: Unknown, not a wrong verdict
/// and not unbounded memory.
#[test]
fn memory_budget_exhaustion_is_unknown() {
    let history = kv_history("kv/c50-ok.txt");
    let tight = CheckOptions {
        memory_limit: 1 << 20,
        ..CheckOptions::default()
    };
    assert_eq!(
        check(&KvModel, &history, &tight).result,
        CheckResult::Unknown
    );
    // An illegal partition still wins over an undecided one.
    let history = kv_history("kv/c10-bad.txt");
    let outcome = check(
        &KvModel,
        &history,
        &CheckOptions {
            memory_limit: 1 << 20,
            ..CheckOptions::default()
        },
    );
    assert_eq!(outcome.result, CheckResult::Illegal);
}
