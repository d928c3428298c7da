//! Unit tests of the core, one rule of the Raft paper each, with manual time
//! and seeded randomness.

use labrt::time::{Duration, Instant};
use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{Core, Output, Restored, Role, Timing};
use crate::apply::ApplyMsg;
use crate::log::{Entry, Log};
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, Outgoing, Request, RequestVoteArgs,
    RequestVoteReply, Response,
};
use crate::types::{LogIndex, PeerId, Term};

type Out = Output<u64>;

fn timing() -> Timing {
    Timing::default()
}

fn new_core(me: usize, peers: usize, restored: Restored<u64>, now: Instant) -> Core<u64> {
    Core::new(
        PeerId(me),
        peers,
        restored,
        timing(),
        StdRng::seed_from_u64(me as u64 + 7),
        now,
    )
}

fn entries(terms: &[u64]) -> Vec<Entry<u64>> {
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| Entry {
            term: Term(*t),
            command: 100 + i as u64,
        })
        .collect()
}

/// A core whose log holds entries of the given terms and whose current term is
/// the last of them (or `term`).
fn core_with_log(me: usize, peers: usize, term: u64, terms: &[u64], now: Instant) -> Core<u64> {
    let restored = Restored {
        term: Term(term),
        voted_for: None,
        log: Log::from_parts(LogIndex(0), Term(0), entries(terms)),
        snapshot: None,
    };
    new_core(me, peers, restored, now)
}

fn vote_args(term: u64, candidate: usize, last_index: u64, last_term: u64) -> RequestVoteArgs {
    RequestVoteArgs {
        term: Term(term),
        candidate: PeerId(candidate),
        last_log_index: LogIndex(last_index),
        last_log_term: Term(last_term),
    }
}

fn append_args(
    term: u64,
    prev: u64,
    prev_term: u64,
    new_terms: &[u64],
    commit: u64,
) -> AppendEntriesArgs<u64> {
    AppendEntriesArgs {
        term: Term(term),
        leader: PeerId(0),
        prev_log_index: LogIndex(prev),
        prev_log_term: Term(prev_term),
        entries: entries(new_terms),
        leader_commit: LogIndex(commit),
    }
}

fn log_terms(core: &Core<u64>) -> Vec<u64> {
    core.log().entries().iter().map(|e| e.term.0).collect()
}

/// Makes `core` leader of the next term by starting an election at `now` and
/// granting every vote; returns the heartbeat round it sends.
fn elect(core: &mut Core<u64>, now: Instant) -> Vec<Outgoing<u64>> {
    let mut out = Out::default();
    core.start_election(now, &mut out);
    let term = core.term();
    for req in out.messages {
        let Request::Vote(args) = &req.request else {
            panic!("candidate sent {:?}", req.request)
        };
        let reply = Response::Vote(RequestVoteReply {
            term,
            vote_granted: true,
        });
        let mut o = Out::default();
        core.on_outcome(req.to, req.seq, &req.request, Some(&reply), now, &mut o);
        let _ = args;
        if core.is_leader() {
            return o.messages;
        }
    }
    panic!("not elected")
}

// ---- Election (§5.2) ----------------------------------------------------------

/// A follower that hears nothing for an election timeout becomes a candidate:
/// new term, votes for itself, persists, and asks every other peer.
#[test]
fn follower_times_out_and_starts_election() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let mut out = Out::default();
    core.tick(
        t0 + timing().election_min - Duration::from_millis(1),
        &mut out,
    );
    assert!(matches!(core.role(), Role::Follower));
    assert!(out.messages.is_empty());

    core.tick(t0 + timing().election_max, &mut out);
    assert!(matches!(core.role(), Role::Candidate { .. }));
    assert_eq!(core.term(), Term(1));
    assert_eq!(core.voted_for(), Some(PeerId(0)));
    assert!(out.persist && out.state_changed);
    let to: Vec<usize> = out.messages.iter().map(|m| m.to.0).collect();
    assert_eq!(to, vec![1, 2]);
    assert!(
        out.messages
            .iter()
            .all(|m| matches!(&m.request, Request::Vote(a) if a.term == Term(1)))
    );
}

