//! The 6.5840 Spring 2025 Raft suite (`src/raft1/raft_test.go`, parts 3A–3D),
//! ported test for test with the same steps, constants, thresholds and failure
//! messages. Run one part with e.g. `cargo test -p raft 3c`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{MAX_LOG_SIZE, RAFT_ELECTION_TIMEOUT, Test, TestCmd, rand_below, rand_int, sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---- 3A: leader election ---------------------------------------------------------

/// A cluster elects one leader, every peer agrees on its term, and with no
/// failures the leader and term stay put.
#[test]
fn initial_election_3a() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3A): initial election");

    // is a leader elected?
    ts.check_one_leader();

    // sleep a bit to avoid racing with followers learning of the
    // election, then check that all peers agree on the term.
    sleep(ms(50));
    let term1 = ts.check_terms();
    if term1.is_none_or(|t| t < 1) {
        // Go's checkTerms says -1 when no server is connected.
        let shown = term1.map_or(-1, |t| t as i64);
        ts.fatal(format!("term is {shown}, but should be at least 1"));
    }

    // does the leader+term stay the same if there is no network failure?
    sleep(2 * RAFT_ELECTION_TIMEOUT);
    let term2 = ts.check_terms();
    if term1 != term2 {
        print!("warning: term changed even though there were no failures");
    }

    // there should still be a leader.
    ts.check_one_leader();
}

/// A new leader is elected when the leader is cut off; the old one steps down
/// when it returns; no leader without a majority.
#[test]
fn re_election_3a() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3A): election after network failure");

    let leader1 = ts.check_one_leader();

    // if the leader disconnects, a new one should be elected.
    ts.group().disconnect_all(leader1);
    ts.check_one_leader();

    // if the old leader rejoins, that shouldn't disturb the new leader. and
    // the old leader should switch to follower.
    ts.group().connect_one(leader1);
    let leader2 = ts.check_one_leader();

    // if there's no quorum, no new leader should be elected.
    ts.group().disconnect_all(leader2);
    ts.group().disconnect_all((leader2 + 1) % servers);
    sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that the one connected server does not think it is the leader.
    ts.check_no_leader();

    // if a quorum arises, it should elect a leader.
    ts.group().connect_one((leader2 + 1) % servers);
    ts.check_one_leader();

    // re-join of last node shouldn't prevent leader from existing.
    ts.group().connect_one(leader2);
    ts.check_one_leader();
}

/// Seven peers keep electing a leader while random sets of three are cut off.
#[test]
fn many_elections_3a() {
    let servers = 7;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3A): multiple elections");

    ts.check_one_leader();

    let iters = 10;
    for _ in 1..iters {
        // disconnect three nodes
        let i1 = rand_below(servers as i64) as usize;
        let i2 = rand_below(servers as i64) as usize;
        let i3 = rand_below(servers as i64) as usize;
        ts.group().disconnect_all(i1);
        ts.group().disconnect_all(i2);
        ts.group().disconnect_all(i3);

        // either the current leader should still be alive,
        // or the remaining four should elect a new one.
        ts.check_one_leader();

        ts.group().connect_one(i1);
        ts.group().connect_one(i2);
        ts.group().connect_one(i3);
    }
    ts.check_one_leader();
}

// ---- 3B: log replication ---------------------------------------------------------

/// Three commands commit at indices 1, 2, 3 on every server.
#[test]
fn basic_agree_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): basic agreement");

    let iters = 3;
    for index in 1..=iters {
        let (nd, _) = ts.n_committed(index);
        if nd > 0 {
            ts.fatal("some have committed before Start()");
        }

        let xindex = ts.one((index * 100) as i64, servers, false);
        if xindex != index {
            ts.fatal(format!("got index {xindex} but expected {index}"));
        }
    }
}

/// Each command is sent to each follower about once: total RPC bytes stay
/// within the budget.
#[test]
fn rpc_bytes_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): RPC byte count");

    ts.one(99, servers, false);
    let bytes0 = ts.cfg().bytes_total();

    let iters = 10;
    let mut sent = 0;
    for index in 2..iters + 2 {
        let cmd = TestCmd::Str(tester::randstring(5000));
        let xindex = ts.one(cmd, servers, false);
        if xindex != index {
            ts.fatal(format!("got index {xindex} but expected {index}"));
        }
        sent += 5000;
    }

    let bytes1 = ts.cfg().bytes_total();
    let got = bytes1 - bytes0;
    let expected = servers * sent;
    if got > expected + 50000 {
        ts.fatal(format!(
            "too many RPC bytes; got {got}, expected {expected}"
        ));
    }
}

