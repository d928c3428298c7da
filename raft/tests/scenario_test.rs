//! Scripted scenarios (ours, not in the Go suite): each drives the cluster
//! step by step, with partitions, crashes, restarts, `start` and messages held
//! in the network, into the one situation where a classic mistake breaks a
//! rule of the Raft paper, so the harness's safety checks (the apply checks
//! and the Election Safety observer, see `common`) catch that mistake every
//! time, where the randomized Go tests catch it only by luck or not at all.
//!
//! Raft's timing is randomized, so no step assumes who wins an election or
//! when: each waits for a condition (a leader of a known set, a given term, a
//! message held), with a bound. A step that cannot be forced within its bound
//! is retried from a healed cluster, or the test fails saying which set-up
//! step failed: a scenario never passes without having run its critical step.
//!
//! The scenarios rely only on the public API of Raft and on what any
//! implementation of the lab must do (persist its log, send the service's
//! snapshot in InstallSnapshot), never on message layouts or RPC names.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use common::{LinkRule, Test, TestCmd, rand_int, sleep};
use labrpc::{CallInfo, Gate, Verdict};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// How long a step waits for an election among a known set.
const ELECTION_BOUND: Duration = Duration::from_secs(15);

/// How long a step waits for replication on a healthy link.
const REPLICATION_BOUND: Duration = Duration::from_secs(10);

/// How many times a scenario may retry a set-up that Raft's timing spoiled.
const ATTEMPTS: usize = 5;

/// A command big enough that a peer's persisted state visibly grows by at
/// least `len` bytes when it stores it in its log.
fn big(tag: &str, len: usize) -> TestCmd {
    TestCmd::Str(format!("{tag}-{}", tester::randstring(len)))
}

/// Cuts every link between servers.
fn isolate_all(ts: &Test) {
    for i in 0..ts.group().n() {
        ts.group().disconnect_all(i);
    }
}

/// Exactly these groups can talk, each inside itself; nobody else.
fn only(ts: &Test, groups: &[&[usize]]) {
    isolate_all(ts);
    for group in groups {
        for &i in *group {
            ts.group().connect(i, group);
        }
    }
}

/// Waits for a server of `among` to claim leadership of a term of at least
/// `min_term`; returns it and its term.
#[track_caller]
fn wait_leader(ts: &Test, among: &[usize], min_term: u64, bound: Duration) -> Option<(usize, u64)> {
    ts.wait_for(bound, || {
        among.iter().find_map(|&i| match ts.state(i) {
            Some((term, true)) if term >= min_term => Some((i, term)),
            _ => None,
        })
    })
}

/// Waits until server `i`'s persisted state has grown to at least `size`.
#[track_caller]
fn wait_persisted(ts: &Test, i: usize, size: usize) -> bool {
    ts.wait_for(REPLICATION_BOUND, || {
        (ts.persisted_size(i) >= size).then_some(())
    })
    .is_some()
}

/// Every server up, every link mended, the interceptor removed.
fn heal(ts: &Test) {
    ts.set_links(None);
    for i in 0..ts.group().n() {
        if ts.raft(i).is_none() {
            ts.group().start_server(i);
        }
    }
    ts.group().connect_all();
}