/// Election timeouts are random within [min, max), so peers rarely tie.
#[test]
fn election_timeouts_are_randomised() {
    let t0 = Instant::now();
    let deadlines: Vec<Duration> = (0..8)
        .map(|me| new_core(me, 8, Restored::fresh(), t0).next_deadline() - t0)
        .collect();
    for d in &deadlines {
        assert!(
            *d >= timing().election_min && *d < timing().election_max,
            "{d:?}"
        );
    }
    let mut distinct = deadlines.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 1, "all timeouts equal: {deadlines:?}");
}

/// A candidate that receives votes from a majority becomes leader and sends
/// heartbeats to every other peer at once.
#[test]
fn candidate_with_majority_becomes_leader_and_sends_heartbeats() {
    let t0 = Instant::now();
    let mut core = new_core(0, 5, Restored::fresh(), t0);
    let mut out = Out::default();
    core.start_election(t0, &mut out);
    let requests = out.messages;
    let granted = Response::Vote(RequestVoteReply {
        term: Term(1),
        vote_granted: true,
    });
    let mut out = Out::default();
    core.on_outcome(
        PeerId(1),
        requests[0].seq,
        &requests[0].request,
        Some(&granted),
        t0,
        &mut out,
    );
    assert!(!core.is_leader(), "2 of 5 votes is not a majority");
    core.on_outcome(
        PeerId(2),
        requests[1].seq,
        &requests[1].request,
        Some(&granted),
        t0,
        &mut out,
    );
    assert!(core.is_leader());
    assert!(out.state_changed);
    let to: Vec<usize> = out.messages.iter().map(|m| m.to.0).collect();
    assert_eq!(to, vec![1, 2, 3, 4]);
    assert!(
        out.messages
            .iter()
            .all(|m| matches!(&m.request, Request::Append(a) if a.entries.is_empty()))
    );
}

/// Denied and lost votes do not count.
#[test]
fn candidate_without_majority_stays_candidate() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let mut out = Out::default();
    core.start_election(t0, &mut out);
    let requests = out.messages;
    let denied = Response::Vote(RequestVoteReply {
        term: Term(1),
        vote_granted: false,
    });
    let mut out = Out::default();
    core.on_outcome(
        PeerId(1),
        requests[0].seq,
        &requests[0].request,
        Some(&denied),
        t0,
        &mut out,
    );
    core.on_outcome(
        PeerId(2),
        requests[1].seq,
        &requests[1].request,
        None,
        t0,
        &mut out,
    );
    assert!(matches!(core.role(), Role::Candidate { .. }));
}

/// A candidate whose election times out starts another in a new term.
#[test]
fn split_vote_leads_to_new_election() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let mut out = Out::default();
    core.start_election(t0, &mut out);
    let mut out = Out::default();
    core.tick(t0 + timing().election_max, &mut out);
    assert_eq!(core.term(), Term(2));
    assert_eq!(out.messages.len(), 2);
}

/// Each peer votes for at most one candidate per term (first come, first served).
#[test]
fn at_most_one_vote_per_term() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let mut out = Out::default();
    assert!(
        core.on_request_vote(&vote_args(1, 1, 0, 0), t0, &mut out)
            .vote_granted
    );
    assert!(out.persist, "a vote must be persisted before the reply");
    assert!(
        !core
            .on_request_vote(&vote_args(1, 2, 0, 0), t0, &mut out)
            .vote_granted
    );
    assert!(
        core.on_request_vote(&vote_args(1, 1, 0, 0), t0, &mut out)
            .vote_granted,
        "a repeated request from the same candidate is granted again"
    );
    assert!(
        core.on_request_vote(&vote_args(2, 2, 0, 0), t0, &mut out)
            .vote_granted
    );
}

/// §5.4.1: a vote goes only to a candidate whose log is at least as up to date
/// (later last term, or same last term and at least as long).
#[test]
fn vote_denied_to_candidate_with_stale_log() {
    let t0 = Instant::now();
    let mut core = core_with_log(0, 3, 3, &[1, 3, 3], t0);
    let mut out = Out::default();
    assert!(
        !core
            .on_request_vote(&vote_args(4, 1, 5, 2), t0, &mut out)
            .vote_granted
    );
    assert!(
        !core
            .on_request_vote(&vote_args(5, 1, 2, 3), t0, &mut out)
            .vote_granted
    );
    assert!(
        core.on_request_vote(&vote_args(6, 1, 3, 3), t0, &mut out)
            .vote_granted
    );
    let mut core = core_with_log(0, 3, 3, &[1, 3, 3], t0);
    assert!(
        core.on_request_vote(&vote_args(4, 2, 1, 4), t0, &mut out)
            .vote_granted
    );
}