/// Agreement continues with one follower down and stops with two.
#[test]
fn follower_failure_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): test progressive failure of followers");

    ts.one(101, servers, false);

    // disconnect one follower from the network.
    let leader1 = ts.check_one_leader();
    ts.group().disconnect_all((leader1 + 1) % servers);

    // the leader and remaining follower should be
    // able to agree despite the disconnected follower.
    ts.one(102, servers - 1, false);
    sleep(RAFT_ELECTION_TIMEOUT);
    ts.one(103, servers - 1, false);

    // disconnect the remaining follower
    let leader2 = ts.check_one_leader();
    ts.group().disconnect_all((leader2 + 1) % servers);
    ts.group().disconnect_all((leader2 + 2) % servers);

    // submit a command.
    let Some((index, _)) = ts.raft(leader2).and_then(|r| r.start(TestCmd::Int(104))) else {
        ts.fatal("leader rejected Start()");
    };
    if index != 4 {
        ts.fatal(format!("expected index 4, got {index}"));
    }

    sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    ts.check_no_agreement(index);
}

/// A new leader takes over after a leader fails; with two leaders gone nothing
/// commits.
#[test]
fn leader_failure_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): test failure of leaders");

    ts.one(101, servers, false);

    // disconnect the first leader.
    let leader1 = ts.check_one_leader();
    ts.group().disconnect_all(leader1);

    // the remaining followers should elect
    // a new leader.
    ts.one(102, servers - 1, false);
    sleep(RAFT_ELECTION_TIMEOUT);
    ts.one(103, servers - 1, false);

    // disconnect the new leader.
    let leader2 = ts.check_one_leader();
    ts.group().disconnect_all(leader2);

    // submit a command to each server.
    for i in 0..servers {
        if let Some(raft) = ts.raft(i) {
            raft.start(TestCmd::Int(104));
        }
    }

    sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    ts.check_no_agreement(4);
}

/// A follower that was cut off catches up when it reconnects.
#[test]
fn fail_agree_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): agreement after follower reconnects");

    ts.one(101, servers, false);

    // disconnect one follower from the network.
    let leader = ts.check_one_leader();
    ts.group().disconnect_all((leader + 1) % servers);

    // the leader and remaining follower should be
    // able to agree despite the disconnected follower.
    ts.one(102, servers - 1, false);
    ts.one(103, servers - 1, false);
    sleep(RAFT_ELECTION_TIMEOUT);
    ts.one(104, servers - 1, false);
    ts.one(105, servers - 1, false);

    // re-connect
    ts.group().connect_one((leader + 1) % servers);

    // the full set of servers should preserve
    // previous agreements, and be able to agree
    // on new commands.
    ts.one(106, servers, true);
    sleep(RAFT_ELECTION_TIMEOUT);
    ts.one(107, servers, true);
}

/// Nothing commits while three of five followers are cut off; agreement
/// resumes once they return.
#[test]
fn fail_no_agree_3b() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): no agreement if too many followers disconnect");

    ts.one(10, servers, false);

    // 3 of 5 followers disconnect
    let leader = ts.check_one_leader();
    ts.group().disconnect_all((leader + 1) % servers);
    ts.group().disconnect_all((leader + 2) % servers);
    ts.group().disconnect_all((leader + 3) % servers);

    let Some((index, _)) = ts.raft(leader).and_then(|r| r.start(TestCmd::Int(20))) else {
        ts.fatal("leader rejected Start()");
    };
    if index != 2 {
        ts.fatal(format!("expected index 2, got {index}"));
    }

    sleep(2 * RAFT_ELECTION_TIMEOUT);

    let (n, _) = ts.n_committed(index);
    if n > 0 {
        ts.fatal(format!("{n} committed but no majority"));
    }

    // repair
    ts.group().connect_one((leader + 1) % servers);
    ts.group().connect_one((leader + 2) % servers);
    ts.group().connect_one((leader + 3) % servers);

    // the disconnected majority may have chosen a leader from
    // among their own ranks, forgetting index 2.
    let leader2 = ts.check_one_leader();
    let Some((index2, _)) = ts.raft(leader2).and_then(|r| r.start(TestCmd::Int(30))) else {
        ts.fatal("leader2 rejected Start()");
    };
    if !(2..=3).contains(&index2) {
        ts.fatal(format!("unexpected index {index2}"));
    }

    ts.one(1000, servers, true);
}

