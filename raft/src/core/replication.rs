//! Log replication (§5.3), the commit rule (§5.4.2) and fast backup.

use labrt::time::Instant;

use super::{Core, InFlight, Output, Role};
use crate::log::Entry;
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, Outgoing, Request,
};
use crate::types::{LogIndex, PeerId, Term};

impl<C: Clone + std::fmt::Debug + serde::Serialize> Core<C> {
    /// A client command: a leader appends it and starts replicating at once.
    /// Returns its index and the term, or `None` if this peer is not the leader.
    pub(crate) fn propose(
        &mut self,
        command: C,
        now: Instant,
        out: &mut Output<C>,
    ) -> Option<(LogIndex, Term)> {
        if !self.is_leader() {
            return None;
        }
        let index = self.log.append(Entry {
            term: self.term,
            command,
        });
        out.persist = true;
        log::trace!(target: "raft::append", "S{} T{} appends entry {}", self.me, self.term, index);
        self.replicate_to_idle(now, out);
        self.advance_commit(out);
        Some((index, self.term))
    }

    /// Sends every follower that is due a heartbeat its next AppendEntries (or
    /// InstallSnapshot); heartbeats carry whatever entries the follower lacks.
    pub(crate) fn send_due_heartbeats(&mut self, now: Instant, out: &mut Output<C>) {
        let due: Vec<PeerId> = match &self.role {
            Role::Leader { progress } => self
                .other_peers()
                .filter(|p| progress[p.0].heartbeat_due <= now)
                .collect(),
            _ => return,
        };
        for peer in due {
            self.send_to(peer, now, out);
        }
    }

    /// Sends to every follower that has no request carrying data out and lacks
    /// entries or the latest commit index.
    pub(super) fn replicate_to_idle(&mut self, now: Instant, out: &mut Output<C>) {
        let last = self.log.last_index();
        let commit = self.commit_index;
        let ready: Vec<PeerId> = match &self.role {
            Role::Leader { progress } => self
                .other_peers()
                .filter(|p| {
                    let pr = &progress[p.0];
                    let idle = pr.in_flight.is_none_or(|f| !f.carries_data);
                    idle && (pr.next <= last || pr.commit_sent < commit)
                })
                .collect(),
            _ => return,
        };
        for peer in ready {
            self.send_to(peer, now, out);
        }
    }

    /// Builds the request `peer` needs now: the entries from its next index, or
    /// the snapshot if those were compacted away.
    fn send_to(&mut self, peer: PeerId, now: Instant, out: &mut Output<C>) {
        let seq = self.new_seq();
        let term = self.term;
        let me = self.me;
        let commit = self.commit_index;
        let heartbeat = self.timing.heartbeat;
        let max_batch = self.timing.max_batch;
        let Role::Leader { progress } = &mut self.role else {
            return;
        };
        let pr = &mut progress[peer.0];
        let (request, carries_data) = if pr.next <= self.log.snapshot_index() {
            let data = self.snapshot.as_deref().unwrap_or_default().to_vec();
            log::debug!(target: "raft::snapshot", "S{} T{} sends S{} snapshot through {}",
                me, term, peer, self.log.snapshot_index());
            let args = InstallSnapshotArgs {
                term,
                leader: me,
                last_included_index: self.log.snapshot_index(),
                last_included_term: self.log.snapshot_term(),
                data,
            };
            (Request::Snapshot(args), true)
        } else {
            let prev_log_index = pr.next.prev();
            let prev_log_term = self
                .log
                .term_at(prev_log_index)
                .expect("the entry before next is kept or is the snapshot's last");
            let entries = self.log.slice_from(pr.next, max_batch).to_vec();
            let carries_data = !entries.is_empty();
            log::trace!(target: "raft::append", "S{} T{} sends S{} prev {} +{} commit {}",
                me, term, peer, prev_log_index, entries.len(), commit);
            let args = AppendEntriesArgs {
                term,
                leader: me,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit: commit,
            };
            (Request::Append(args), carries_data)
        };
        pr.in_flight = Some(InFlight { seq, carries_data });
        pr.heartbeat_due = now + heartbeat;
        pr.commit_sent = commit;
        out.messages.push(Outgoing {
            to: peer,
            seq,
            request,
        });
    }

