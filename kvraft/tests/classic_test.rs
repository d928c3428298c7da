//! The classic kvraft suite: a port of the 2022 Go suite `src/kvraft/test_test.go`
//! (tests 3A and 3B, Put/Append/Get with exactly-once writes), with the
//! harness of `src/kvraft/config.go` in `classic_common`.
//!
//! `cargo test -p kvraft 3a` runs part A, `cargo test -p kvraft 3b` part B.
//! After the harness's own checks come scripted scenarios of ours (not in the
//! Go suite), each of which drives one situation step by step that the ported
//! tests reach only by chance, so a server with that bug fails at once.

mod classic_common;

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::Arc;

use kvraft::classic::{ClientId, PutAppendArgs, PutAppendReply, Status, WriteKind};
use labrt::channel;
use tester::Clnt;

use classic_common::ClassicConfig;
use classic_common::appends::{check_clnt_appends, check_concurrent_appends, element};
use classic_common::config::{ELECTION_TIMEOUT, TestClerk};
use classic_common::generic::{Generic, generic_test, generic_test_speed, spawn_clients_and_wait};
use classic_common::history::{append, check, get, put, try_get_detached, try_put_detached};

/// Shorthand for the GenericTest parameter table (Go's argument order).
const fn params(
    nclients: usize,
    nservers: usize,
    unreliable: bool,
    crash: bool,
    partitions: bool,
    maxraftstate: Option<usize>,
    randomkeys: bool,
) -> Generic {
    Generic {
        nclients,
        nservers,
        unreliable,
        crash,
        partitions,
        maxraftstate,
        randomkeys,
    }
}

/// Snapshot threshold of the 3B tests.
const SNAPSHOTS: Option<usize> = Some(1000);

// ---------------------------------------------------------------- part 3A

/// One client's appends and gets on a healthy 5-server cluster are all seen, once, in order.
#[test]
fn basic_3a() {
    generic_test("3A", params(1, 5, false, false, false, None, false));
}

/// 1000 sequential Appends complete at 33 ms each or faster.
#[test]
fn speed_3a() {
    generic_test_speed("3A", None);
}

/// Five concurrent clients on their own keys see their own writes exactly once.
#[test]
fn concurrent_3a() {
    generic_test("3A", params(5, 5, false, false, false, None, false));
}

/// Exactly-once writes survive lost requests and replies.
#[test]
fn unreliable_3a() {
    generic_test("3A", params(5, 5, true, false, false, None, false));
}

/// Concurrent appends to one key on an unreliable network each land exactly once, in client order.
#[test]
fn unreliable_one_key_3a() {
    let cfg = ClassicConfig::new(3, true, None);
    let ck = cfg.make_client(&cfg.all());
    let title = "Test: concurrent append to same key, unreliable (3A)";
    cfg.begin(title);

    put(&cfg, &ck, "k", "", None, -1);

    const NCLIENT: usize = 5;
    const UPTO: usize = 10;
    let client_cfg = cfg.clone();
    spawn_clients_and_wait(
        &cfg,
        NCLIENT,
        std::sync::Arc::new(move |me, myck: &TestClerk| {
            for n in 0..UPTO {
                append(&client_cfg, myck, "k", &element(me, n), None, -1);
            }
        }),
    );

    let counts = [UPTO; NCLIENT];
    let vx = get(&cfg, &ck, "k", None, -1);
    check_concurrent_appends(&vx, &counts);
    cfg.end();
}