/// Five concurrent Start()s in one term all commit.
#[test]
fn concurrent_starts_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): concurrent Start()s");

    let mut success = false;
    'attempts: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            sleep(ms(3000));
        }

        let leader = ts.check_one_leader();
        let raft = ts.raft(leader).expect("the leader is running");
        let Some((_, term)) = raft.start(TestCmd::Int(1)) else {
            // leader moved on really quickly
            continue;
        };

        let iters = 5;
        let indices: Vec<u64> = labrt::thread::scope(|s| {
            let handles: Vec<_> = (0..iters)
                .map(|ii| {
                    let raft = raft.clone();
                    s.spawn(move || match raft.start(TestCmd::Int(100 + ii)) {
                        Some((i, term1)) if term1 == term => Some(i),
                        _ => None,
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().expect("start thread"))
                .collect()
        });

        for j in 0..servers {
            if let Some(r) = ts.raft(j)
                && r.get_state().0 != term
            {
                // term changed -- can't expect low RPC counts
                continue 'attempts;
            }
        }

        let mut cmds = Vec::new();
        for index in indices {
            match ts.wait(index, servers, Some(term)) {
                None => continue 'attempts, // peers have moved on to later terms
                Some(TestCmd::Int(x)) => cmds.push(x),
                Some(other) => ts.fatal(format!("value {other} is not an int")),
            }
        }

        for ii in 0..iters {
            let x = 100 + ii;
            if !cmds.contains(&x) {
                ts.fatal(format!("cmd {x} missing in {cmds:?}"));
            }
        }

        success = true;
        break;
    }

    if !success {
        ts.fatal("term changed too often");
    }
}

/// A partitioned leader with uncommitted entries rejoins and adopts the new
/// leader's log.
#[test]
fn rejoin_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): rejoin of partitioned leader");

    ts.one(101, servers, true);

    // leader network failure
    let leader1 = ts.check_one_leader();
    ts.group().disconnect_all(leader1);

    // make old leader try to agree on some entries
    let old = ts.raft(leader1).expect("leader1 is running");
    old.start(TestCmd::Int(102));
    old.start(TestCmd::Int(103));
    old.start(TestCmd::Int(104));

    // new leader commits, also for index=2
    ts.one(103, 2, true);

    // new leader network failure
    let leader2 = ts.check_one_leader();
    ts.group().disconnect_all(leader2);

    // old leader connected again
    ts.group().connect_one(leader1);

    ts.one(104, 2, true);

    // all together now
    ts.group().connect_one(leader2);

    ts.one(105, servers, true);
}

/// A leader backs up quickly over long runs of conflicting follower entries.
#[test]
fn backup_3b() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): leader backs up quickly over incorrect follower logs");

    ts.one(rand_int(), servers, true);

    // put leader and one follower in a partition
    let leader1 = ts.check_one_leader();
    ts.group().disconnect_all((leader1 + 2) % servers);
    ts.group().disconnect_all((leader1 + 3) % servers);
    ts.group().disconnect_all((leader1 + 4) % servers);

    // submit lots of commands that won't commit
    let raft1 = ts.raft(leader1).expect("leader1 is running");
    for _ in 0..50 {
        raft1.start(TestCmd::Int(rand_int()));
    }

    sleep(RAFT_ELECTION_TIMEOUT / 2);

    ts.group().disconnect_all(leader1 % servers);
    ts.group().disconnect_all((leader1 + 1) % servers);

    // allow other partition to recover
    ts.group().connect_one((leader1 + 2) % servers);
    ts.group().connect_one((leader1 + 3) % servers);
    ts.group().connect_one((leader1 + 4) % servers);

    // lots of successful commands to new group.
    for _ in 0..50 {
        ts.one(rand_int(), 3, true);
    }

    // now another partitioned leader and one follower
    let leader2 = ts.check_one_leader();
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    ts.group().disconnect_all(other);

    // lots more commands that won't commit
    let raft2 = ts.raft(leader2).expect("leader2 is running");
    for _ in 0..50 {
        raft2.start(TestCmd::Int(rand_int()));
    }

    sleep(RAFT_ELECTION_TIMEOUT / 2);

    // bring original leader back to life,
    for i in 0..servers {
        ts.group().disconnect_all(i);
    }
    ts.group().connect_one(leader1 % servers);
    ts.group().connect_one((leader1 + 1) % servers);
    ts.group().connect_one(other);

    // lots of successful commands to new group.
    for _ in 0..50 {
        ts.one(rand_int(), 3, true);
    }

    // now everyone
    for i in 0..servers {
        ts.group().connect_one(i);
    }
    ts.one(rand_int(), servers, true);
}