/// Granting a vote restarts the election timer; denying it does not.
#[test]
fn granting_vote_resets_election_timer() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let before = core.next_deadline();
    let later = t0 + Duration::from_millis(250);
    let mut out = Out::default();
    core.on_request_vote(&vote_args(1, 1, 0, 0), later, &mut out);
    assert!(core.next_deadline() >= later + timing().election_min);
    let granted_deadline = core.next_deadline();
    core.on_request_vote(
        &vote_args(1, 2, 0, 0),
        later + Duration::from_millis(100),
        &mut out,
    );
    assert_eq!(core.next_deadline(), granted_deadline);
    assert_ne!(before, granted_deadline);
}

// ---- Terms (§5.1) -------------------------------------------------------------

/// A request with a stale term is rejected and the reply carries the current term.
#[test]
fn stale_term_request_is_rejected() {
    let t0 = Instant::now();
    let mut core = core_with_log(0, 3, 5, &[1], t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(4, 0, 0, &[4], 0), t0, &mut out);
    assert!(!reply.success);
    assert_eq!(reply.term, Term(5));
    assert_eq!(log_terms(&core), vec![1]);
    let reply = core.on_request_vote(&vote_args(4, 1, 9, 4), t0, &mut out);
    assert!(!reply.vote_granted);
}

/// A leader that sees a newer term in a reply steps down and persists the term.
#[test]
fn leader_steps_down_on_newer_term() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let heartbeats = elect(&mut core, t0);
    let hb = &heartbeats[0];
    let reply = Response::Append(AppendEntriesReply {
        term: Term(7),
        ..Default::default()
    });
    let mut out = Out::default();
    core.on_outcome(hb.to, hb.seq, &hb.request, Some(&reply), t0, &mut out);
    assert!(matches!(core.role(), Role::Follower));
    assert_eq!(core.term(), Term(7));
    assert_eq!(core.voted_for(), None);
    assert!(out.persist && out.state_changed);
}

/// A candidate that hears from a leader of its own term becomes a follower.
#[test]
fn candidate_yields_to_leader_of_same_term() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let mut out = Out::default();
    core.start_election(t0, &mut out);
    let reply = core.on_append_entries(&append_args(1, 0, 0, &[], 0), t0, &mut out);
    assert!(reply.success);
    assert!(matches!(core.role(), Role::Follower));
    assert_eq!(core.term(), Term(1));
}

// ---- Log replication (§5.3) ------------------------------------------------------

/// The consistency check: a follower missing the entry at prev_log_index says
/// where its log ends.
#[test]
fn append_rejected_when_follower_log_too_short() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 2, &[1, 2], t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(2, 5, 2, &[2], 0), t0, &mut out);
    assert!(!reply.success);
    assert_eq!(reply.conflict_term, None);
    assert_eq!(reply.conflict_index, LogIndex(3));
}

/// The consistency check: a different term at prev_log_index is rejected with
/// that term and the first index the follower holds of it.
#[test]
fn append_rejected_on_term_mismatch_with_conflict_hint() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 3, &[1, 2, 2, 2], t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(3, 4, 3, &[3], 0), t0, &mut out);
    assert!(!reply.success);
    assert_eq!(reply.conflict_term, Some(Term(2)));
    assert_eq!(reply.conflict_index, LogIndex(2));
    assert_eq!(
        log_terms(&core),
        vec![1, 2, 2, 2],
        "a rejected append changes nothing"
    );
}

/// A conflicting entry and everything after it are deleted and replaced by the
/// leader's entries.
#[test]
fn conflicting_entries_are_replaced() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 2, &[1, 2, 2], t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(3, 1, 1, &[3, 3], 0), t0, &mut out);
    assert!(reply.success);
    assert_eq!(log_terms(&core), vec![1, 3, 3]);
    assert!(out.persist);
}