/// A majority partition makes progress, a minority does not, and the
/// minority's blocked write completes exactly once after the partition heals.
#[test]
fn one_partition_3a() {
    let cfg = ClassicConfig::new(5, false, None);
    let ck = cfg.make_client(&cfg.all());

    put(&cfg, &ck, "1", "13", None, -1);

    cfg.begin("Test: progress in majority (3A)");

    let (p1, p2) = cfg.make_partition();
    cfg.partition(&p1, &p2);

    let ckp1 = cfg.make_client(&p1); // connect ckp1 to p1
    let ckp2a = cfg.make_client(&p2); // connect ckp2a to p2
    let ckp2b = cfg.make_client(&p2); // connect ckp2b to p2

    put(&cfg, &ckp1, "1", "14", None, -1);
    check(&cfg, &ckp1, "1", "14");

    cfg.end();

    let (done0_tx, done0) = channel::bounded::<()>(1);
    let (done1_tx, done1) = channel::bounded::<()>(1);

    cfg.begin("Test: no progress in minority (3A)");
    // The threads hold the config only weakly: a failure below tears the
    // test down on this thread, and their Clerks then give up.
    {
        let (cfg, ckp2a) = (Arc::downgrade(&cfg), ckp2a.clone());
        // The Clerk gives up only if the test ended (and cut the network) first.
        thread::spawn(move || {
            if try_put_detached(&cfg, &ckp2a, "1", "15").is_ok() {
                let _ = done0_tx.send(());
            }
        });
    }
    {
        let (cfg, ckp2b) = (Arc::downgrade(&cfg), ckp2b.clone());
        thread::spawn(move || {
            // A second Clerk confined to the minority.
            if try_get_detached(&cfg, &ckp2b, "1").is_ok() {
                let _ = done1_tx.send(());
            }
        });
    }

    labrt::select! {
        recv(done0) -> _ => panic!("Put in minority completed"),
        recv(done1) -> _ => panic!("Get in minority completed"),
        recv(channel::after(Duration::from_secs(1))) -> _ => {}
    }

    check(&cfg, &ckp1, "1", "14");
    put(&cfg, &ckp1, "1", "16", None, -1);
    check(&cfg, &ckp1, "1", "16");

    cfg.end();

    cfg.begin("Test: completion after heal (3A)");

    cfg.connect_all();
    cfg.connect_client(&ckp2a, &cfg.all());
    cfg.connect_client(&ckp2b, &cfg.all());

    thread::sleep(ELECTION_TIMEOUT);

    labrt::select! {
        recv(done0) -> _ => {}
        recv(channel::after(Duration::from_secs(3))) -> _ => panic!("Put did not complete"),
    }

    // Go looks at done1 without waiting: the Get may or may not have finished.
    let _ = done1.try_recv();

    check(&cfg, &ck, "1", "15");

    cfg.end();
}

/// One client keeps working while the servers are re-partitioned at random.
#[test]
fn many_partitions_one_client_3a() {
    generic_test("3A", params(1, 5, false, false, true, None, false));
}

/// Five clients keep working while the servers are re-partitioned at random.
#[test]
fn many_partitions_many_clients_3a() {
    generic_test("3A", params(5, 5, false, false, true, None, false));
}

/// One client's writes survive a crash and restart of every server.
#[test]
fn persist_one_client_3a() {
    generic_test("3A", params(1, 5, false, true, false, None, false));
}

/// Five clients' writes survive crashes and restarts of every server.
#[test]
fn persist_concurrent_3a() {
    generic_test("3A", params(5, 5, false, true, false, None, false));
}

/// Crashes and restarts on an unreliable network lose and duplicate nothing.
#[test]
fn persist_concurrent_unreliable_3a() {
    generic_test("3A", params(5, 5, true, true, false, None, false));
}

/// Crashes, restarts and random partitions lose and duplicate nothing.
#[test]
fn persist_partition_3a() {
    generic_test("3A", params(5, 5, false, true, true, None, false));
}

/// Crashes, restarts and partitions on an unreliable network lose and duplicate nothing.
#[test]
fn persist_partition_unreliable_3a() {
    generic_test("3A", params(5, 5, true, true, true, None, false));
}

/// Fifteen clients on random keys under every fault give a linearizable history.
#[test]
fn persist_partition_unreliable_linearizable_3a() {
    generic_test("3A", params(15, 7, true, true, true, None, true));
}

// ---------------------------------------------------------------- part 3B

