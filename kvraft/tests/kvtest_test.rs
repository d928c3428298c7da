//! Self-tests of the shared KV test library (`kvraft::kvtest`): recording,
//! history export, and what a failed linearizability check does. (Not part of
//! the Go suite; names carry no part tag so `cargo test -p kvraft 4b` skips them.)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kvraft::KvServer;
use kvraft::kvtest::{self, KvOperation, Test};
use porcupine::CheckResult;
use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput};
use tester::Config;

fn cluster(n: usize) -> Test<KvServer> {
    let cfg = Config::new(
        n,
        true,
        Arc::new(|ends, _gid, me, persister| {
            KvServer::start(ends, me, persister, None).expect("server starts")
        }),
    );
    Test::new(cfg, false)
}

/// A Put of "a" followed (strictly later) by a Get that returns "b": not linearizable.
fn illegal_history() -> Vec<KvOperation> {
    vec![
        KvOperation {
            client_id: 0,
            input: KvInput::put("k", "a", 0),
            call: 0,
            output: KvOutput::put(KvErr::Ok),
            return_time: 10,
        },
        KvOperation {
            client_id: 1,
            input: KvInput::get("k"),
            call: 20,
            output: KvOutput::get("b", 1, KvErr::Ok),
            return_time: 30,
        },
    ]
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kvtest-{}-{name}", std::process::id()))
}

/// An illegal history is found illegal and its visualisation is written as HTML.
#[test]
fn illegal_history_is_found_and_drawn() {
    let history = illegal_history();
    assert_eq!(
        kvtest::check_history(&history, Duration::from_secs(1)),
        CheckResult::Illegal
    );
    assert_eq!(
        kvtest::check_history(&history[..1], Duration::from_secs(1)),
        CheckResult::Ok
    );

    let path = temp_path("illegal.html");
    kvtest::visualize_history(&history, &tester::annotate::annotations(), &path)
        .expect("writes the HTML");
    let html = std::fs::read_to_string(&path).expect("reads the HTML back");
    std::fs::remove_file(&path).ok();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "not HTML: {}",
        &html[..html.len().min(80)]
    );
    assert!(
        html.contains("put('k', 'a', '0')"),
        "the history's operations are not drawn"
    );
}

/// check_porcupine fails the test with Go's message when the recorded history is illegal.
#[test]
fn check_porcupine_fails_on_illegal_history() {
    let ts = cluster(1);
    for op in illegal_history() {
        ts.oplog().append(op);
    }
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ts.check_porcupine()));
    let panic = failed.expect_err("an illegal history must fail the check");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert_eq!(message, "history is not linearizable");
}

/// Recorded Gets and Puts are counted and logged with the clerk's exact results, and the history checks.
#[test]
fn recorded_operations_are_logged() {
    let ts = cluster(3);
    ts.cfg.begin("Test: kvtest recording");
    let ck = ts.make_clerk();
    assert_eq!(ts.get(&ck, "k", 0), Err(kvraft::rpc::KvError::NoKey));
    assert_eq!(ts.put(&ck, "k", "v", 0, 1), Ok(()));
    assert_eq!(
        ts.put(&ck, "k", "w", 0, 1),
        Err(kvraft::rpc::KvError::Version)
    );
    assert_eq!(ts.get(&ck, "k", 2), Ok(("v".to_string(), 1)));
    assert_eq!(ts.cfg.ops(), 4);

    let ops = ts.oplog().read();
    let outputs: Vec<KvOutput> = ops.iter().map(|op| op.output.clone()).collect();
    assert_eq!(
        outputs,
        vec![
            KvOutput::get("", 0, KvErr::ErrNoKey),
            KvOutput::put(KvErr::Ok),
            KvOutput::put(KvErr::ErrVersion),
            KvOutput::get("v", 1, KvErr::Ok),
        ]
    );
    assert!(ops.iter().all(|op| op.call <= op.return_time));
    assert!(
        ops.windows(2).all(|w| w[0].return_time <= w[1].call),
        "sequential calls overlap"
    );
    assert_eq!(
        kvtest::check_history(&ops, Duration::from_secs(1)),
        CheckResult::Ok
    );
    ts.check_porcupine();
    ts.cfg.end();
}

/// The exported history reads back as the same operations under the kv-versioned model.
#[test]
fn exported_history_round_trips() {
    let ts = cluster(1);
    let ck = ts.make_clerk();
    ts.put_at_least_once(&ck, "x", "1", 0, -1);
    ts.check_get(&ck, "x", "1", 1);
    let path = temp_path("history.json");
    ts.export_history(&path).expect("writes the history");
    let read: porcupine::history::History<KvInput, KvOutput> =
        porcupine::history::read_path(&path).expect("reads the history back");
    std::fs::remove_file(&path).ok();
    assert_eq!(read.model, "kv-versioned");
    assert_eq!(read.operations, ts.oplog().read());
}

/// A failure inside a scope stops the test's clerks: a Put blocked at a
/// leader cut off alone (it never answers while the partition stands) ends,
/// so the scope, and the test, end at once with the failure's own panic.
#[test]
fn failure_stops_blocked_clerks() {
    let ts = cluster(3);
    let group = ts.cfg.group();
    let ck = ts.make_clerk();
    ts.put_at_least_once(&ck, "k", "v", 0, -1);
    let leader = (0..3)
        .find(|&i| {
            group
                .service(i)
                .is_some_and(|s| s.rsm().raft().get_state().1)
        })
        .expect("a leader answered the Put");
    let others: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    group.partition(&others, &[leader]);
    let minority = ts.make_clerk_to(&[leader]);

    let start = labrt::time::Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        labrt::thread::scope(|s| {
            let _stop = ts.stop_clerks_on_panic();
            let blocked = s.spawn(|| ts.put(&minority, "k", "w", 1, 0));
            labrt::thread::sleep(Duration::from_millis(500));
            assert!(!blocked.is_finished(), "the minority answered a Put");
            panic!("a check failed");
        })
    }));
    let payload = outcome.expect_err("the failure propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"a check failed"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the scope waited {:?} for the blocked clerk",
        start.elapsed()
    );
    // Stopped for good: any later clerk call unwinds, quietly.
    let later = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ck.get("k")));
    assert!(later.is_err_and(|p| kvtest::is_clerks_stopped(&*p)));
}