/// Elections, replication of a batch of entries, and idleness each cost few
/// RPCs.
#[test]
fn count_3b() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): RPC counts aren't too high");

    let rpcs = || (0..servers).map(|j| ts.group().rpc_count(j)).sum::<usize>();

    ts.check_one_leader();

    let mut total1 = rpcs();

    if !(1..=30).contains(&total1) {
        ts.fatal(format!(
            "too many or few RPCs ({total1}) to elect initial leader"
        ));
    }

    let mut total2 = 0;
    let mut success = false;
    'attempts: for attempt in 0..5 {
        if attempt > 0 {
            // give solution some time to settle
            sleep(ms(3000));
        }

        let leader = ts.check_one_leader();
        total1 = rpcs();

        let iters = 10;
        let raft = ts.raft(leader).expect("the leader is running");
        let Some((starti, term)) = raft.start(TestCmd::Int(1)) else {
            // leader moved on really quickly
            continue;
        };
        let mut cmds = Vec::new();
        for i in 1..iters + 2 {
            let x = rand_int() & 0x7fff_ffff;
            cmds.push(x);
            let Some((index1, term1)) = raft.start(TestCmd::Int(x)) else {
                // no longer the leader, so term has changed
                continue 'attempts;
            };
            if term1 != term {
                // Term changed while starting
                continue 'attempts;
            }
            if starti + i != index1 {
                ts.fatal("Start() failed");
            }
        }

        for i in 1..iters + 1 {
            let cmd = ts.wait(starti + i, servers, Some(term));
            if cmd != Some(TestCmd::Int(cmds[i as usize - 1])) {
                match cmd {
                    // term changed -- try again
                    None => continue 'attempts,
                    Some(cmd) => ts.fatal(format!(
                        "wrong value {cmd} committed for index {}; expected {:?}",
                        starti + i,
                        cmds
                    )),
                }
            }
        }

        let mut failed = false;
        total2 = 0;
        for j in 0..servers {
            if let Some(r) = ts.raft(j)
                && r.get_state().0 != term
            {
                // term changed -- can't expect low RPC counts
                // need to keep going to update total2
                failed = true;
            }
            total2 += ts.group().rpc_count(j);
        }

        if failed {
            continue 'attempts;
        }

        if total2 - total1 > ((iters + 1 + 3) * 3) as usize {
            ts.fatal(format!(
                "too many RPCs ({}) for {iters} entries",
                total2 - total1
            ));
        }

        success = true;
        break;
    }

    if !success {
        ts.fatal("term changed too often");
    }

    sleep(RAFT_ELECTION_TIMEOUT);

    let total3 = rpcs();

    if total3 - total2 > 3 * 20 {
        ts.fatal(format!(
            "too many RPCs ({}) for 1 second of idleness",
            total3 - total2
        ));
    }
}

// ---- 3C: persistence ---------------------------------------------------------------

/// Committed entries survive crashes of everyone, of the leader, and of a
/// follower.
#[test]
fn persist1_3c() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): basic persistence");

    ts.one(11, servers, true);

    ts.group().shutdown();
    ts.group().start_servers();

    ts.one(12, servers, true);

    let leader1 = ts.check_one_leader();
    ts.group().shutdown_server(leader1);
    ts.restart(leader1);

    ts.one(13, servers, true);

    let leader2 = ts.check_one_leader();
    ts.group().shutdown_server(leader2);

    ts.one(14, servers - 1, true);

    ts.restart(leader2);

    ts.wait(4, servers, None); // wait for leader2 to join before killing i3

    let i3 = (ts.check_one_leader() + 1) % servers;
    ts.group().shutdown_server(i3);

    ts.one(15, servers - 1, true);

    ts.restart(i3);

    ts.one(16, servers, true);
}

