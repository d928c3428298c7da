//! Port of the Go 6.5840 (2025) kvraft suite, `src/kvraft1/kvraft_test.go`:
//! every 4B and 4C test, with the same parameters, steps, constants and failure
//! messages (spec/kvraft-tests.md part I). GenericTest and GenericTestSpeed are
//! in `kvraft_common`.
//!
//! At the end, after the ported tests: scripted scenarios of ours (not in the
//! Go suite), each of which drives one situation step by step that the ported
//! tests reach only by chance, so a server with that bug fails at once.

mod kvraft_common;

use labrt::time::{Duration, Instant};

use kvraft::rpc::{KvError, PUT, PutArgs, PutReply};
use kvraft_common::{KvTest, generic_test, generic_test_speed};
use labrt::channel;

/// One client's Puts on a reliable 5-server cluster are counted exactly and linearizable.
#[test]
fn basic_4b() {
    generic_test("4B basic", 1, 5, true, false, false, -1, false);
}

/// 1000 sequential Puts average under 33 ms each (and every one returns OK).
#[test]
fn speed_4b() {
    generic_test_speed("4B speed", -1);
}

/// Five concurrent clients' Puts on one key are counted exactly and linearizable.
#[test]
fn concurrent_4b() {
    generic_test("4B many clients", 5, 5, true, false, false, -1, false);
}

/// Five clients on an unreliable network: no more Puts than OK + maybe, and linearizable.
#[test]
fn unreliable_4b() {
    generic_test("4B many clients", 5, 5, false, false, false, -1, false);
}

/// The majority makes progress, the minority does not, and the minority's Put completes after healing.
#[test]
fn one_partition_4b() {
    const NSERVERS: usize = 5;
    let ts = KvTest::make(
        "4B progress in majority",
        0,
        NSERVERS,
        false,
        false,
        false,
        -1,
        false,
    );
    let group = ts.cfg.group();

    let ck = ts.make_clerk();
    let ver0 = ts.put_at_least_once(&ck, "1", "13", 0, -1);

    let l = ts.leader().unwrap_or(0);
    let (p1, p2) = group.make_partition(l);
    group.partition(&p1, &p2);

    let ckp1 = ts.make_clerk_to(&p1); // connect ckp1 to p1
    let ckp2a = ts.make_clerk_to(&p2); // connect ckp2a to p2
    let ckp2b = ts.make_clerk_to(&p2); // connect ckp2b to p2

    let ver1 = ts.put_at_least_once(&ckp1, "1", "14", ver0, -1);
    ts.check_get(&ckp1, "1", "14", ver1);

    ts.cfg.end();

    let (done0_tx, done0_rx) = channel::bounded(1);
    let (done1_tx, done1_rx) = channel::bounded(1);

    ts.cfg.begin("Test: no progress in minority (4B)");
    labrt::thread::scope(|s| {
        // A failure below stops the clerks, so the minority's Put (which
        // never returns while the partition stands) ends and the scope with it.
        let _stop = ts.stop_clerks_on_panic();
        s.spawn(|| {
            let ver = ts.put_at_least_once(&ckp2a, "1", "15", ver1, -1);
            let _ = done0_tx.send(ver);
        });
        s.spawn(|| {
            // Go leaks this goroutine; here it is joined when the scope ends
            // (the Get completes once the partition heals).
            let ver = ts.get(&ckp2b, "1", -1).map_or(0, |(_, ver)| ver);
            let _ = done1_tx.send(ver);
        });

        labrt::select! {
            recv(done0_rx) -> ver => ts.cfg.fatal(format!("Put in minority completed with version = {}", ver.unwrap_or(0))),
            recv(done1_rx) -> ver => ts.cfg.fatal(format!("Get in minority completed with version = {}", ver.unwrap_or(0))),
            default(Duration::from_secs(1)) => {}
        }

        ts.check_get(&ckp1, "1", "14", ver1);
        let ver2 = ts.put_at_least_once(&ckp1, "1", "16", ver1, -1);
        ts.check_get(&ckp1, "1", "16", ver2);

        ts.cfg.end();

        ts.cfg.begin("Test: completion after heal (4B)");

        group.connect_all();
        ckp2a.transport().connect_all();
        ckp2b.transport().connect_all();

        labrt::thread::sleep(Duration::from_secs(1));

        let mut ver15 = None;
        for _ in 0..30 {
            if let Ok(ver) = done0_rx.recv_timeout(Duration::from_millis(100)) {
                ver15 = Some(ver);
                break;
            }
        }
        let Some(ver15) = ver15 else {
            ts.cfg.fatal("Put did not complete")
        };

        // Go's select has a default branch here: a Get still running is not a failure.
        let _ = done1_rx.try_recv();

        ts.check_get(&ck, "1", "15", ver15);
    });
}