/// Figure 8 of the paper, step by step (§5.4.2: a leader never commits an
/// entry of an earlier term by counting replicas; it commits entries of its
/// own term, and earlier ones only with them).
///
/// (a) S1 leads term 2 and gives entry X (index 2) to S2 only. (b) S1 crashes;
/// S5 is elected in term 3 by S3 and S4 and takes entry Y at index 2, alone;
/// it crashes. (c) S1 restarts and leads term 4 (it or S2: both hold X, and
/// only they can win), and replicates X to S3 and S4: X is now on a majority,
/// but is of term 2. (d) That leader crashes; S5 restarts and, connected to
/// S3 and S4 only, is the one peer that can win (its last term, 3, beats
/// their 2); it overwrites index 2 with Y and commits Y with an entry of its
/// term. A leader that committed X in (c) because a majority stored it has
/// applied X at index 2, and Y lands there later: the apply checks fail at
/// once (one command per index, in every incarnation). A correct leader
/// never applies X, and the test passes. Everyone rejoins at the end.
#[test]
fn figure8_scripted_3c() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): Figure 8, scripted");
    const BIG: usize = 1000;

    ts.one(rand_int(), servers, true);

    // (a) S1 leads; X goes to S2 only.
    let (s1, s2, x_index, x_term) = 'a: {
        for _ in 0..ATTEMPTS {
            heal(&ts);
            let s1 = ts.check_one_leader();
            let s2 = (s1 + 1) % servers;
            only(&ts, &[&[s1, s2]]);
            let before = ts.persisted_size(s2);
            let Some(raft) = ts.raft(s1) else { continue };
            if let Some((index, term)) = raft.start(big("X", BIG)) {
                if !wait_persisted(&ts, s2, before + BIG) {
                    ts.fatal(format!(
                        "set-up (a): server {s2} did not store X from leader {s1} within {REPLICATION_BOUND:?}"
                    ));
                }
                break 'a (s1, s2, index, term);
            }
        }
        ts.fatal("set-up (a): no leader accepted X");
    };
    let rest: Vec<usize> = (0..servers).filter(|i| ![s1, s2].contains(i)).collect();

    // (b) S1 crashes; S5 (whoever of the rest wins) takes Y alone, crashes.
    ts.group().shutdown_server(s1);
    let (s5, y_term) = 'b: {
        for _ in 0..ATTEMPTS {
            only(&ts, &[&rest]);
            let Some((s5, _)) = wait_leader(&ts, &rest, x_term + 1, ELECTION_BOUND) else {
                ts.fatal("set-up (b): no leader among the servers without X");
            };
            ts.group().disconnect_all(s5);
            let before = ts.persisted_size(s5);
            let Some(raft) = ts.raft(s5) else { continue };
            if let Some((index, term)) = raft.start(big("Y", BIG)) {
                if index != x_index {
                    ts.fatal(format!("set-up (b): Y got index {index}, X has {x_index}"));
                }
                if !wait_persisted(&ts, s5, before + BIG) {
                    ts.fatal(format!("set-up (b): server {s5} did not persist Y"));
                }
                break 'b (s5, term);
            }
        }
        ts.fatal("set-up (b): no leader accepted Y");
    };
    ts.group().shutdown_server(s5);
    let (s3, s4) = {
        let others: Vec<usize> = rest.iter().copied().filter(|&i| i != s5).collect();
        (others[0], others[1])
    };

    // (c) S1 restarts; S1 or S2 leads a later term and puts X on a majority.
    ts.group().start_server(s1);
    let sizes = (ts.persisted_size(s3), ts.persisted_size(s4));
    only(&ts, &[&[s1, s2, s3, s4]]);
    let Some((l3, l3_term)) = wait_leader(&ts, &[s1, s2], y_term + 1, ELECTION_BOUND) else {
        ts.fatal("set-up (c): neither server holding X was elected");
    };
    if !wait_persisted(&ts, s3, sizes.0 + BIG) || !wait_persisted(&ts, s4, sizes.1 + BIG) {
        ts.fatal(format!(
            "set-up (c): leader {l3} did not replicate X to {s3} and {s4}"
        ));
    }
    // A leader that counts replicas of an old term's entry commits X now: give
    // it a few heartbeats to do so and to tell its followers.
    ts.wait_for(ms(1000), || {
        (0..servers).find(|&i| ts.applied_at(i, x_index).is_some())
    });

    // (d) That leader crashes; S5 restarts and is the only one that can win.
    ts.group().shutdown_server(l3);
    ts.group().start_server(s5);
    only(&ts, &[&[s5, s3, s4]]);
    if wait_leader(&ts, &[s5], l3_term + 1, ELECTION_BOUND).is_none() {
        ts.fatal("set-up (d): the server holding Y was not elected");
    }
    let Some((z_index, _)) = ts.raft(s5).and_then(|r| r.start(TestCmd::Int(rand_int()))) else {
        ts.fatal("set-up (d): the new leader rejected Start()");
    };
    ts.wait(z_index, 3, None);
    match ts.applied_at(s5, x_index) {
        Some(TestCmd::Str(y)) if y.starts_with("Y-") => {}
        other => ts.fatal(format!("index {x_index} holds {other:?}, expected Y")),
    }

    // Everyone back: the log with Y wins everywhere.
    heal(&ts);
    ts.one(rand_int(), servers, true);
}