/// A follower that missed trimmed log entries catches up through InstallSnapshot.
#[test]
fn snapshot_rpc_3b() {
    const NSERVERS: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    let cfg = ClassicConfig::new(NSERVERS, false, Some(MAXRAFTSTATE));

    let ck = cfg.make_client(&cfg.all());

    let title = "Test: InstallSnapshot RPC (3B)";
    cfg.begin(title);

    put(&cfg, &ck, "a", "A", None, -1);
    check(&cfg, &ck, "a", "A");

    // Server 2 is cut off while the other two commit (and snapshot) 51 writes.
    cfg.partition(&[0, 1], &[2]);
    {
        let ck1 = cfg.make_client(&[0, 1]);
        for i in 0..50 {
            put(&cfg, &ck1, &i.to_string(), &i.to_string(), None, -1);
        }
        thread::sleep(ELECTION_TIMEOUT);
        put(&cfg, &ck1, "b", "B", None, -1);
    }

    // The two that kept working must have snapshotted and trimmed their logs.
    let size = cfg.log_size();
    if size > 8 * MAXRAFTSTATE {
        panic!("logs were not trimmed ({size} > 8*{MAXRAFTSTATE})");
    }

    // Only a majority that includes server 2 can commit now, so server 2 must be
    // brought up to date, which its leader can only do with InstallSnapshot.
    cfg.partition(&[0, 2], &[1]);
    {
        let ck1 = cfg.make_client(&[0, 2]);
        put(&cfg, &ck1, "c", "C", None, -1);
        put(&cfg, &ck1, "d", "D", None, -1);
        check(&cfg, &ck1, "a", "A");
        check(&cfg, &ck1, "b", "B");
        check(&cfg, &ck1, "1", "1");
        check(&cfg, &ck1, "49", "49");
    }

    // Heal: all three together.
    cfg.partition(&[0, 1, 2], &[]);

    put(&cfg, &ck, "e", "E", None, -1);
    check(&cfg, &ck, "c", "C");
    check(&cfg, &ck, "e", "E");
    check(&cfg, &ck, "1", "1");

    cfg.end();
}

/// With snapshots on, both the Raft state and the snapshot stay small.
#[test]
fn snapshot_size_3b() {
    const NSERVERS: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    const MAXSNAPSHOTSTATE: usize = 500;
    let cfg = ClassicConfig::new(NSERVERS, false, Some(MAXRAFTSTATE));

    let ck = cfg.make_client(&cfg.all());

    let title = "Test: snapshot size is reasonable (3B)";
    cfg.begin(title);

    for _ in 0..200 {
        put(&cfg, &ck, "x", "0", None, -1);
        check(&cfg, &ck, "x", "0");
        put(&cfg, &ck, "x", "1", None, -1);
        check(&cfg, &ck, "x", "1");
    }

    // Snapshots must have kept the Raft state near maxraftstate...
    let log_size = cfg.log_size();
    if log_size > 8 * MAXRAFTSTATE {
        panic!("logs were not trimmed ({log_size} > 8*{MAXRAFTSTATE})");
    }

    // ...and the snapshot itself (one key, one client's dedup entry) small.
    let snapshot_size = cfg.snapshot_size();
    if snapshot_size > MAXSNAPSHOTSTATE {
        panic!("snapshot too large ({snapshot_size} > {MAXSNAPSHOTSTATE})");
    }

    cfg.end();
}

/// 1000 sequential Appends with snapshots on complete at 33 ms each or faster.
#[test]
fn speed_3b() {
    generic_test_speed("3B", SNAPSHOTS);
}

/// One client's writes survive crashes when servers restart from snapshots.
#[test]
fn snapshot_recover_3b() {
    generic_test("3B", params(1, 5, false, true, false, SNAPSHOTS, false));
}

/// Twenty clients' writes survive crashes when servers restart from snapshots.
#[test]
fn snapshot_recover_many_clients_3b() {
    generic_test("3B", params(20, 5, false, true, false, SNAPSHOTS, false));
}

/// Snapshots on an unreliable network lose and duplicate nothing.
#[test]
fn snapshot_unreliable_3b() {
    generic_test("3B", params(5, 5, true, false, false, SNAPSHOTS, false));
}

/// Snapshots, restarts and an unreliable network lose and duplicate nothing.
#[test]
fn snapshot_unreliable_recover_3b() {
    generic_test("3B", params(5, 5, true, true, false, SNAPSHOTS, false));
}

/// Snapshots, restarts, partitions and an unreliable network lose and duplicate nothing.
#[test]
fn snapshot_unreliable_recover_concurrent_partition_3b() {
    generic_test("3B", params(5, 5, true, true, true, SNAPSHOTS, false));
}

/// Fifteen clients on random keys under every fault, with snapshots, give a linearizable history.
#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_3b() {
    generic_test("3B", params(15, 7, true, true, true, SNAPSHOTS, true));
}

// ------------------------------------------------- the harness's own checks

/// The append check accepts a value with each element once and in order.
#[test]
fn append_check_accepts_ordered_elements() {
    let value: String = (0..5).map(|j| element(3, j)).collect();
    check_clnt_appends(3, &value, 5);
    check_concurrent_appends(&format!("{}{value}", element(0, 0)), &[1, 0, 0, 5]);
}