/// With random partitions, one client's Puts stay linearizable.
#[test]
fn many_partitions_one_client_4b() {
    generic_test(
        "4B partitions, one client",
        1,
        5,
        true,
        false,
        true,
        -1,
        false,
    );
}

/// With random partitions, many clients' Puts stay linearizable.
#[test]
fn many_partitions_many_clients_4b() {
    generic_test(
        "4B partitions, many clients (4B)",
        5,
        5,
        true,
        false,
        true,
        -1,
        false,
    );
}

/// Acknowledged Puts survive restarts of every server (one client).
#[test]
fn persist_one_client_4b() {
    generic_test(
        "4B restarts, one client 4B ",
        1,
        5,
        true,
        true,
        false,
        -1,
        false,
    );
}

/// Acknowledged Puts survive restarts of every server (many clients).
#[test]
fn persist_concurrent_4b() {
    generic_test(
        "4B restarts, many clients",
        5,
        5,
        true,
        true,
        false,
        -1,
        false,
    );
}

/// Restarts on an unreliable network keep the history linearizable.
#[test]
fn persist_concurrent_unreliable_4b() {
    generic_test(
        "4B restarts, many clients ",
        5,
        5,
        false,
        true,
        false,
        -1,
        false,
    );
}

/// Restarts plus random partitions keep the history linearizable.
#[test]
fn persist_partition_4b() {
    generic_test(
        "4B restarts, partitions, many clients",
        5,
        5,
        true,
        true,
        true,
        -1,
        false,
    );
}

/// Restarts, partitions and an unreliable network keep the history linearizable.
#[test]
fn persist_partition_unreliable_4b() {
    generic_test(
        "4B restarts, partitions, many clients",
        5,
        5,
        false,
        true,
        true,
        -1,
        false,
    );
}

/// 15 clients on random keys over 7 servers with every fault stay linearizable.
#[test]
fn persist_partition_unreliable_linearizable_4b() {
    generic_test(
        "4B restarts, partitions, random keys, many clients",
        15,
        7,
        false,
        true,
        true,
        -1,
        true,
    );
}

/// A server cut off while the others snapshot catches up through InstallSnapshot.
#[test]
fn snapshot_rpc_4c() {
    const NSRV: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    let ts = KvTest::make(
        "4C SnapshotsRPC",
        0,
        NSRV,
        true,
        false,
        false,
        MAXRAFTSTATE as i64,
        false,
    );
    let group = ts.cfg.group();

    let ck = ts.make_clerk();

    ts.cfg.begin("Test: InstallSnapshot RPC (4C)");

    let vera = ts.put_at_least_once(&ck, "a", "A", 0, -1);
    ts.check_get(&ck, "a", "A", vera);

    // A bunch of puts into the majority partition.
    group.partition(&[0, 1], &[2]);
    let verb = {
        let ck1 = ts.make_clerk_to(&[0, 1]);
        for i in 0..50 {
            ts.put_at_least_once(&ck1, &i.to_string(), &i.to_string(), 0, -1);
        }
        labrt::thread::sleep(Duration::from_secs(1));
        let verb = ts.put_at_least_once(&ck1, "b", "B", 0, -1);
        ts.delete_clerk(&ck1);
        verb
    };

    // Check that the majority partition has thrown away most of its log entries.
    let sz = group.log_size();
    if sz > 8 * MAXRAFTSTATE {
        ts.cfg
            .fatal(format!("logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"));
    }

    // Now make a group that requires participation of the lagging server, so
    // that it has to catch up.
    group.partition(&[0, 2], &[1]);
    let verc = {
        let ck1 = ts.make_clerk_to(&[0, 2]);
        let verc = ts.put_at_least_once(&ck1, "c", "C", 0, -1);
        ts.put_at_least_once(&ck1, "d", "D", 0, -1);
        ts.check_get(&ck1, "a", "A", vera);
        ts.check_get(&ck1, "b", "B", verb);
        ts.check_get(&ck1, "1", "1", 1);
        ts.check_get(&ck1, "49", "49", 1);
        ts.delete_clerk(&ck1);
        verc
    };

    // Now everybody.
    group.partition(&[0, 1, 2], &[]);

    let vere = ts.put_at_least_once(&ck, "e", "E", 0, -1);
    ts.check_get(&ck, "c", "C", verc);
    ts.check_get(&ck, "e", "E", vere);
    ts.check_get(&ck, "1", "1", 1);
}