/// A vote reply that arrives after its candidate moved on to a later term
/// must not count (Figure 2, "Rules for Servers": a candidate becomes leader
/// on votes from a majority *for its current term*; §5.2, Election Safety).
///
/// Three servers. A is cut off and climbs terms as a candidate. A's link to B
/// is mended for one request: B grants A its vote in term Ta, and the reply is
/// held in the network; A is cut off again. B and C elect a leader of a later
/// term T1. A keeps climbing and, while it is a candidate of term T1, the held
/// grant (for Ta) is delivered. A candidate that counts it has a majority (its
/// own vote and B's) and leads term T1 beside the real leader: the observer
/// fails the test (two leaders of one term). A correct candidate ignores it.
/// If A has passed T1 before B and C have a leader, the round is retried.
#[test]
fn stale_vote_reply_3a() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3A): a vote reply from an earlier term arrives late, scripted");

    let mut tested = false;
    for round in 1..=ATTEMPTS {
        heal(&ts);
        let leader = ts.check_one_leader();
        let Some((t0, _)) = ts.state(leader) else {
            continue;
        };
        let a = (leader + 1) % servers;
        let b = (leader + 2) % servers;
        let c = leader;

        // A climbs terms alone.
        ts.group().disconnect_all(a);
        if ts
            .wait_for(ELECTION_BOUND, || ts.state(a).filter(|s| s.0 > t0))
            .is_none()
        {
            ts.fatal("set-up: the cut-off server never became a candidate");
        }

        // One round trip A -> B whose reply is held: B grants A its vote.
        let gate = Gate::new();
        let held = gate.clone();
        let rule: Arc<LinkRule> = Arc::new(move |from, to, _call: &CallInfo<'_>| {
            if from == a && to == b {
                Verdict::HoldReply(held.clone())
            } else {
                Verdict::Deliver
            }
        });
        ts.set_links(Some(rule));
        ts.group().connect(a, &[b]);
        let granted = gate.wait_held(1, ms(3000));
        ts.group().disconnect_all(a);
        if !granted {
            continue;
        }
        let b_term = ts.state(b).map_or(0, |s| s.0);

        // B and C elect a leader of a later term; A must not be past it yet.
        let Some((x1, t1)) = wait_leader(&ts, &[b, c], b_term + 1, ELECTION_BOUND) else {
            continue;
        };
        if ts.state(a).is_none_or(|s| s.0 > t1) {
            continue;
        }
        // Deliver the stale grant while A is a candidate of T1.
        if ts
            .wait_for(ELECTION_BOUND, || ts.state(a).filter(|s| s.0 >= t1))
            .is_none_or(|s| s.0 != t1)
        {
            continue;
        }
        gate.open();
        ts.wait_for(ms(1000), || (gate.waiting() == 0).then_some(()));
        sleep(ms(100));
        if ts.state(x1) != Some((t1, true)) {
            continue;
        }
        if ts.state(a) == Some((t1, true)) {
            ts.fatal(format!(
                "servers {x1} and {a} both lead term {t1}: {a} counted a vote of an earlier term"
            ));
        }
        if ts.state(a).is_some_and(|s| s.0 == t1) {
            tested = true;
            report_round(round);
            break;
        }
    }
    if !tested {
        ts.fatal(format!(
            "set-up: no round in {ATTEMPTS} delivered the stale vote while its candidate was in the leader's term"
        ));
    }

    heal(&ts);
    ts.check_one_leader();
    ts.one(rand_int(), servers, true);
}

