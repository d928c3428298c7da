//! Port of the Go 6.5840 (2025) rsm suite, `src/kvraft1/rsm/rsm_test.go`:
//! TestBasic4A .. TestRestartSubmit4A and TestSnapshot4C, with the same steps,
//! constants and failure messages (see spec/rsm-tests.md §5).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{NSEC, Rep, Req, Test};
use labrt::channel;
use rsm::SubmitError;

/// Sequential Incs each return the next counter value, and every replica applies them.
#[test]
fn rsm_basic_4a() {
    const NINC: i64 = 10;
    let ts = Test::new(None);
    ts.cfg.begin("Test RSM basic");
    for i in 0..NINC {
        let r = ts.one_inc();
        if r.n != i + 1 {
            ts.cfg.fatal(format!("expected {i} instead of {}", r.n));
        }
        ts.check_counter(r.n, 3);
    }
}

/// Concurrent submits each get their own result and all are applied everywhere.
#[test]
fn rsm_concurrent_4a() {
    const NINC: i64 = 50;
    let ts = Arc::new(Test::new(None));
    ts.cfg.begin("Test concurrent submit");
    // The clients hold the fixture weakly and report when done, so a client's
    // failure fails the test at once, without waiting for the others.
    let (done_tx, done_rx) = channel::unbounded::<()>();
    for _ in 0..NINC {
        let (ts, done_tx) = (Arc::downgrade(&ts), done_tx.clone());
        labrt::thread::spawn(move || {
            Test::one_inc_detached(&ts);
            let _ = done_tx.send(());
        });
    }
    drop(done_tx);
    let mut finished = 0;
    while finished < NINC {
        match done_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(()) => finished += 1,
            Err(channel::RecvTimeoutError::Timeout) => ts.cfg.check_failure(),
            Err(channel::RecvTimeoutError::Disconnected) => {
                ts.cfg.check_failure();
                ts.cfg.fatal("an Inc client failed");
            }
        }
    }
    ts.check_counter(NINC, 3);
}

/// The majority keeps committing after the leader is cut off, and the old leader catches up.
#[test]
fn rsm_leader_failure_4a() {
    let ts = Test::new(None);
    ts.cfg.begin("Test Leader Failure");
    let r = ts.one_inc();
    ts.check_counter(r.n, 3);

    let l = ts.disconnect_leader();
    let r = ts.one_inc();
    ts.check_counter(r.n, 2);

    ts.connect(l);
    ts.check_counter(r.n, 3);
}