/// An old, shorter append that arrives late never truncates entries that match.
#[test]
fn stale_append_does_not_truncate_matching_entries() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 2, &[1, 2, 2, 2], t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(2, 1, 1, &[2], 0), t0, &mut out);
    assert!(reply.success);
    assert_eq!(log_terms(&core), vec![1, 2, 2, 2]);
    assert!(!out.persist, "nothing changed, nothing to persist");
}

/// A follower's commit index follows the leader's, but never past the last
/// entry this request vouched for.
#[test]
fn follower_commit_bounded_by_last_new_entry() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 2, &[1, 2, 2, 9], t0);
    let mut out = Out::default();
    core.on_append_entries(&append_args(2, 2, 2, &[], 10), t0, &mut out);
    assert_eq!(core.commit_index(), LogIndex(2));
    assert!(out.apply_ready);
    let applied = core.take_apply(10);
    let indices: Vec<u64> = applied
        .iter()
        .map(|m| match m {
            ApplyMsg::Command { index, .. } => *index,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(indices, vec![1, 2]);
    assert!(core.take_apply(10).is_empty(), "each entry is applied once");
}

/// Start appends at once and sends at once; further entries wait while a
/// request carrying entries is out, then go together in one batch.
#[test]
fn start_sends_at_once_and_batches_while_in_flight() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let heartbeats = elect(&mut core, t0);
    let mut out = Out::default();
    for hb in &heartbeats {
        let ok = Response::Append(AppendEntriesReply {
            term: core.term(),
            success: true,
            ..Default::default()
        });
        core.on_outcome(hb.to, hb.seq, &hb.request, Some(&ok), t0, &mut out);
    }
    let mut out = Out::default();
    assert_eq!(core.propose(7, t0, &mut out), Some((LogIndex(1), Term(1))));
    assert!(out.persist);
    assert_eq!(
        out.messages.len(),
        2,
        "start sends to both followers at once"
    );
    let first = out.messages;
    let mut out = Out::default();
    for cmd in 8..18 {
        core.propose(cmd, t0, &mut out);
    }
    assert!(
        out.messages.is_empty(),
        "entries wait while the first batch is out"
    );
    let ok = Response::Append(AppendEntriesReply {
        term: core.term(),
        success: true,
        ..Default::default()
    });
    let mut out = Out::default();
    core.on_outcome(
        first[0].to,
        first[0].seq,
        &first[0].request,
        Some(&ok),
        t0,
        &mut out,
    );
    assert_eq!(
        core.commit_index(),
        LogIndex(1),
        "a majority (2 of 3) holds entry 1"
    );
    assert_eq!(out.messages.len(), 1);
    let Request::Append(batch) = &out.messages[0].request else {
        panic!("expected AppendEntries")
    };
    assert_eq!(batch.prev_log_index, LogIndex(1));
    assert_eq!(
        batch.entries.len(),
        10,
        "the waiting entries go in one batch"
    );
    assert_eq!(batch.leader_commit, LogIndex(1));
}

/// A leader sends each follower at most one heartbeat per heartbeat interval
/// when idle.
#[test]
fn idle_leader_heartbeats_once_per_interval() {
    let t0 = Instant::now();
    let mut core = new_core(0, 3, Restored::fresh(), t0);
    let heartbeats = elect(&mut core, t0);
    let mut out = Out::default();
    for hb in &heartbeats {
        let ok = Response::Append(AppendEntriesReply {
            term: core.term(),
            success: true,
            ..Default::default()
        });
        core.on_outcome(hb.to, hb.seq, &hb.request, Some(&ok), t0, &mut out);
    }
    assert!(out.messages.is_empty());
    let hb = timing().heartbeat;
    assert_eq!(core.next_deadline(), t0 + hb);
    let mut sent = 0;
    let mut now = t0;
    while now < t0 + Duration::from_secs(1) {
        now += Duration::from_millis(10);
        let mut out = Out::default();
        core.tick(now, &mut out);
        sent += out.messages.len();
    }
    assert_eq!(
        sent,
        2 * 10,
        "ten heartbeats per second to each of two followers"
    );
}

