//! Port of the Go 6.5840 (2025) kvraft suite, `src/kvraft1/kvraft_test.go`:
//! every 4B and 4C test, with the same parameters, steps, constants and failure
//! messages (spec/kvraft-tests.md part I). GenericTest and GenericTestSpeed are
//! in `kvraft_common`.

mod kvraft_common;

use std::time::Duration;

use crossbeam::channel;
use kvraft_common::{KvTest, generic_test, generic_test_speed};

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
    std::thread::scope(|s| {
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

        channel::select! {
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

        std::thread::sleep(Duration::from_secs(1));

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
        std::thread::sleep(Duration::from_secs(1));
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
