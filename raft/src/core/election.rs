//! Leader election (§5.2) and the voting restriction (§5.4.1).

use labrt::time::Instant;

use super::{Core, Output, Progress, Role};
use crate::messages::{Outgoing, Request, RequestVoteArgs, RequestVoteReply};
use crate::types::{LogIndex, PeerId, Term};

impl<C: Clone + std::fmt::Debug + serde::Serialize> Core<C> {
    /// The election timeout passed without word from a leader: become a
    /// candidate of a new term, vote for itself and ask everyone else.
    pub(crate) fn start_election(&mut self, now: Instant, out: &mut Output<C>) {
        self.term = Term(self.term.0 + 1);
        self.voted_for = Some(self.me);
        let mut votes = vec![false; self.peers];
        votes[self.me.0] = true;
        self.role = Role::Candidate { votes };
        self.reset_election_timer(now);
        out.persist = true;
        out.state_changed = true;
        log::debug!(target: "raft::election", "S{} T{} starts election", self.me, self.term);
        if self.majority() == 1 {
            self.become_leader(now, out);
            return;
        }
        let args = RequestVoteArgs {
            term: self.term,
            candidate: self.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for to in self.other_peers() {
            let seq = self.new_seq();
            out.messages.push(Outgoing {
                to,
                seq,
                request: Request::Vote(args.clone()),
            });
        }
    }

    /// Whether a candidate whose log ends at (`last_term`, `last_index`) is at
    /// least as up to date as this peer's log.
    fn candidate_log_is_current(&self, last_term: Term, last_index: LogIndex) -> bool {
        (last_term, last_index) >= (self.log.last_term(), self.log.last_index())
    }

    /// RequestVote handler: grant at most one vote per term, and only to a
    /// candidate whose log is at least as up to date.
    pub(crate) fn on_request_vote(
        &mut self,
        args: &RequestVoteArgs,
        now: Instant,
        out: &mut Output<C>,
    ) -> RequestVoteReply {
        self.observe_term(args.term, now, out);
        let grant = args.term == self.term
            && matches!(self.role, Role::Follower)
            && self.voted_for.is_none_or(|v| v == args.candidate)
            && self.candidate_log_is_current(args.last_log_term, args.last_log_index);
        if grant {
            if self.voted_for != Some(args.candidate) {
                self.voted_for = Some(args.candidate);
                out.persist = true;
            }
            // Granting a vote counts as hearing from a would-be leader.
            self.reset_election_timer(now);
        }
        log::debug!(target: "raft::election", "S{} T{} vote for S{}: {}",
            self.me, self.term, args.candidate, if grant { "granted" } else { "denied" });
        RequestVoteReply {
            term: self.term,
            vote_granted: grant,
        }
    }

    /// A RequestVote reply arrived: count the vote, or follow a newer term.
    pub(crate) fn on_vote_reply(
        &mut self,
        from: PeerId,
        args: &RequestVoteArgs,
        reply: &RequestVoteReply,
        now: Instant,
        out: &mut Output<C>,
    ) {
        if self.observe_term(reply.term, now, out) || args.term != self.term {
            return;
        }
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        if !reply.vote_granted {
            return;
        }
        votes[from.0] = true;
        let count = votes.iter().filter(|v| **v).count();
        if count >= self.majority() {
            self.become_leader(now, out);
        }
    }

    /// Won the election: initialise every follower's progress and assert
    /// leadership at once with a round of AppendEntries.
    pub(crate) fn become_leader(&mut self, now: Instant, out: &mut Output<C>) {
        log::debug!(target: "raft::election", "S{} T{} becomes leader (last index {})",
            self.me, self.term, self.log.last_index());
        let next = self.log.last_index().next();
        let progress = (0..self.peers)
            .map(|_| Progress {
                next,
                matched: LogIndex(0),
                in_flight: None,
                heartbeat_due: now,
                commit_sent: LogIndex(0),
            })
            .collect();
        self.role = Role::Leader { progress };
        out.state_changed = true;
        self.send_due_heartbeats(now, out);
        // A lone peer commits on its own.
        self.advance_commit(out);
    }
}