/// Servers that acknowledged entries still have them after repeated crashes
/// of changing majorities.
#[test]
fn persist2_3c() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): more persistence");

    let mut index = 1;
    for _ in 0..5 {
        ts.one(10 + index, servers, true);
        index += 1;

        let leader1 = ts.check_one_leader();

        ts.group().shutdown_server((leader1 + 1) % servers);
        ts.group().shutdown_server((leader1 + 2) % servers);

        ts.one(10 + index, servers - 2, true);
        index += 1;

        ts.group().shutdown_server(leader1 % servers);
        ts.group().shutdown_server((leader1 + 3) % servers);
        ts.group().shutdown_server((leader1 + 4) % servers);

        ts.restart((leader1 + 1) % servers);
        ts.restart((leader1 + 2) % servers);

        sleep(RAFT_ELECTION_TIMEOUT);

        ts.restart((leader1 + 3) % servers);

        ts.one(10 + index, servers - 2, true);
        index += 1;

        ts.restart((leader1 + 4) % servers);
        ts.restart(leader1 % servers);
    }

    ts.one(1000, servers, true);
}

/// A partitioned leader and a crashed follower: the restarted server that
/// remembers the newer entry wins.
#[test]
fn persist3_3c() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): partitioned leader and one follower crash, leader restarts");

    ts.one(101, 3, true);

    let leader = ts.check_one_leader();
    ts.group().disconnect_all((leader + 2) % servers);

    ts.one(102, 2, true);

    ts.group().shutdown_server(leader % servers);
    ts.group().shutdown_server((leader + 1) % servers);
    ts.group().connect_one((leader + 2) % servers);
    ts.restart(leader % servers);

    ts.one(103, 2, true);

    ts.restart((leader + 1) % servers);

    ts.one(104, servers, true);
}