/// The append check reports a missing element.
#[test]
#[should_panic(expected = "1 missing element x 1 2 y in Append result")]
fn append_check_catches_a_missing_element() {
    let value = format!("{}{}", element(1, 0), element(1, 1));
    check_clnt_appends(1, &value, 3);
}

/// The append check reports a duplicated element.
#[test]
#[should_panic(expected = "duplicate element x 0 1 y in Append result")]
fn append_check_catches_a_duplicate() {
    let value = format!("{}{}{}", element(0, 0), element(0, 1), element(0, 1));
    check_clnt_appends(0, &value, 2);
}

/// The append check reports elements out of order.
#[test]
#[should_panic(expected = "wrong order for element x 0 1 y in Append result")]
fn append_check_catches_wrong_order() {
    let value = format!("{}{}", element(0, 1), element(0, 0));
    check_clnt_appends(0, &value, 2);
}

/// Titles follow Go's GenericTest wording.
#[test]
fn generic_titles_match_go() {
    assert_eq!(
        params(15, 7, true, true, true, None, true).title("3A"),
        "Test: unreliable net, restarts, partitions, random keys, many clients (3A)"
    );
    assert_eq!(
        params(1, 5, false, true, false, SNAPSHOTS, false).title("3B"),
        "Test: restarts, snapshots, one client (3B)"
    );
}

/// The end-of-test check fails an illegal history (a read of a value that was
/// overwritten before the read began) and writes its picture.
#[test]
#[should_panic(expected = "history is not linearizable")]
fn linearizability_check_catches_a_stale_read() {
    use porcupine::Operation;
    use porcupine::models::kv::{KvInput, KvOutput};
    let cfg = ClassicConfig::new(3, false, None);
    let log = classic_common::history::OpLog::new();
    let operation = |input, output, call, return_time| Operation {
        client_id: 0,
        input,
        call,
        output,
        return_time,
    };
    log.append(operation(
        KvInput::put("k", "a"),
        KvOutput::default(),
        0,
        10,
    ));
    log.append(operation(
        KvInput::put("k", "b"),
        KvOutput::default(),
        20,
        30,
    ));
    log.append(operation(KvInput::get("k"), KvOutput::new("a"), 40, 50));
    classic_common::history::check_linearizable(&cfg, &log);
}

// ------------------------------------------ ours: scripted scenarios

/// How long a scripted step may take before the scenario gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The classic write RPC.
const PUT_APPEND: &str = "KVServer.PutAppend";

/// A server that believes it leads, waited for.
#[track_caller]
fn wait_leader(cfg: &ClassicConfig) -> usize {
    let start = Instant::now();
    loop {
        if let Some(l) = cfg.leader() {
            return l;
        }
        if start.elapsed() > STEP_TIMEOUT {
            panic!("no leader within {STEP_TIMEOUT:?}");
        }
        labrt::thread::sleep(Duration::from_millis(10));
    }
}

/// A leader cut off alone must not answer a Get once the majority has moved
/// on (Raft §8: a read must not be served from a leader's local state without
/// checking it still leads, e.g. by committing the read).
///
/// The steps force the bug to show: the old leader keeps believing it leads,
/// it holds the old value, and a Clerk that can reach only it asks for the
/// key after the majority's Put returned. A server that answers Gets from its
/// local state returns the old value at once; a correct one answers nothing
/// until the partition heals, and then the Get returns the new value.
#[test]
fn stale_read_3a() {
    const NSERVERS: usize = 3;
    let cfg = ClassicConfig::new(NSERVERS, false, None);
    let ck = cfg.make_client(&cfg.all());
    cfg.begin("Test: no stale read from a cut-off leader (3A)");

    put(&cfg, &ck, "k", "old", None, -1);
    check(&cfg, &ck, "k", "old");

    let l = wait_leader(&cfg);
    let majority: Vec<usize> = (0..NSERVERS).filter(|&i| i != l).collect();
    cfg.partition(&majority, &[l]);
    let ckp1 = cfg.make_client(&majority);
    put(&cfg, &ckp1, "k", "new", None, -1);
    check(&cfg, &ckp1, "k", "new");

    // The Get's thread holds only its Clerk, which gives up once the test's
    // network is gone: a failure below leaves nothing blocked behind.
    let ckp2 = cfg.make_client(&[l]);
    let (done_tx, done_rx) = channel::bounded(1);
    {
        let ckp2 = Arc::clone(&ckp2);
        labrt::thread::spawn(move || {
            let _ = done_tx.send(ckp2.get("k"));
        });
    }
    match done_rx.recv_timeout(Duration::from_secs(1)) {
        Ok(Ok(value)) if value == "old" => panic!(
            "stale read: the cut-off leader {l} answered Get(k) with \"old\" after Put(k, new) returned"
        ),
        Ok(result) => {
            panic!("Get in minority completed with {result:?} while the partition stands")
        }
        Err(_) => {}
    }

    cfg.connect_all();
    cfg.connect_client(&ckp2, &cfg.all());
    match done_rx.recv_timeout(STEP_TIMEOUT) {
        Ok(Ok(value)) if value == "new" => {}
        Ok(result) => panic!("Get(k) after the heal returned {result:?}, expected \"new\""),
        Err(_) => panic!("Get did not complete within {STEP_TIMEOUT:?} after the heal"),
    }
    cfg.op();
    cfg.end();
}

