//! The rules of Raft as a pure state machine: no threads, no clock, no network.
//!
//! Every input is a method call that takes the current time when it needs one;
//! every effect is recorded in an [`Output`] for the caller to carry out, in
//! this order: persist first (before any reply or message leaves), then send,
//! then wake the applier. Randomness (election timeouts) comes from an
//! injected generator, so tests replay exactly.

mod election;
mod replication;
mod snapshot;
#[cfg(test)]
mod tests;

use labrt::time::{Duration, Instant};
use std::sync::Arc;

use rand::Rng;
use rand::rngs::StdRng;

use crate::apply::ApplyMsg;
use crate::log::Log;
use crate::messages::Outgoing;
use crate::types::{LogIndex, PeerId, Term};

/// The time constants of the protocol.
#[derive(Clone, Debug)]
pub(crate) struct Timing {
    /// Election timeouts are drawn uniformly from `[election_min, election_max)`.
    pub(crate) election_min: Duration,
    pub(crate) election_max: Duration,
    /// A leader sends each follower something at least this often (the lab
    /// allows at most ten heartbeats per second).
    pub(crate) heartbeat: Duration,
    /// The most entries one AppendEntries carries.
    pub(crate) max_batch: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_min: Duration::from_millis(300),
            election_max: Duration::from_millis(600),
            heartbeat: Duration::from_millis(100),
            max_batch: 512,
        }
    }
}

/// What a peer saved before it crashed.
#[derive(Clone, Debug)]
pub(crate) struct Restored<C> {
    pub(crate) term: Term,
    pub(crate) voted_for: Option<PeerId>,
    pub(crate) log: Log<C>,
    pub(crate) snapshot: Option<Arc<[u8]>>,
}

impl<C: Clone + serde::Serialize> Restored<C> {
    /// The state of a peer that never ran.
    pub(crate) fn fresh() -> Self {
        Restored {
            term: Term(0),
            voted_for: None,
            log: Log::new(),
            snapshot: None,
        }
    }
}

/// What the caller must do after an input, in field order.
#[derive(Debug)]
pub(crate) struct Output<C> {
    /// Term, vote, log or snapshot changed: save them before anything below.
    pub(crate) persist: bool,
    /// Requests to send to other peers.
    pub(crate) messages: Vec<Outgoing<C>>,
    /// New entries (or a snapshot) are ready for the applier.
    pub(crate) apply_ready: bool,
    /// The (term, is_leader) pair changed; the next timer deadline may be earlier.
    pub(crate) state_changed: bool,
}

impl<C> Default for Output<C> {
    fn default() -> Self {
        Output {
            persist: false,
            messages: Vec::new(),
            apply_ready: false,
            state_changed: false,
        }
    }
}

/// A leader's view of one follower.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    /// The next entry to send.
    pub(crate) next: LogIndex,
    /// The highest entry known to be replicated there.
    pub(crate) matched: LogIndex,
    /// The newest request whose outcome is still unknown, and whether it carried
    /// entries or a snapshot. While a carrying request is out, new entries wait
    /// and go together in the next request (that is the batching).
    pub(crate) in_flight: Option<InFlight>,
    /// When this follower must next hear from the leader.
    pub(crate) heartbeat_due: Instant,
    /// The commit index the follower was last told.
    pub(crate) commit_sent: LogIndex,
}

/// One request of a leader whose outcome is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InFlight {
    pub(crate) seq: u64,
    pub(crate) carries_data: bool,
}

/// A peer's role and the state that only that role has.
#[derive(Clone, Debug)]
pub(crate) enum Role {
    Follower,
    Candidate { votes: Vec<bool> },
    Leader { progress: Vec<Progress> },
}

/// One Raft peer's protocol state.
pub(crate) struct Core<C> {
    me: PeerId,
    peers: usize,
    timing: Timing,
    rng: StdRng,

    // Persistent state (Figure 2), saved whenever `Output::persist` is set.
    term: Term,
    voted_for: Option<PeerId>,
    log: Log<C>,
    snapshot: Option<Arc<[u8]>>,

    // Volatile state.
    role: Role,
    commit_index: LogIndex,
    /// Everything through here has been handed to the applier.
    applied_through: LogIndex,
    /// A snapshot from the leader waits to be handed to the applier.
    snapshot_to_apply: bool,
    election_deadline: Instant,
    next_seq: u64,
}

impl<C: Clone + std::fmt::Debug + serde::Serialize> Core<C> {
    /// Peer `me` of `peers`, resuming from `restored`, as a follower at `now`.
    pub(crate) fn new(
        me: PeerId,
        peers: usize,
        restored: Restored<C>,
        timing: Timing,
        rng: StdRng,
        now: Instant,
    ) -> Self {
        let snapshot_index = restored.log.snapshot_index();
        let mut core = Core {
            me,
            peers,
            timing,
            rng,
            term: restored.term,
            voted_for: restored.voted_for,
            log: restored.log,
            snapshot: restored.snapshot,
            role: Role::Follower,
            // The service restores the snapshot itself at start, so whatever it
            // covers counts as applied.
            commit_index: snapshot_index,
            applied_through: snapshot_index,
            snapshot_to_apply: false,
            election_deadline: now,
            next_seq: 0,
        };
        core.reset_election_timer(now);
        core
    }