/// On a conflict the leader backs up a whole term per round trip: to the
/// follower's first index of the conflicting term if the leader has no entry
/// of that term, else just past its own last entry of that term.
#[test]
fn leader_backs_up_a_term_per_round_trip() {
    let t0 = Instant::now();
    let mut core = core_with_log(0, 3, 5, &[1, 1, 4, 4, 5, 5], t0);
    let heartbeats = elect(&mut core, t0);
    let hb = &heartbeats[0];
    let Request::Append(args) = &hb.request else {
        panic!()
    };
    assert_eq!(args.prev_log_index, LogIndex(6));
    // The follower has term 3 at index 6 from index 3 on; the leader has no term 3.
    let reject = Response::Append(AppendEntriesReply {
        term: core.term(),
        success: false,
        conflict_index: LogIndex(3),
        conflict_term: Some(Term(3)),
    });
    let mut out = Out::default();
    core.on_outcome(hb.to, hb.seq, &hb.request, Some(&reject), t0, &mut out);
    let retry = out
        .messages
        .iter()
        .find(|m| m.to == hb.to)
        .expect("retries at once");
    let Request::Append(args) = &retry.request else {
        panic!()
    };
    assert_eq!(args.prev_log_index, LogIndex(2));
    assert_eq!(args.entries.len(), 4);
    // A follower with term 4 at the probe point: the leader jumps past its own term 4.
    let reject = Response::Append(AppendEntriesReply {
        term: core.term(),
        success: false,
        conflict_index: LogIndex(3),
        conflict_term: Some(Term(4)),
    });
    let mut out = Out::default();
    core.on_outcome(
        retry.to,
        retry.seq,
        &retry.request,
        Some(&reject),
        t0,
        &mut out,
    );
    let retry = out
        .messages
        .iter()
        .find(|m| m.to == hb.to)
        .expect("retries at once");
    let Request::Append(args) = &retry.request else {
        panic!()
    };
    assert_eq!(args.prev_log_index, LogIndex(4));
}

// ---- Safety (§5.4.2, Figure 8) ------------------------------------------------------

/// A leader never commits an entry of an earlier term by counting replicas;
/// it commits it only together with an entry of its own term.
#[test]
fn leader_commits_only_current_term_entries_by_counting() {
    let t0 = Instant::now();
    let mut core = core_with_log(0, 3, 2, &[1, 2], t0);
    let heartbeats = elect(&mut core, t0);
    let hb = &heartbeats[0];
    let ok = Response::Append(AppendEntriesReply {
        term: core.term(),
        success: true,
        ..Default::default()
    });
    let mut out = Out::default();
    core.on_outcome(hb.to, hb.seq, &hb.request, Some(&ok), t0, &mut out);
    // The follower now matches through index 2 (term 2), on a majority, but the
    // leader is in term 3.
    assert_eq!(core.commit_index(), LogIndex(0));
    let mut out = Out::default();
    core.propose(99, t0, &mut out);
    let send = out.messages.iter().find(|m| m.to == hb.to).unwrap();
    let mut out2 = Out::default();
    core.on_outcome(send.to, send.seq, &send.request, Some(&ok), t0, &mut out2);
    assert_eq!(
        core.commit_index(),
        LogIndex(3),
        "entry 3 of term 3 commits 1..=3"
    );
}

// ---- Snapshots (§7) -------------------------------------------------------------

/// The service's snapshot trims the log through its index and is persisted;
/// a snapshot of an index not yet applied is ignored.
#[test]
fn service_snapshot_trims_log() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 1, &[1, 1, 1, 1], t0);
    let mut out = Out::default();
    core.on_append_entries(&append_args(1, 4, 1, &[], 3), t0, &mut out);
    assert_eq!(core.take_apply(10).len(), 3);
    let mut out = Out::default();
    core.snapshot(LogIndex(4), vec![4], &mut out);
    assert!(!out.persist, "index 4 is not applied yet");
    core.snapshot(LogIndex(2), vec![2], &mut out);
    assert!(out.persist);
    assert_eq!(core.log().snapshot_index(), LogIndex(2));
    assert_eq!(core.log().entries().len(), 2);
    assert_eq!(core.snapshot_data().as_deref(), Some(&[2u8][..]));
}

