//! Log compaction (§7): the service's snapshots and InstallSnapshot.

use labrt::time::Instant;

use super::{Core, Output, Role};
use crate::messages::{InstallSnapshotArgs, InstallSnapshotReply};
use crate::types::{LogIndex, PeerId};

impl<C: Clone + std::fmt::Debug + serde::Serialize> Core<C> {
    /// The service has a snapshot of everything through `index`: drop those
    /// entries and keep the snapshot. Ignored unless `index` is newer than the
    /// current snapshot and has been handed to the service.
    pub(crate) fn snapshot(&mut self, index: LogIndex, data: Vec<u8>, out: &mut Output<C>) {
        if index <= self.log.snapshot_index() || index > self.applied_through {
            log::debug!(target: "raft::snapshot",
                "S{} T{} ignores snapshot through {} (snapshot {}, applied {})",
                self.me, self.term, index, self.log.snapshot_index(), self.applied_through);
            return;
        }
        let term = self
            .log
            .term_at(index)
            .expect("an applied index after the snapshot is in the log");
        self.log.compact_through(index, term);
        self.snapshot = Some(data.into());
        out.persist = true;
        log::debug!(target: "raft::snapshot", "S{} T{} snapshot through {}, {} entries kept",
            self.me, self.term, index, self.log.entries().len());
    }

    /// InstallSnapshot handler: a follower too far behind takes the leader's
    /// snapshot, keeping any entries after it that still match.
    pub(crate) fn on_install_snapshot(
        &mut self,
        args: &InstallSnapshotArgs,
        now: Instant,
        out: &mut Output<C>,
    ) -> InstallSnapshotReply {
        self.observe_term(args.term, now, out);
        if args.term < self.term {
            return InstallSnapshotReply { term: self.term };
        }
        self.follow_current_leader(now);
        let index = args.last_included_index;
        if index <= self.commit_index {
            // Everything it covers is already committed here.
            return InstallSnapshotReply { term: self.term };
        }
        if self.log.term_at(index) != Some(args.last_included_term) {
            self.log.truncate_from(self.log.snapshot_index().next());
        }
        self.log.compact_through(index, args.last_included_term);
        self.snapshot = Some(args.data.clone().into());
        self.commit_index = index;
        self.snapshot_to_apply = true;
        out.persist = true;
        out.apply_ready = true;
        log::debug!(target: "raft::snapshot", "S{} T{} installs snapshot through {} from S{}",
            self.me, self.term, index, args.leader);
        InstallSnapshotReply { term: self.term }
    }

    /// The outcome of an InstallSnapshot: `None` if the network lost it.
    pub(crate) fn on_snapshot_outcome(
        &mut self,
        from: PeerId,
        seq: u64,
        args: &InstallSnapshotArgs,
        reply: Option<&InstallSnapshotReply>,
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
        let Role::Leader { progress } = &mut self.role else {
            return;
        };
        let pr = &mut progress[from.0];
        if pr.in_flight.is_some_and(|f| seq >= f.seq) {
            pr.in_flight = None;
        }
        if reply.is_none() {
            // Lost: the next heartbeat retries.
            return;
        }
        if args.last_included_index > pr.matched {
            pr.matched = args.last_included_index;
        }
        if pr.next <= pr.matched {
            pr.next = pr.matched.next();
        }
        self.advance_commit(out);
        self.replicate_to_idle(now, out);
    }
}