    /// Current term.
    pub(crate) fn term(&self) -> Term {
        self.term
    }

    /// Whether this peer believes it is the leader.
    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader { .. })
    }

    /// The vote cast in the current term.
    pub(crate) fn voted_for(&self) -> Option<PeerId> {
        self.voted_for
    }

    /// The log (after the snapshot).
    pub(crate) fn log(&self) -> &Log<C> {
        &self.log
    }

    /// The service's latest snapshot, if any.
    pub(crate) fn snapshot_data(&self) -> Option<Arc<[u8]>> {
        self.snapshot.clone()
    }

    /// Highest index known to be committed.
    #[cfg(test)]
    pub(crate) fn commit_index(&self) -> LogIndex {
        self.commit_index
    }

    /// The current role.
    #[cfg(test)]
    pub(crate) fn role(&self) -> &Role {
        &self.role
    }

    /// When [`Core::tick`] next has something to do.
    pub(crate) fn next_deadline(&self) -> Instant {
        match &self.role {
            Role::Leader { progress } => progress
                .iter()
                .enumerate()
                .filter(|(p, _)| *p != self.me.0)
                .map(|(_, pr)| pr.heartbeat_due)
                .min()
                .unwrap_or(self.election_deadline),
            _ => self.election_deadline,
        }
    }

    /// Time has passed: start an election or send due heartbeats.
    pub(crate) fn tick(&mut self, now: Instant, out: &mut Output<C>) {
        if self.is_leader() {
            self.send_due_heartbeats(now, out);
        } else if now >= self.election_deadline {
            self.start_election(now, out);
        }
    }

    /// Hands the applier the next batch: the pending snapshot alone, or up to
    /// `max` committed commands in order. Empty when there is nothing new.
    pub(crate) fn take_apply(&mut self, max: usize) -> Vec<ApplyMsg<C>> {
        if self.snapshot_to_apply {
            self.snapshot_to_apply = false;
            self.applied_through = self.log.snapshot_index();
            log::debug!(target: "raft::apply", "S{} T{} hand snapshot through {} to applier",
                self.me, self.term, self.applied_through);
            return vec![ApplyMsg::Snapshot {
                index: self.log.snapshot_index().0,
                term: self.log.snapshot_term().0,
                data: self.snapshot.as_deref().unwrap_or_default().to_vec(),
            }];
        }
        let mut batch = Vec::new();
        while self.applied_through < self.commit_index && batch.len() < max {
            let index = self.applied_through.next();
            let entry = self
                .log
                .get(index)
                .expect("committed entries after the snapshot are kept in the log");
            batch.push(ApplyMsg::Command {
                index: index.0,
                term: entry.term.0,
                command: entry.command.clone(),
            });
            self.applied_through = index;
        }
        batch
    }

    fn new_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn reset_election_timer(&mut self, now: Instant) {
        let min = self.timing.election_min.as_micros() as u64;
        let max = (self.timing.election_max.as_micros() as u64).max(min + 1);
        self.election_deadline = now + Duration::from_micros(self.rng.random_range(min..max));
    }

    fn majority(&self) -> usize {
        self.peers / 2 + 1
    }

    fn other_peers(&self) -> impl Iterator<Item = PeerId> + use<C> {
        let me = self.me;
        (0..self.peers).map(PeerId).filter(move |p| *p != me)
    }

    /// Adopts a newer term seen in any message: forget the vote, become follower.
    /// Returns whether the term was newer.
    fn observe_term(&mut self, term: Term, now: Instant, out: &mut Output<C>) -> bool {
        if term <= self.term {
            return false;
        }
        log::debug!(target: "raft::election", "S{} T{} sees newer term {}, follows",
            self.me, self.term, term);
        let was_follower = matches!(self.role, Role::Follower);
        self.term = term;
        self.voted_for = None;
        self.role = Role::Follower;
        if !was_follower {
            // A deposed leader's election deadline is long past; give the new
            // leader a full timeout to show itself.
            self.reset_election_timer(now);
        }
        out.persist = true;
        out.state_changed = true;
        true
    }
}

impl<C: Clone + std::fmt::Debug + serde::Serialize> Core<C> {
    /// The outcome of a request this core asked to send: the reply, or `None`
    /// if the network lost the request or the reply.
    pub(crate) fn on_outcome(
        &mut self,
        from: PeerId,
        seq: u64,
        request: &crate::messages::Request<C>,
        response: Option<&crate::messages::Response>,
        now: Instant,
        out: &mut Output<C>,
    ) {
        use crate::messages::{Request, Response};
        match (request, response) {
            (Request::Vote(args), Some(Response::Vote(reply))) => {
                self.on_vote_reply(from, args, reply, now, out)
            }
            (Request::Vote(_), _) => {}
            (Request::Append(args), Some(Response::Append(reply))) => {
                self.on_append_outcome(from, seq, args, Some(reply), now, out)
            }
            (Request::Append(args), _) => self.on_append_outcome(from, seq, args, None, now, out),
            (Request::Snapshot(args), Some(Response::Snapshot(reply))) => {
                self.on_snapshot_outcome(from, seq, args, Some(reply), now, out)
            }
            (Request::Snapshot(args), _) => {
                self.on_snapshot_outcome(from, seq, args, None, now, out)
            }
        }
    }
}