/// A leader whose follower needs compacted entries sends its snapshot instead.
#[test]
fn lagging_follower_gets_install_snapshot() {
    let t0 = Instant::now();
    let restored = Restored {
        term: Term(1),
        voted_for: None,
        log: Log::from_parts(LogIndex(10), Term(1), entries(&[1, 1])),
        snapshot: Some(vec![42u8].into()),
    };
    let mut core = new_core(0, 3, restored, t0);
    let heartbeats = elect(&mut core, t0);
    let hb = &heartbeats[0];
    let reject = Response::Append(AppendEntriesReply {
        term: core.term(),
        success: false,
        conflict_index: LogIndex(4),
        conflict_term: None,
    });
    let mut out = Out::default();
    core.on_outcome(hb.to, hb.seq, &hb.request, Some(&reject), t0, &mut out);
    let install = out.messages.iter().find(|m| m.to == hb.to).unwrap();
    let Request::Snapshot(args) = &install.request else {
        panic!("expected InstallSnapshot, got {:?}", install.request)
    };
    assert_eq!(args.last_included_index, LogIndex(10));
    assert_eq!(args.data, vec![42]);
    let ok = Response::Snapshot(crate::messages::InstallSnapshotReply { term: core.term() });
    let mut out = Out::default();
    core.on_outcome(
        install.to,
        install.seq,
        &install.request,
        Some(&ok),
        t0,
        &mut out,
    );
    let next = out.messages.iter().find(|m| m.to == hb.to).unwrap();
    let Request::Append(args) = &next.request else {
        panic!()
    };
    assert_eq!(args.prev_log_index, LogIndex(10));
    assert_eq!(args.entries.len(), 2);
}

/// InstallSnapshot keeps log entries that follow the snapshot and match it, and
/// the applier gets the snapshot before any later command.
#[test]
fn install_snapshot_keeps_matching_suffix_and_is_applied_first() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 1, &[1, 1, 1, 1, 1], t0);
    let mut out = Out::default();
    let args = InstallSnapshotArgs {
        term: Term(1),
        leader: PeerId(0),
        last_included_index: LogIndex(3),
        last_included_term: Term(1),
        data: vec![3],
    };
    core.on_install_snapshot(&args, t0, &mut out);
    assert!(out.persist && out.apply_ready);
    assert_eq!(core.log().snapshot_index(), LogIndex(3));
    assert_eq!(core.log().entries().len(), 2);
    assert_eq!(
        core.take_apply(10),
        vec![ApplyMsg::Snapshot {
            index: 3,
            term: 1,
            data: vec![3]
        }]
    );
    core.on_append_entries(&append_args(1, 5, 1, &[], 5), t0, &mut out);
    let next = core.take_apply(10);
    assert!(matches!(next[0], ApplyMsg::Command { index: 4, .. }));
    assert_eq!(next.len(), 2);
}

/// InstallSnapshot whose last entry conflicts with the follower's log discards
/// the whole log; one covering only committed entries changes nothing.
#[test]
fn install_snapshot_discards_conflicting_log_and_ignores_old_snapshots() {
    let t0 = Instant::now();
    let mut core = core_with_log(1, 3, 2, &[1, 1, 1, 1, 1], t0);
    let mut out = Out::default();
    let args = InstallSnapshotArgs {
        term: Term(2),
        leader: PeerId(0),
        last_included_index: LogIndex(3),
        last_included_term: Term(2),
        data: vec![3],
    };
    core.on_install_snapshot(&args, t0, &mut out);
    assert_eq!(core.log().snapshot_index(), LogIndex(3));
    assert!(core.log().entries().is_empty());
    let mut out = Out::default();
    let old = InstallSnapshotArgs {
        last_included_index: LogIndex(2),
        ..args
    };
    core.on_install_snapshot(&old, t0, &mut out);
    assert!(!out.persist);
    assert_eq!(core.log().snapshot_index(), LogIndex(3));
}

/// An AppendEntries reaching back before the snapshot skips the entries the
/// snapshot covers instead of failing.
#[test]
fn append_overlapping_snapshot_is_accepted() {
    let t0 = Instant::now();
    let restored = Restored {
        term: Term(1),
        voted_for: None,
        log: Log::from_parts(LogIndex(5), Term(1), entries(&[1])),
        snapshot: Some(vec![5u8].into()),
    };
    let mut core = new_core(1, 3, restored, t0);
    let mut out = Out::default();
    let reply = core.on_append_entries(&append_args(1, 3, 1, &[1, 1, 1, 1], 0), t0, &mut out);
    assert!(reply.success);
    assert_eq!(core.log().last_index(), LogIndex(7));
}