/// 800 operations on one key keep the log under 8 x maxraftstate and the snapshot under 500 bytes.
#[test]
fn snapshot_size_4c() {
    const NSRV: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    const MAXSNAPSHOTSTATE: usize = 500;
    let ts = KvTest::make(
        "4C snapshot size is reasonable",
        0,
        NSRV,
        true,
        false,
        false,
        MAXRAFTSTATE as i64,
        false,
    );
    let group = ts.cfg.group();

    let ck = ts.make_clerk();
    let mut ver = 0;
    for _ in 0..200 {
        ver = ts.put_at_least_once(&ck, "x", "0", ver, -1);
        ts.check_get(&ck, "x", "0", ver);
        ver = ts.put_at_least_once(&ck, "x", "1", ver, -1);
        ts.check_get(&ck, "x", "1", ver);
    }

    // Check that servers have thrown away most of their log entries.
    let sz = group.log_size();
    if sz > 8 * MAXRAFTSTATE {
        ts.cfg
            .fatal(format!("logs were not trimmed ({sz} > 8*{MAXRAFTSTATE})"));
    }

    // Check that the snapshots are not unreasonably large.
    let ssz = group.snapshot_size();
    if ssz > MAXSNAPSHOTSTATE {
        ts.cfg
            .fatal(format!("snapshot too large ({ssz} > {MAXSNAPSHOTSTATE})"));
    }
}

/// 1000 sequential Puts with snapshots on average under 33 ms each.
#[test]
fn speed_4c() {
    generic_test_speed("4C speed", 1000);
}

/// One client's Puts survive restarts from snapshots.
#[test]
fn snapshot_recover_4c() {
    generic_test(
        "4C restarts, snapshots, one client",
        1,
        5,
        true,
        true,
        false,
        1000,
        false,
    );
}

/// Twenty clients' Puts survive restarts from snapshots.
#[test]
fn snapshot_recover_many_clients_4c() {
    generic_test(
        "4C restarts, snapshots, many clients ",
        20,
        5,
        true,
        true,
        false,
        1000,
        false,
    );
}

/// Snapshots on an unreliable network keep the history linearizable.
#[test]
fn snapshot_unreliable_4c() {
    generic_test(
        "4C unreliable net, snapshots, many clients",
        5,
        5,
        false,
        false,
        false,
        1000,
        false,
    );
}

/// Snapshots, restarts and an unreliable network keep the history linearizable.
#[test]
fn snapshot_unreliable_recover_4c() {
    generic_test(
        "4C unreliable net, restarts, snapshots, many clients",
        5,
        5,
        false,
        true,
        false,
        1000,
        false,
    );
}

/// Snapshots with every fault keep the history linearizable.
#[test]
fn snapshot_unreliable_recover_concurrent_partition_4c() {
    generic_test(
        "4C unreliable net, restarts, partitions, snapshots, many clients",
        5,
        5,
        false,
        true,
        true,
        1000,
        false,
    );
}