/// A vote survives a crash (Figure 2: votedFor is persistent state, saved
/// before the reply is sent; §5.2, each server votes for at most one
/// candidate in a term).
///
/// Three servers, B the leader of term T0, A and C its followers, A and C
/// unable to reach each other. B's heartbeats to A stop, so A becomes a
/// candidate of T0+1 = T; its vote request is held. B's heartbeat then
/// reaches A, and A's reply teaches B term T: B steps down in T without a vote.
/// Now A's request is delivered and B grants it (a vote cast in a term B
/// already had, so only a persist of the vote itself saves it): A leads T. C
/// times out into T as well; its request is held. B crashes and restarts, and
/// C's request of term T reaches the restarted B. A B that forgot its vote
/// grants it, and C leads T beside A: the observer fails the test. A B that
/// saved its vote refuses. A round whose timing let C leave term T first is
/// retried.
#[test]
fn vote_persist_crash_3c() {
    let servers = 3;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3C): a vote survives a crash, scripted");

    // Phase of the rule: 0 = B's heartbeats to A lost, 1 = delivered.
    let mut tested = false;
    for round in 1..=ATTEMPTS {
        heal(&ts);
        let b = ts.check_one_leader();
        let Some((t0, true)) = ts.state(b) else {
            continue;
        };
        let a = (b + 1) % servers;
        let c = (b + 2) % servers;
        let t = t0 + 1;

        let (gate_a, gate_c) = (Gate::new(), Gate::new());
        let phase = Arc::new(AtomicU8::new(0));
        let rule: Arc<LinkRule> = {
            let (gate_a, gate_c, phase) = (gate_a.clone(), gate_c.clone(), Arc::clone(&phase));
            Arc::new(move |from, to, _call: &CallInfo<'_>| {
                let a_c = (from == a && to == c) || (from == c && to == a);
                let heartbeat_to_a = from == b && to == a && phase.load(Ordering::SeqCst) == 0;
                if a_c || heartbeat_to_a {
                    Verdict::Drop
                } else if from == a && to == b {
                    Verdict::HoldRequest(gate_a.clone())
                } else if from == c && to == b {
                    Verdict::HoldRequest(gate_c.clone())
                } else {
                    Verdict::Deliver
                }
            })
        };
        ts.set_links(Some(rule));

        // A becomes a candidate of T; its request waits.
        if ts
            .wait_for(ELECTION_BOUND, || ts.state(a).filter(|s| s.0 > t0))
            .is_none_or(|s| s.0 != t)
            || !gate_a.wait_held(1, ms(1000))
        {
            continue;
        }
        // B learns T from A's answer to a heartbeat, without voting.
        phase.store(1, Ordering::SeqCst);
        if ts
            .wait_for(ms(2000), || ts.state(b).filter(|s| s.0 >= t && !s.1))
            .is_none_or(|s| s.0 != t)
            || ts.state(a).is_none_or(|s| s.0 != t)
        {
            continue;
        }
        // B grants A the vote of T: A leads T.
        gate_a.open();
        if wait_leader(&ts, &[a], t, ms(2000)).is_none_or(|(_, term)| term != t) {
            continue;
        }
        // C becomes a candidate of T; its request waits.
        if ts
            .wait_for(ELECTION_BOUND, || ts.state(c).filter(|s| s.0 >= t))
            .is_none_or(|s| s.0 != t)
            || !gate_c.wait_held(1, ms(500))
        {
            continue;
        }
        // B crashes and restarts; then C's request reaches it.
        ts.group().shutdown_server(b);
        ts.group().start_server(b);
        ts.group().connect_one(b);
        gate_c.open();
        ts.wait_for(ms(1000), || (gate_c.waiting() == 0).then_some(()));
        sleep(ms(100));
        if ts.state(c) == Some((t, true)) && ts.state(a) == Some((t, true)) {
            ts.fatal(format!(
                "servers {a} and {c} both lead term {t}: {b} forgot its vote across a crash"
            ));
        }
        if ts.state(c).is_some_and(|s| s.0 == t) {
            tested = true;
            report_round(round);
            break;
        }
    }
    if !tested {
        ts.fatal(format!(
            "set-up: no round in {ATTEMPTS} had the second candidate ask the restarted voter in the same term"
        ));
    }

    heal(&ts);
    ts.check_one_leader();
    ts.one(rand_int(), servers, true);
}