    /// AppendEntries handler: follow the sender if its term is current, check
    /// that our log matches at prev_log_index, add what is new, learn the commit.
    pub(crate) fn on_append_entries(
        &mut self,
        args: &AppendEntriesArgs<C>,
        now: Instant,
        out: &mut Output<C>,
    ) -> AppendEntriesReply {
        self.observe_term(args.term, now, out);
        if args.term < self.term {
            return AppendEntriesReply {
                term: self.term,
                ..Default::default()
            };
        }
        self.follow_current_leader(now);

        // Entries the snapshot already covers are committed and match: skip them.
        let mut prev = args.prev_log_index;
        let mut entries = &args.entries[..];
        let snapshot_index = self.log.snapshot_index();
        if prev < snapshot_index {
            let covered = ((snapshot_index.0 - prev.0) as usize).min(entries.len());
            entries = &entries[covered..];
            prev = snapshot_index;
        } else if prev > self.log.last_index() {
            return AppendEntriesReply {
                term: self.term,
                success: false,
                conflict_index: self.log.last_index().next(),
                conflict_term: None,
            };
        } else {
            let ours = self.log.term_at(prev).expect("prev is within the kept log");
            if ours != args.prev_log_term {
                let conflict_index = self.log.first_index_of_term_run(prev);
                log::debug!(target: "raft::append",
                    "S{} T{} rejects prev {}: term {} != {}, conflict index {}",
                    self.me, self.term, prev, ours, args.prev_log_term, conflict_index);
                return AppendEntriesReply {
                    term: self.term,
                    success: false,
                    conflict_index,
                    conflict_term: Some(ours),
                };
            }
        }

        // Append, truncating only at a real conflict: a delayed, shorter request
        // must never cut off entries a later one added.
        for (offset, entry) in entries.iter().enumerate() {
            let index = prev.plus(offset + 1);
            match self.log.term_at(index) {
                Some(t) if t == entry.term => continue,
                Some(_) => {
                    log::debug!(target: "raft::append", "S{} T{} truncates log from {}",
                        self.me, self.term, index);
                    self.log.truncate_from(index);
                }
                None => {}
            }
            for e in &entries[offset..] {
                self.log.append(e.clone());
            }
            out.persist = true;
            break;
        }

        let last_new = args.prev_log_index.plus(args.entries.len());
        let new_commit = args.leader_commit.min(last_new);
        if new_commit > self.commit_index {
            self.commit_index = new_commit;
            out.apply_ready = true;
            log::trace!(target: "raft::commit", "S{} T{} commit index {}",
                self.me, self.term, self.commit_index);
        }
        AppendEntriesReply {
            term: self.term,
            success: true,
            ..Default::default()
        }
    }

    /// A leader of our term exists: a candidate gives up, and the election
    /// timer restarts.
    pub(crate) fn follow_current_leader(&mut self, now: Instant) {
        if let Role::Candidate { .. } = self.role {
            log::debug!(target: "raft::election", "S{} T{} leader exists, candidate steps down",
                self.me, self.term);
            self.role = Role::Follower;
        }
        self.reset_election_timer(now);
    }

    /// The outcome of an AppendEntries: `None` if the network lost it.
    pub(crate) fn on_append_outcome(
        &mut self,
        from: PeerId,
        seq: u64,
        args: &AppendEntriesArgs<C>,
        reply: Option<&AppendEntriesReply>,
        now: Instant,
        out: &mut Output<C>,
    ) {
        if let Some(reply) = reply
            && self.observe_term(reply.term, now, out)
        {
            return;
        }
        if args.term != self.term {
            return;
        }
        let last_index = self.log.last_index();
        let Role::Leader { progress } = &mut self.role else {
            return;
        };
        let pr = &mut progress[from.0];
        if pr.in_flight.is_some_and(|f| seq >= f.seq) {
            pr.in_flight = None;
        }
        match reply {
            // Lost: the next heartbeat retries. Retrying at once would spin
            // while the network fails calls instantly (e.g. after cleanup).
            None => return,
            Some(reply) if reply.success => {
                let matched = args.prev_log_index.plus(args.entries.len());
                if matched > pr.matched {
                    pr.matched = matched;
                }
                if pr.next <= pr.matched {
                    pr.next = pr.matched.next();
                }
            }
            Some(reply) => {
                let next = match reply.conflict_term {
                    Some(term) => self
                        .log
                        .last_index_of_term(term)
                        .map_or(reply.conflict_index, LogIndex::next),
                    None => reply.conflict_index,
                };
                pr.next = next.max(pr.matched.next()).min(last_index.next());
                log::debug!(target: "raft::append", "S{} T{} S{} backs up to {}",
                    self.me, self.term, from, pr.next);
            }
        }
        self.advance_commit(out);
        self.replicate_to_idle(now, out);
    }

    /// Leader: commit the highest index stored on a majority, if it is from the
    /// current term (entries of older terms commit only indirectly, Figure 8).
    pub(crate) fn advance_commit(&mut self, out: &mut Output<C>) {
        let Role::Leader { progress } = &self.role else {
            return;
        };
        let mut matched: Vec<LogIndex> = progress
            .iter()
            .enumerate()
            .map(|(p, pr)| {
                if p == self.me.0 {
                    self.log.last_index()
                } else {
                    pr.matched
                }
            })
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matched[self.majority() - 1];
        if candidate > self.commit_index && self.log.term_at(candidate) == Some(self.term) {
            self.commit_index = candidate;
            out.apply_ready = true;
            log::trace!(target: "raft::commit", "S{} T{} commit index {}",
                self.me, self.term, self.commit_index);
        }
    }
}