/// 15 clients on random keys over 7 servers with snapshots and every fault stay linearizable.
#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4c() {
    generic_test(
        "4C unreliable net, restarts, partitions, snapshots, random keys, many clients",
        15,
        7,
        false,
        true,
        true,
        1000,
        true,
    );
}

// ------------------------------------------ ours: scripted scenarios

/// How long a scripted step may take before the scenario gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The first server whose Raft says it leads, waited for.
#[track_caller]
fn wait_leader(ts: &KvTest) -> usize {
    let start = Instant::now();
    loop {
        if let Some(l) = ts.leader() {
            return l;
        }
        if start.elapsed() > STEP_TIMEOUT {
            ts.cfg.fatal(format!("no leader within {STEP_TIMEOUT:?}"));
        }
        labrt::thread::sleep(Duration::from_millis(10));
    }
}

/// A leader cut off alone must not answer a Get once the majority has moved
/// on: linearizability forbids returning the value it holds, which a newer
/// Put has replaced (Raft §8: a read must not be served from a leader's local
/// state without checking it still leads, e.g. by committing the read).
///
/// The steps force the bug to show: the old leader keeps believing it leads
/// (nobody can tell it otherwise), it holds the old value, and a clerk that
/// can reach only it asks for the key after the majority's Put returned. A
/// server that answers Gets from its local state returns the old value at
/// once; a correct one answers nothing until the partition heals, and then
/// the Get returns the new value.
#[test]
fn stale_read_4b() {
    const NSERVERS: usize = 3;
    let ts = KvTest::make(
        "4B stale read in minority",
        0,
        NSERVERS,
        true,
        false,
        false,
        -1,
        false,
    );
    let group = ts.cfg.group();
    let ck = ts.make_clerk();
    let ver1 = ts.put_at_least_once(&ck, "k", "old", 0, -1);
    ts.check_get(&ck, "k", "old", ver1);

    // The leader alone in the minority; the majority writes a new value.
    let l = wait_leader(&ts);
    let majority: Vec<usize> = (0..NSERVERS).filter(|&i| i != l).collect();
    group.partition(&majority, &[l]);
    let ckp1 = ts.make_clerk_to(&majority);
    let ver2 = ts.put_at_least_once(&ckp1, "k", "new", ver1, -1);
    ts.check_get(&ckp1, "k", "new", ver2);

    let ckp2 = ts.make_clerk_to(&[l]);
    let (done_tx, done_rx) = channel::bounded(1);
    labrt::thread::scope(|s| {
        // A failure stops the clerks, so the minority's Get ends with the test.
        let _stop = ts.stop_clerks_on_panic();
        s.spawn(|| {
            let _ = done_tx.send(ts.get(&ckp2, "k", 1));
        });
        match done_rx.recv_timeout(Duration::from_secs(1)) {
            Ok(Ok((value, ver))) if value == "old" => ts.cfg.fatal(format!(
                "stale read: the cut-off leader {l} answered Get(k) with (old, {ver}) after Put(k, new) returned"
            )),
            Ok(result) => ts.cfg.fatal(format!(
                "Get in minority completed with {result:?} while the partition stands"
            )),
            Err(_) => {}
        }

        // Healed, the Get is served, with the new value.
        group.connect_all();
        ckp2.transport().connect_all();
        match done_rx.recv_timeout(STEP_TIMEOUT) {
            Ok(Ok((value, ver))) if value == "new" && ver == ver2 => {}
            Ok(result) => ts.cfg.fatal(format!(
                "Get(k) after the heal returned {result:?}, expected (new, {ver2})"
            )),
            Err(_) => ts.cfg.fatal(format!(
                "Get did not complete within {STEP_TIMEOUT:?} after the heal"
            )),
        }
    });
    ts.check_porcupine();
}