/// A follower's commit index comes only from what the leader's AppendEntries
/// matched (Figure 2, AppendEntries receiver: reply false if the log does not
/// contain an entry at prevLogIndex whose term matches prevLogTerm; if
/// leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of
/// the last new entry); §5.3).
///
/// Five servers. Leader A and follower F are cut off together; A gives F
/// extra entries of its term that can never commit. The other three elect a
/// leader, which commits different entries at the same indices, and is then
/// cut off too. F joins the two remaining ones, which elect a new leader M:
/// M's first heartbeat to F carries the commit index over those indices and
/// a prevLogIndex where F holds an entry of the old term. A follower that
/// takes the commit index before checking the match (or from its own log
/// length rather than the entries the leader sent) applies A's entries there,
/// and the apply checks fail at once. A correct follower rejects the
/// heartbeat, is repaired, and applies the committed entries.
#[test]
fn extra_entries_commit_3b() {
    let servers = 5;
    let ts = Test::new(servers, true, false);
    ts.begin("Test (3B): a follower with extra old-term entries gets a commit index, scripted");
    const EXTRA: u64 = 5;
    const BIG: usize = 200;

    ts.one(rand_int(), servers, true);

    // A and F alone: A's extra entries reach F only. F's answer to the
    // AppendEntries that carries the last of them is the sign that F stored
    // them (3B needs no persistence to show it).
    let extra: Vec<TestCmd> = (0..EXTRA).map(|_| big("A", BIG)).collect();
    let last_bytes = match &extra[EXTRA as usize - 1] {
        TestCmd::Str(s) => s.clone().into_bytes(),
        TestCmd::Int(_) => unreachable!("big() makes strings"),
    };
    let (a, f, first) = 'a: {
        for _ in 0..ATTEMPTS {
            heal(&ts);
            let a = ts.check_one_leader();
            let f = (a + 1) % servers;
            let gate = Gate::new();
            let rule: Arc<LinkRule> = {
                let (gate, seen, last_bytes) = (
                    gate.clone(),
                    Arc::new(AtomicBool::new(false)),
                    last_bytes.clone(),
                );
                Arc::new(move |from, to, call: &CallInfo<'_>| {
                    if from == a
                        && to == f
                        && !seen.load(Ordering::SeqCst)
                        && contains(call.args, &last_bytes)
                        && !seen.swap(true, Ordering::SeqCst)
                    {
                        Verdict::HoldReply(gate.clone())
                    } else {
                        Verdict::Deliver
                    }
                })
            };
            ts.set_links(Some(rule));
            only(&ts, &[&[a, f]]);
            let Some(raft) = ts.raft(a) else { continue };
            let Some((first, _)) = raft.start(extra[0].clone()) else {
                continue;
            };
            for (k, cmd) in extra.iter().enumerate().skip(1) {
                match raft.start(cmd.clone()) {
                    Some((index, _)) if index == first + k as u64 => {}
                    other => ts.fatal(format!(
                        "set-up: leader {a} answered {other:?} to Start() of extra entry {k}"
                    )),
                }
            }
            if !gate.wait_held(1, REPLICATION_BOUND) {
                ts.fatal(format!(
                    "set-up: follower {f} did not answer an AppendEntries carrying the extra entries"
                ));
            }
            gate.open();
            ts.set_links(None);
            break 'a (a, f, first);
        }
        ts.fatal("set-up: no leader accepted the extra entries");
    };
    let last = first + EXTRA - 1;
    let rest: Vec<usize> = (0..servers).filter(|i| ![a, f].contains(i)).collect();

    // The other three commit other entries at those indices.
    only(&ts, &[&[a, f], &rest]);
    let a_term = ts.state(a).map_or(0, |s| s.0);
    let Some((l, _)) = wait_leader(&ts, &rest, a_term + 1, ELECTION_BOUND) else {
        ts.fatal("set-up: the majority elected no leader");
    };
    let raft = ts.raft(l).expect("the leader is up");
    for k in 0..EXTRA {
        match raft.start(big("L", BIG)) {
            Some((index, _)) if index == first + k => {}
            other => ts.fatal(format!(
                "set-up: the majority's leader answered {other:?} to Start() of entry {}",
                first + k
            )),
        }
    }
    let applied_by_all = ts.wait_for(REPLICATION_BOUND, || {
        rest.iter()
            .all(|&i| ts.last_applied(i) >= last)
            .then_some(())
    });
    if applied_by_all.is_none() {
        ts.fatal("set-up: the majority did not commit its entries");
    }
    let l_term = ts.state(l).map_or(0, |s| s.0);

    // F joins the two others, which elect a new leader: its first heartbeat
    // to F says prevLogIndex = last, leaderCommit = last.
    let pair: Vec<usize> = rest.iter().copied().filter(|&i| i != l).collect();
    only(&ts, &[&[f, pair[0], pair[1]]]);
    if wait_leader(&ts, &pair, l_term + 1, ELECTION_BOUND).is_none() {
        ts.fatal("set-up: the two servers with the committed entries elected no leader");
    }
    // A correct F is repaired and applies the committed entries.
    let repaired = ts.wait_for(REPLICATION_BOUND, || {
        (ts.last_applied(f) >= last).then_some(())
    });
    if repaired.is_none() {
        ts.fatal(format!("follower {f} did not apply through index {last}"));
    }
    match ts.applied_at(f, first) {
        Some(TestCmd::Str(s)) if s.starts_with("L-") => {}
        other => ts.fatal(format!("follower {f} applied {other:?} at {first}")),
    }

    heal(&ts);
    ts.one(rand_int(), servers, true);
}