/// Sends `args` straight to the servers, one after another, until one
/// executes it: the same request a Clerk resends.
#[track_caller]
fn send_until_served(cfg: &ClassicConfig, clnt: &Clnt, args: &PutAppendArgs) {
    let names = cfg.tester().group().srv_names();
    let start = Instant::now();
    loop {
        for name in &names {
            if let Ok(PutAppendReply { status: Status::Ok }) =
                clnt.call::<PutAppendArgs, PutAppendReply>(name, PUT_APPEND, args)
            {
                cfg.op();
                return;
            }
        }
        if start.elapsed() > STEP_TIMEOUT {
            panic!("no server executed {args:?} within {STEP_TIMEOUT:?}");
        }
        labrt::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until every server has a snapshot and a Raft state smaller than
/// `trimmed` bytes: its log no longer holds the early entries.
#[track_caller]
fn wait_snapshotted(cfg: &ClassicConfig, trimmed: usize) {
    if let Err(sizes) = cfg.tester().group().wait_snapshotted(trimmed, STEP_TIMEOUT) {
        panic!(
            "servers did not snapshot and trim their logs: (snapshot, raft state) sizes {sizes:?}"
        );
    }
}

/// An Append executed before the servers snapshot and restart is executed
/// once only when it is resent after the restart (same client id and
/// sequence number, as a Clerk resends after a lost reply): the duplicate
/// table must travel in the snapshot.
///
/// The steps force the bug to show: after the Append, enough other writes
/// follow that every server snapshots and trims the Append's entry from its
/// log, and every server restarts, so what the servers know of that client
/// comes only from the snapshot. The resent Append must then be acknowledged
/// without being applied: the key still reads "x", not "xx". A server with no
/// duplicate detection, or whose snapshot leaves the table out, appends twice.
#[test]
fn dedup_after_snapshot_restart_3b() {
    const NSERVERS: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    let cfg = ClassicConfig::new(NSERVERS, false, Some(MAXRAFTSTATE));
    let ck = cfg.make_client(&cfg.all());
    cfg.begin("Test: a resent Append after a restart from snapshots (3B)");

    let clnt = cfg.tester().make_client();
    let append = PutAppendArgs {
        key: "k".to_string(),
        value: "x".to_string(),
        kind: WriteKind::Append,
        client_id: ClientId(labrt::rand::random_u64() >> 2),
        seq: 1,
    };
    send_until_served(&cfg, &clnt, &append);
    check(&cfg, &ck, "k", "x");

    // Enough other writes that every server snapshots past the Append.
    let value = "y".repeat(200);
    for i in 0..30 {
        put(&cfg, &ck, &format!("pad{i}"), &value, None, -1);
    }
    wait_snapshotted(&cfg, 4 * MAXRAFTSTATE);

    cfg.tester().group().shutdown();
    cfg.tester().group().start_servers();

    // The same request again: acknowledged, not applied.
    send_until_served(&cfg, &clnt, &append);
    let v = classic_common::history::get(&cfg, &ck, "k", None, -1);
    if v != "x" {
        panic!(
            "the Append resent after the restart was applied again: Get(k) = {v:?}, expected \"x\""
        );
    }
    // The client's next write is new, and applied.
    let next = PutAppendArgs {
        value: "z".to_string(),
        seq: 2,
        ..append
    };
    send_until_served(&cfg, &clnt, &next);
    check(&cfg, &ck, "k", "xz");
    cfg.end();
}