/// A leader alone in a minority never completes a submit, and releases all of them promptly after healing.
#[test]
fn rsm_leader_partition_4a() {
    const NSUBMIT: usize = 100;
    let ts = Test::new(None);
    ts.cfg.begin("Test Leader Partition");

    let r = ts.one_inc();
    ts.check_counter(r.n, 3);

    let l = ts.leader().unwrap_or(0);
    let (p1, p2) = ts.cfg.group().make_partition(l);
    ts.cfg.group().partition(&p1, &p2);

    let (done_tx, done_rx) = channel::bounded::<()>(0);
    let minority = ts.srv(l);
    let failure = ts.cfg.failure();
    labrt::thread::spawn(move || {
        let returned = Arc::new(AtomicUsize::new(0));
        let submits: Vec<_> = (0..NSUBMIT)
            .map(|i| {
                let srv = Arc::clone(&minority);
                let failure = failure.clone();
                let returned = Arc::clone(&returned);
                labrt::thread::spawn(move || {
                    let result = srv.rsm.submit(Req::Dec);
                    if let Ok(rep) = &result {
                        failure.fail(format!("Submit {i} in minority completed {rep:?}"));
                    }
                    returned.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for s in submits {
            let _ = s.join();
        }
        let _ = done_tx.send(());
    });

    labrt::thread::sleep(Duration::from_millis(10));
    let rep = match ts.one_partition(Some(&p1), Req::Inc) {
        Some(Rep::Inc(r)) => r,
        other => ts
            .cfg
            .fatal(format!("majority did not commit an Inc: {other:?}")),
    };
    // A Dec that completed in the minority already failed the test.
    ts.cfg.check_failure();

    if done_rx.recv_timeout(Duration::from_secs(1)).is_ok() {
        ts.cfg.check_failure();
        ts.cfg
            .fatal("Dec's in minority completed; Submit returns {}");
    }

    ts.connect(l);

    if done_rx.recv_timeout(Duration::from_secs(1)).is_err() {
        ts.cfg.fatal("Submit after healing didn't return");
    }
    ts.cfg.check_failure();

    ts.check_counter(rep.n, 3);
}

/// Do `NINC` sequential checked Incs (the first phase of the restart tests).
#[track_caller]
fn checked_incs(ts: &Test, ninc: i64) {
    for i in 0..ninc {
        let r = ts.one_inc();
        if r.n != i + 1 {
            ts.cfg.fatal(format!("expected {i} instead of {}", r.n));
        }
        ts.check_counter(r.n, 3);
    }
}

/// After all servers restart, the whole log is replayed into the state machine on every replica.
#[test]
fn rsm_restart_replay_4a() {
    const NINC: i64 = 100;
    let ts = Test::new(None);
    ts.cfg.begin("Test Restart");
    checked_incs(&ts, NINC);

    ts.cfg.group().shutdown();
    labrt::thread::sleep(Duration::from_secs(1));
    ts.cfg.group().start_servers();

    let r = ts.one_inc();
    if r.n != NINC + 1 {
        ts.cfg.fatal(format!("expected {} got {}", NINC + 1, r.n));
    }
    labrt::thread::sleep(Duration::from_secs(1));
    ts.check_counter(r.n, 3);
}

/// Start `NSUBMIT` background Null submitters, shut every server down 20 ms later,
/// and require every submitter to return within `NSEC + 1` seconds.
#[track_caller]
fn submits_stop_after_shutdown(ts: &Arc<Test>, nsubmit: usize) {
    let (done_tx, done_rx) = channel::bounded::<()>(0);
    // The submitters hold the fixture weakly: if they never stop, the failure
    // below still tears the test down on its own thread.
    let waiter = {
        let ts = Arc::downgrade(ts);
        labrt::thread::spawn(move || {
            let submits: Vec<_> = (0..nsubmit)
                .map(|_| {
                    let ts = ts.clone();
                    labrt::thread::spawn(move || {
                        Test::one_partition_detached(&ts, Req::Null);
                    })
                })
                .collect();
            for s in submits {
                let _ = s.join();
            }
            let _ = done_tx.send(());
        })
    };
    labrt::thread::sleep(Duration::from_millis(20));
    ts.cfg.group().shutdown();
    if done_rx.recv_timeout(Duration::from_secs(NSEC + 1)).is_err() {
        ts.cfg.fatal("Submit didn't stop after shutdown");
    }
    // The test's own thread must drop the fixture last (its Drop prints the
    // Passed line and cleans up), not this helper thread.
    waiter
        .join()
        .expect("the submitters' waiter exits once they are done");
}

/// Submits blocked in a replica that is shut down return promptly.
#[test]
fn rsm_shutdown_4a() {
    const NSUBMIT: usize = 100;
    let ts = Arc::new(Test::new(None));
    ts.cfg.begin("Test Shutdown");
    submits_stop_after_shutdown(&ts, NSUBMIT);
}

/// Op ids stay unique across restarts, and submits on killed replicas never hang.
#[test]
fn rsm_restart_submit_4a() {
    const NINC: i64 = 100;
    const NSUBMIT: usize = 100;
    let ts = Arc::new(Test::new(None));
    ts.cfg.begin("Test Restart and submit");
    checked_incs(&ts, NINC);

    ts.cfg.group().shutdown();
    labrt::thread::sleep(Duration::from_secs(1));
    ts.cfg.group().start_servers();

    let r = ts.one_inc();
    if r.n != NINC + 1 {
        ts.cfg.fatal(format!("Expected {} got {}", NINC + 1, r.n));
    }
    labrt::thread::sleep(Duration::from_secs(1));

    submits_stop_after_shutdown(&ts, NSUBMIT);

    ts.cfg.group().start_servers();
    let r = ts.one_inc();
    ts.check_counter(r.n, 3);
}

/// Replicas snapshot to keep the log under 2 x maxraftstate, and restart from snapshot plus log tail.
#[test]
fn rsm_snapshot_4c() {
    const N: i64 = 100;
    const MAXRAFTSTATE: usize = 1000;
    let ts = Test::new(Some(MAXRAFTSTATE));
    ts.cfg.begin("Test creating and restoring snapshot");
    for _ in 0..N {
        ts.one_inc();
    }
    ts.check_counter(N, 3);

    let sz = ts.cfg.group().log_size();
    if sz > 2 * MAXRAFTSTATE {
        ts.cfg
            .fatal(format!("logs were not trimmed ({sz} > 2 * {MAXRAFTSTATE})"));
    }

    ts.cfg.group().shutdown();
    ts.cfg.group().start_servers();

    ts.one_inc();
    ts.check_counter(N + 1, 3);
}

/// Submit on a killed replica returns WrongLeader at once instead of blocking.
#[test]
fn rsm_submit_after_kill_4a() {
    let ts = Test::new(None);
    ts.cfg.begin("Test submit after kill");
    ts.one_inc();
    let srv = ts.srv(0);
    ts.cfg.group().shutdown();
    assert_eq!(srv.rsm.submit(Req::Null), Err(SubmitError::WrongLeader));
}