/// Figure 8: leaders crash right after appending, yet committed entries are
/// never lost.
#[test]
fn figure8_3c() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): Figure 8");

    ts.one(rand_int(), 1, true);

    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            if let Some(raft) = ts.raft(i)
                && raft.start(TestCmd::Int(rand_int())).is_some()
            {
                leader = Some(i);
            }
        }

        if rand_below(1000) < 100 {
            let ms_ = rand_below((RAFT_ELECTION_TIMEOUT.as_millis() / 2) as i64);
            sleep(ms(ms_ as u64));
        } else {
            let ms_ = rand_below(13);
            sleep(ms(ms_ as u64));
        }

        if let Some(leader) = leader {
            ts.group().shutdown_server(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = rand_below(servers as i64) as usize;
            if ts.raft(s).is_none() {
                ts.restart(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if ts.raft(i).is_none() {
            ts.restart(i);
        }
    }

    ts.one(rand_int(), servers, true);
}

/// Agreement on an unreliable network, with many concurrent clients.
#[test]
fn unreliable_agree_3c() {
    let servers = 5;
    let ts = Test::new(servers, false, false);
    ts.begin("Test (3C): unreliable agreement");

    labrt::thread::scope(|s| {
        let mut handles = Vec::new();
        for iters in 1..50 {
            for j in 0..4 {
                let ts = &ts;
                handles.push(s.spawn(move || {
                    ts.one(100 * iters + j, 1, true);
                }));
            }
            ts.one(iters, 1, true);
        }

        ts.cfg().set_reliable(true);

        for h in handles {
            if h.join().is_err() {
                ts.fatal("a concurrent one() failed");
            }
        }
    });

    ts.one(100, servers, true);
}

/// Figure 8 on an unreliable network with long reordering: leaders are cut off
/// right after appending, yet committed entries are never lost.
#[test]
fn figure8_unreliable_3c() {
    let servers = 5;
    let ts = Test::new(servers, false, false);
    ts.begin("Test (3C): Figure 8 (unreliable)");

    ts.one(rand_below(10000), 1, true);

    let mut nup = servers;
    for iters in 0..1000 {
        if iters == 200 {
            ts.cfg().set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            if let Some(raft) = ts.raft(i)
                && raft.start(TestCmd::Int(rand_below(10000))).is_some()
                && ts.group().is_connected(i)
            {
                leader = Some(i);
            }
        }

        if rand_below(1000) < 100 {
            let ms_ = rand_below((RAFT_ELECTION_TIMEOUT.as_millis() / 2) as i64);
            sleep(ms(ms_ as u64));
        } else {
            let ms_ = rand_below(13);
            sleep(ms(ms_ as u64));
        }

        if let Some(leader) = leader
            && rand_below(1000) < (RAFT_ELECTION_TIMEOUT.as_millis() / 2) as i64
        {
            ts.group().disconnect_all(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = rand_below(servers as i64) as usize;
            if !ts.group().is_connected(s) {
                ts.group().connect_one(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !ts.group().is_connected(i) {
            ts.group().connect_one(i);
        }
    }

    ts.one(rand_below(10000), servers, true);
}

/// Shared body of the two churn tests: clients keep submitting while servers
/// are cut off, crashed and restarted; every value a client saw committed
/// must be in the final log.
fn internal_churn(reliable: bool) {
    let servers = 5;
    let ts = Test::new(servers, reliable, false);
    if reliable {
        ts.begin("Test (3C): churn");
    } else {
        ts.begin("Test (3C): unreliable churn");
    }

    let stop = AtomicBool::new(false);

    // create concurrent clients
    let cfn = |me: u64| -> Vec<i64> {
        let mut values = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let x = rand_int();
            let mut index = None;
            for i in 0..servers {
                // try them all, maybe one of them is a leader
                if let Some(raft) = ts.raft(i)
                    && let Some((index1, _)) = raft.start(TestCmd::Int(x))
                {
                    index = Some(index1);
                }
            }
            if let Some(index) = index {
                // maybe leader will commit our value, maybe not.
                // but don't wait forever.
                for to in [10, 20, 50, 100, 200] {
                    let (nd, cmd) = ts.n_committed(index);
                    if nd > 0 {
                        match cmd {
                            Some(TestCmd::Int(xx)) => {
                                if xx == x {
                                    values.push(xx);
                                }
                            }
                            _ => ts.fatal("wrong command type"),
                        }
                        break;
                    }
                    sleep(ms(to));
                }
            } else {
                sleep(ms(79 + me * 17));
            }
        }
        values
    };

    let values: Vec<i64> = labrt::thread::scope(|s| {
        let ncli = 3;
        let handles: Vec<_> = (0..ncli).map(|i| s.spawn(move || cfn(i))).collect();

        for _ in 0..20 {
            if rand_below(1000) < 200 {
                let i = rand_below(servers as i64) as usize;
                ts.group().disconnect_all(i);
            }

            if rand_below(1000) < 500 {
                let i = rand_below(servers as i64) as usize;
                if ts.raft(i).is_none() {
                    ts.restart(i);
                }
                ts.group().connect_one(i);
            }

            if rand_below(1000) < 200 {
                let i = rand_below(servers as i64) as usize;
                if ts.raft(i).is_some() {
                    ts.group().shutdown_server(i);
                }
            }

            // Make crash/restart infrequent enough that the peers can often
            // keep up, but not so infrequent that everything has settled
            // down from one change to the next. Pick a value smaller than
            // the election timeout, but not hugely smaller.
            sleep(RAFT_ELECTION_TIMEOUT * 7 / 10);
        }

        sleep(RAFT_ELECTION_TIMEOUT);
        ts.cfg().set_reliable(true);
        for i in 0..servers {
            if ts.raft(i).is_none() {
                ts.restart(i);
            }
            ts.group().connect_one(i);
        }

        stop.store(true, Ordering::SeqCst);

        let mut values = Vec::new();
        for h in handles {
            match h.join() {
                Ok(vv) => values.extend(vv),
                Err(_) => ts.fatal("client failed"),
            }
        }
        values
    });

    sleep(RAFT_ELECTION_TIMEOUT);

    let last_index = ts.one(rand_int(), servers, true);

    let mut really = Vec::new();
    for index in 1..=last_index {
        match ts.wait(index, servers, None) {
            Some(TestCmd::Int(v)) => really.push(v),
            _ => ts.fatal("not an int"),
        }
    }

    for v1 in values {
        if !really.contains(&v1) {
            ts.fatal("didn't find a value");
        }
    }
}

/// Churn on a reliable network: no value a client saw committed is lost.
#[test]
fn reliable_churn_3c() {
    internal_churn(true);
}

/// Churn on an unreliable network: no value a client saw committed is lost.
#[test]
fn unreliable_churn_3c() {
    internal_churn(false);
}

// ---- 3D: log compaction ---------------------------------------------------------------

const MAXLOGSIZE: usize = MAX_LOG_SIZE;

/// Shared body of the snapshot tests: thirty rounds of commands with a victim
/// cut off or crashed, checking that snapshots keep the persisted log small
/// and that lagging peers catch up (by InstallSnapshot where needed).
fn snapcommon(name: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let ts = Test::new(servers, reliable, true);
    ts.begin(name);

    ts.one(rand_int(), servers, true);
    let mut leader1 = ts.check_one_leader();

    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if disconnect {
            ts.group().disconnect_all(victim);
            ts.one(rand_int(), servers - 1, true);
        }
        if crash {
            ts.group().shutdown_server(victim);
            ts.one(rand_int(), servers - 1, true);
        }

        // perhaps send enough to get a snapshot
        let nn = (SNAPSHOT_NN_MIN + rand_below(10)) as usize;
        for _ in 0..nn {
            if let Some(raft) = ts.raft(sender) {
                raft.start(TestCmd::Int(rand_int()));
            }
        }

        // let applier threads catch up with the Start()'s
        if !disconnect && !crash {
            // make sure all followers have caught up, so that
            // an InstallSnapshot RPC isn't required for
            // TestSnapshotBasic3D().
            ts.one(rand_int(), servers, true);
        } else {
            ts.one(rand_int(), servers - 1, true);
        }

        if ts.group().log_size() >= MAXLOGSIZE {
            ts.fatal("Log size too large");
        }
        if disconnect {
            // reconnect a follower, who maybe behind and
            // needs to rceive a snapshot to catch up.
            ts.group().connect_one(victim);
            ts.one(rand_int(), servers, true);
            leader1 = ts.check_one_leader();
        }
        if crash {
            ts.restart(victim);
            ts.one(rand_int(), servers, true);
            leader1 = ts.check_one_leader();
        }
    }
}

/// snapcommon's count of extra commands starts at this (plus 0..10).
const SNAPSHOT_NN_MIN: i64 = 5;

/// Snapshots keep the log small when all followers keep up.
#[test]
fn snapshot_basic_3d() {
    snapcommon("Test (3D): snapshots basic", false, true, false);
}

/// A follower cut off while the others snapshot catches up by InstallSnapshot.
#[test]
fn snapshot_install_3d() {
    snapcommon(
        "Test (3D): install snapshots (disconnect)",
        true,
        true,
        false,
    );
}

/// InstallSnapshot catch-up on an unreliable network.
#[test]
fn snapshot_install_unreliable_3d() {
    snapcommon(
        "Test (3D): install snapshots (disconnect)",
        true,
        false,
        false,
    );
}

/// A crashed follower restarts from its snapshot and catches up.
#[test]
fn snapshot_install_crash_3d() {
    snapcommon("Test (3D): install snapshots (crash)", false, true, true);
}

/// Crash-and-restart catch-up on an unreliable network.
#[test]
fn snapshot_install_uncrash_3d() {
    snapcommon("Test (3D): install snapshots (crash)", false, false, true);
}

/// All servers crash and restart from their snapshots; indices never go back.
#[test]
fn snapshot_all_crash_3d() {
    let servers = 3;
    let iters = 5;
    let ts = Test::new(servers, false, true);
    ts.begin("Test (3D): crash and restart all servers");

    ts.one(rand_int(), servers, true);

    for _ in 0..iters {
        // perhaps enough to get a snapshot
        let nn = SNAPSHOT_NN_MIN + rand_below(10);
        for _ in 0..nn {
            ts.one(rand_int(), servers, true);
        }

        let index1 = ts.one(rand_int(), servers, true);

        // crash all
        ts.group().shutdown();
        ts.group().start_servers();

        let index2 = ts.one(rand_int(), servers, true);
        if index2 < index1 + 1 {
            ts.fatal(format!("index decreased from {index1} to {index2}"));
        }
    }
}

/// A restarted server's first persist keeps the snapshot it started from.
#[test]
fn snapshot_init_3d() {
    let servers = 3;
    let ts = Test::new(servers, false, true);
    ts.begin("Test (3D): snapshot initialization after crash");
    ts.one(rand_int(), servers, true);

    // enough ops to make a snapshot
    let nn = common::SNAPSHOT_INTERVAL + 1;
    for _ in 0..nn {
        ts.one(rand_int(), servers, true);
    }

    ts.group().shutdown();
    ts.group().start_servers();

    // a single op, to get something to be written back to persistent storage.
    ts.one(rand_int(), servers, true);

    ts.group().shutdown();
    ts.group().start_servers();

    // do another op to trigger potential bug
    ts.one(rand_int(), servers, true);
}