// ---- A whole cluster of cores on a simulated wire ------------------------------

/// Cores wired together synchronously: messages are delivered in FIFO order
/// unless an endpoint is cut off, in which case the sender sees a loss.
struct Sim {
    cores: Vec<Core<u64>>,
    up: Vec<bool>,
    now: Instant,
}

impl Sim {
    fn new(n: usize) -> Self {
        let now = Instant::now();
        Sim {
            cores: (0..n)
                .map(|i| new_core(i, n, Restored::fresh(), now))
                .collect(),
            up: vec![true; n],
            now,
        }
    }

    fn run(&mut self, from: usize, out: Out) {
        let mut queue: VecDeque<(usize, Outgoing<u64>)> =
            out.messages.into_iter().map(|m| (from, m)).collect();
        while let Some((from, msg)) = queue.pop_front() {
            let to = msg.to.0;
            let now = self.now;
            let response = if self.up[from] && self.up[to] {
                let mut o = Out::default();
                let r = match &msg.request {
                    Request::Vote(a) => {
                        Response::Vote(self.cores[to].on_request_vote(a, now, &mut o))
                    }
                    Request::Append(a) => {
                        Response::Append(self.cores[to].on_append_entries(a, now, &mut o))
                    }
                    Request::Snapshot(a) => {
                        Response::Snapshot(self.cores[to].on_install_snapshot(a, now, &mut o))
                    }
                };
                queue.extend(o.messages.into_iter().map(|m| (to, m)));
                Some(r)
            } else {
                None
            };
            let mut o = Out::default();
            self.cores[from].on_outcome(
                msg.to,
                msg.seq,
                &msg.request,
                response.as_ref(),
                now,
                &mut o,
            );
            queue.extend(o.messages.into_iter().map(|m| (from, m)));
        }
    }

    fn advance(&mut self, by: Duration) {
        let step = Duration::from_millis(10);
        let end = self.now + by;
        while self.now < end {
            self.now += step;
            for i in 0..self.cores.len() {
                let mut o = Out::default();
                self.cores[i].tick(self.now, &mut o);
                self.run(i, o);
            }
        }
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.cores.len())
            .filter(|i| self.up[*i] && self.cores[*i].is_leader())
            .collect()
    }

    fn propose(&mut self, leader: usize, cmd: u64) -> Option<(LogIndex, Term)> {
        let mut o = Out::default();
        let r = self.cores[leader].propose(cmd, self.now, &mut o);
        self.run(leader, o);
        r
    }
}

/// Left alone, a cluster elects exactly one leader within a few timeouts, and
/// the others follow it in the same term.
#[test]
fn cluster_elects_one_leader() {
    let mut sim = Sim::new(5);
    sim.advance(Duration::from_secs(2));
    let leaders = sim.leaders();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    let term = sim.cores[leaders[0]].term();
    assert!(sim.cores.iter().all(|c| c.term() == term));
}

/// When the leader is cut off the rest elect a new one in a later term; when it
/// returns it steps down and its uncommitted entries are replaced.
#[test]
fn cluster_replaces_cut_off_leader_and_repairs_its_log() {
    let mut sim = Sim::new(3);
    sim.advance(Duration::from_secs(2));
    let old = sim.leaders()[0];
    sim.propose(old, 1).unwrap();
    sim.advance(Duration::from_millis(200));
    assert!(sim.cores.iter().all(|c| c.commit_index() == LogIndex(1)));

    sim.up[old] = false;
    sim.propose(old, 2).unwrap(); // never commits
    sim.advance(Duration::from_secs(2));
    let new = *sim
        .leaders()
        .iter()
        .find(|l| **l != old)
        .expect("new leader");
    sim.propose(new, 3).unwrap();
    sim.advance(Duration::from_millis(200));

    sim.up[old] = true;
    sim.advance(Duration::from_secs(1));
    assert_eq!(sim.leaders(), vec![new]);
    for core in &sim.cores {
        let commands: Vec<u64> = core.log().entries().iter().map(|e| e.command).collect();
        assert_eq!(commands, vec![1, 3]);
        assert_eq!(core.commit_index(), LogIndex(2));
    }
}