/// Sends `args` straight to the servers, one after another, until one does
/// not answer `ErrWrongLeader`: the same request a Clerk resends.
#[track_caller]
fn resend_put(ts: &KvTest, clnt: &tester::Clnt, args: &PutArgs) -> PutReply {
    let names = ts.cfg.group().srv_names();
    let start = Instant::now();
    loop {
        for name in &names {
            match clnt.call::<PutArgs, PutReply>(name, PUT, args) {
                Ok(Err(KvError::WrongLeader)) | Err(_) => {}
                Ok(reply) => return reply,
            }
        }
        if start.elapsed() > STEP_TIMEOUT {
            ts.cfg
                .fatal(format!("no server answered a Put within {STEP_TIMEOUT:?}"));
        }
        labrt::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until every server has a snapshot and a Raft state smaller than
/// `trimmed` bytes: its log no longer holds the early entries.
#[track_caller]
fn wait_snapshotted(ts: &KvTest, trimmed: usize) {
    if let Err(sizes) = ts.cfg.group().wait_snapshotted(trimmed, STEP_TIMEOUT) {
        ts.cfg.fatal(format!(
            "servers did not snapshot and trim their logs: (snapshot, raft state) sizes {sizes:?}"
        ));
    }
}

/// A Put applied before the servers snapshot and restart is not applied
/// again when it is resent after the restart: the version check that makes a
/// 2025 Put at-most-once must survive a restart from a snapshot, so the
/// snapshot must carry every key's version.
///
/// The steps force the bug to show: the key is put twice (version 2), enough
/// other Puts follow that every server snapshots and trims the key's entries
/// from its log, and every server restarts, so the key's version can come
/// only from the snapshot. Then the second Put's exact request (version 1) is
/// resent, as a Clerk resends after a lost reply, and must be refused with
/// `ErrVersion`; a fresh Clerk's retry must get `ErrVersion` (or `ErrMaybe`
/// if it had to resend); and the key must still read (v2, 2).
#[test]
fn dedup_after_snapshot_restart_4c() {
    const NSERVERS: usize = 3;
    const MAXRAFTSTATE: usize = 1000;
    let ts = KvTest::make(
        "4C dedup after a restart from snapshots",
        0,
        NSERVERS,
        true,
        false,
        false,
        MAXRAFTSTATE as i64,
        false,
    );
    let group = ts.cfg.group();
    let ck = ts.make_clerk();

    let ver = ts.put_at_least_once(&ck, "k", "v1", 0, -1);
    let second = PutArgs {
        key: "k".to_string(),
        value: "v2".to_string(),
        version: ver,
    };
    match ts.put(&ck, &second.key, &second.value, second.version, -1) {
        Ok(()) => {}
        Err(err) => ts.cfg.fatal(format!("Put(k, v2, {ver}) returned {err}")),
    }
    ts.check_get(&ck, "k", "v2", ver + 1);

    // Enough other Puts that every server snapshots past the key's entries.
    let value = "x".repeat(200);
    for i in 0..30 {
        ts.put_at_least_once(&ck, &format!("pad{i}"), &value, 0, -1);
    }
    wait_snapshotted(&ts, 4 * MAXRAFTSTATE);

    group.shutdown();
    group.start_servers();

    // The second Put's request, resent: refused, not applied again.
    let clnt = ts.cfg.make_client();
    match resend_put(&ts, &clnt, &second) {
        Err(KvError::Version) => {}
        reply => ts.cfg.fatal(format!(
            "a resent Put(k, v2, {ver}) after the restart returned {}, not ErrVersion: applied twice",
            kvraft::rpc::err_string(&reply)
        )),
    }
    let ck2 = ts.make_clerk();
    match ts.put(&ck2, &second.key, &second.value, second.version, -1) {
        Err(KvError::Version | KvError::Maybe) => {}
        reply => ts.cfg.fatal(format!(
            "a fresh Clerk's Put(k, v2, {ver}) after the restart returned {}, not ErrVersion or ErrMaybe",
            kvraft::rpc::err_string(&reply)
        )),
    }
    ts.check_get(&ck, "k", "v2", ver + 1);
    // The key moves on from its restored version.
    let ver3 = ts.put_at_least_once(&ck, "k", "v3", ver + 1, -1);
    ts.check_get(&ck, "k", "v3", ver3);
    ts.check_porcupine();
}