/// An InstallSnapshot older than what the follower has already applied
/// changes nothing (Figure 13, InstallSnapshot receiver: a snapshot that
/// does not go past the follower's log is only a prefix of it; the service's
/// state never goes back, §7).
///
/// Three servers with the snapshot-making service. A follower F is down
/// while the leader commits enough to compact its log past F. When F
/// restarts (in the leader's term, which it persisted), the leader's first InstallSnapshot to F (recognised by the
/// service's snapshot bytes it carries) is held in the network; the leader's
/// next one catches F up, and F applies entries past the snapshot. Then the
/// held one is delivered, in the same term. A follower that installs it
/// hands the service a snapshot behind what it applied (or rewinds its
/// commit index), and the apply checks fail at once. A correct follower
/// ignores it.
#[test]
fn stale_install_snapshot_3d() {
    let servers = 3;
    let ts = Test::new(servers, true, true);
    ts.begin(
        "Test (3D): a stale InstallSnapshot arrives after the follower moved past it, scripted",
    );

    let mut tested = false;
    for round in 1..=ATTEMPTS {
        heal(&ts);
        ts.one(rand_int(), servers, true);
        let leader = ts.check_one_leader();
        let Some((term, true)) = ts.state(leader) else {
            continue;
        };
        let f = (leader + 1) % servers;

        // F down (not cut off: it must not climb terms meanwhile); the others
        // commit until the leader's log is compacted past F, ending a few
        // entries after a snapshot index.
        ts.group().shutdown_server(f);
        let start = ts.max_index();
        while ts.max_index() < start + 20 || ts.max_index() % 10 != 5 {
            ts.one(rand_int(), servers - 1, true);
        }
        let committed = ts.max_index();
        let snaps = ts.snapshots_made(leader);
        if snaps.is_empty() || ts.state(leader) != Some((term, true)) {
            continue;
        }

        // Hold the first InstallSnapshot to F; let the others through.
        let gate = Gate::new();
        let used = Arc::new(AtomicBool::new(false));
        let rule: Arc<LinkRule> = {
            let (gate, used) = (gate.clone(), Arc::clone(&used));
            Arc::new(move |from, to, call: &CallInfo<'_>| {
                if from == leader
                    && to == f
                    && !used.load(Ordering::SeqCst)
                    && snaps.iter().any(|s| contains(call.args, s))
                    && !used.swap(true, Ordering::SeqCst)
                {
                    Verdict::HoldRequest(gate.clone())
                } else {
                    Verdict::Deliver
                }
            })
        };
        ts.set_links(Some(rule));
        ts.group().start_server(f);
        ts.group().connect_one(f);
        if !gate.wait_held(1, REPLICATION_BOUND) {
            ts.fatal(format!(
                "set-up: leader {leader} sent no InstallSnapshot carrying its snapshot to {f}"
            ));
        }
        // F catches up through a later InstallSnapshot and the entries after.
        if ts
            .wait_for(ELECTION_BOUND, || {
                (ts.last_applied(f) >= committed).then_some(())
            })
            .is_none()
        {
            ts.fatal(format!(
                "follower {f} did not catch up to {committed} while the first InstallSnapshot was held"
            ));
        }
        if ts.state(leader) != Some((term, true)) || ts.state(f).is_none_or(|s| s.0 != term) {
            gate.open();
            continue;
        }
        // The stale snapshot arrives.
        gate.open();
        ts.wait_for(ms(1000), || (gate.waiting() == 0).then_some(()));
        sleep(ms(300));
        ts.check_failure();
        if ts.state(f).is_some_and(|s| s.0 == term) && ts.last_applied(f) >= committed {
            tested = true;
            report_round(round);
            break;
        }
    }
    if !tested {
        ts.fatal(format!(
            "set-up: no round in {ATTEMPTS} delivered the stale InstallSnapshot in its own term"
        ));
    }
    heal(&ts);
    ts.one(rand_int(), servers, true);
}

/// Says how many rounds a scenario's set-up took (more than one when Raft's
/// timing spoiled a round).
fn report_round(round: usize) {
    if round > 1 {
        println!("  (scenario forced in round {round} of {ATTEMPTS})");
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
