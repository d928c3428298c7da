//! The table of submits waiting for their log entry, and what the driver knows
//! about Raft's leadership.

use std::collections::BTreeMap;

use labrt::channel::Sender;

use crate::error::SubmitError;
use crate::op::OpId;

/// One submit waiting for the entry Raft placed at its index.
struct Waiter<O> {
    id: OpId,
    term: u64,
    reply: Sender<Result<O, SubmitError>>,
}

impl<O> Waiter<O> {
    fn complete(self, result: Result<O, SubmitError>) {
        // The submitter may be gone; nobody else wants the result then.
        let _ = self.reply.send(result);
    }
}

/// Submits in flight, keyed by log index, plus the leadership the driver last
/// heard of. Every field changes under one lock, which is what makes a waiter's
/// registration and its release by a leadership change race-free.
pub(crate) struct Pending<O> {
    waiters: BTreeMap<u64, Waiter<O>>,
    /// The newest (term, is_leader) Raft reported.
    term: u64,
    leader: bool,
    /// Whether Raft reported leading in `term`: within a term a peer goes from
    /// follower or candidate to leader, and only a leader that then reports
    /// "not leader" in the same term has given up that term's entries.
    led_this_term: bool,
    /// The highest log index applied (or covered by an installed snapshot).
    applied: u64,
    /// Set once by kill or when Raft closes the apply channel.
    dead: bool,
}

impl<O> Pending<O> {
    pub(crate) fn new() -> Self {
        Pending {
            waiters: BTreeMap::new(),
            term: 0,
            leader: false,
            led_this_term: false,
            applied: 0,
            dead: false,
        }
    }

    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    /// Registers a submit that Raft accepted at `(index, term)`. Fails at once
    /// when the outcome is already known to be lost: the replica is dead, its
    /// index is already applied, or Raft has already reported a newer term or a
    /// lost leadership in that term.
    pub(crate) fn register(
        &mut self,
        index: u64,
        term: u64,
        id: OpId,
        reply: Sender<Result<O, SubmitError>>,
    ) -> Result<(), SubmitError> {
        if self.dead || index <= self.applied || self.is_stale(term) {
            return Err(SubmitError::WrongLeader);
        }
        let waiter = Waiter { id, term, reply };
        // An older waiter at the same index got it from an earlier term: Raft has
        // handed the index out again, so that entry was truncated.
        if let Some(old) = self.waiters.insert(index, waiter) {
            old.complete(Err(SubmitError::WrongLeader));
        }
        Ok(())
    }

    /// A waiter from `term` cannot commit through this replica any more: Raft
    /// has moved to a later term, or led in this one and stopped. (A waiter's
    /// term may be ahead of the reports: Start saw leadership before the driver
    /// did; that report is on its way.)
    fn is_stale(&self, term: u64) -> bool {
        term < self.term || (term == self.term && self.led_this_term && !self.leader)
    }

    /// Raft reported a new term or leadership: release every submit that
    /// became stale (see `is_stale`).
    pub(crate) fn leadership(&mut self, term: u64, leader: bool) {
        if term < self.term {
            return;
        }
        if term > self.term {
            self.term = term;
            self.led_this_term = false;
        }
        self.leader = leader;
        self.led_this_term |= leader;
        let stale: Vec<u64> = self
            .waiters
            .iter()
            .filter(|(_, w)| self.is_stale(w.term))
            .map(|(i, _)| *i)
            .collect();
        for index in stale {
            if let Some(w) = self.waiters.remove(&index) {
                w.complete(Err(SubmitError::WrongLeader));
            }
        }
    }

    /// The entry `id` of `term` was applied at `index` with result `output`.
    /// It completes the submit waiting at `index` only if it is that submit's
    /// entry: the same id and the term Raft accepted it in (Raft never puts two
    /// entries at one index in one term, so the pair cannot be mistaken even if
    /// ids were to repeat).
    pub(crate) fn applied(&mut self, index: u64, term: u64, id: OpId, output: O) {
        self.applied = self.applied.max(index);
        if let Some(w) = self.waiters.remove(&index) {
            if w.id == id && w.term == term {
                w.complete(Ok(output));
            } else {
                w.complete(Err(SubmitError::WrongLeader));
            }
        }
    }

    /// A snapshot through `index` replaced the state: the submits it covers can
    /// no longer learn their results.
    pub(crate) fn snapshot_installed(&mut self, index: u64) {
        self.applied = self.applied.max(index);
        let rest = self.waiters.split_off(&(index + 1));
        for (_, w) in std::mem::replace(&mut self.waiters, rest) {
            w.complete(Err(SubmitError::WrongLeader));
        }
    }

    /// The replica is shut down: release every submit, and refuse new ones.
    pub(crate) fn kill(&mut self) {
        self.dead = true;
        for (_, w) in std::mem::take(&mut self.waiters) {
            w.complete(Err(SubmitError::WrongLeader));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrt::channel::{Receiver, bounded};

    fn id(seq: u64) -> OpId {
        OpId {
            me: 0,
            incarnation: 7,
            seq,
        }
    }

    fn waiter(
        p: &mut Pending<u64>,
        index: u64,
        term: u64,
        seq: u64,
    ) -> Receiver<Result<u64, SubmitError>> {
        let (tx, rx) = bounded(1);
        p.register(index, term, id(seq), tx).expect("registers");
        rx
    }

    /// The entry that was submitted completes its own submit with its result.
    #[test]
    fn own_entry_completes_submit() {
        let mut p = Pending::new();
        p.leadership(1, true);
        let rx = waiter(&mut p, 1, 1, 1);
        p.applied(1, 1, id(1), 42);
        assert_eq!(rx.try_recv().unwrap(), Ok(42));
    }

    /// The submit's own id applied in another term is not its entry.
    #[test]
    fn same_id_other_term_fails_submit() {
        let mut p = Pending::new();
        p.leadership(2, true);
        let rx = waiter(&mut p, 1, 2, 1);
        p.applied(1, 1, id(1), 42);
        assert_eq!(rx.try_recv().unwrap(), Err(SubmitError::WrongLeader));
    }

    /// Another entry at the submit's index means the submit's entry was lost.
    #[test]
    fn other_entry_at_index_fails_submit() {
        let mut p = Pending::new();
        p.leadership(1, true);
        let rx = waiter(&mut p, 1, 1, 1);
        p.applied(1, 1, id(2), 42);
        assert_eq!(rx.try_recv().unwrap(), Err(SubmitError::WrongLeader));
    }

    /// A newer term releases the older term's submits but keeps the newer ones.
    #[test]
    fn term_change_releases_older_submits_only() {
        let mut p = Pending::new();
        p.leadership(1, true);
        let old = waiter(&mut p, 1, 1, 1);
        // Raft already leads in term 3, but the driver has not heard yet.
        let new = waiter(&mut p, 2, 3, 2);
        p.leadership(2, false);
        assert_eq!(old.try_recv().unwrap(), Err(SubmitError::WrongLeader));
        assert!(
            new.try_recv().is_err(),
            "a submit of a newer term must keep waiting"
        );
        p.leadership(3, true);
        assert!(new.try_recv().is_err());
        p.leadership(3, false);
        assert_eq!(new.try_recv().unwrap(), Err(SubmitError::WrongLeader));
    }

    /// A candidate's report does not release a submit of the term it then leads in.
    #[test]
    fn candidate_report_keeps_submit_of_same_term() {
        let mut p = Pending::new();
        p.leadership(2, false); // candidate in term 2
        // Raft became leader in term 2 and accepted the op; its report is queued.
        let rx = waiter(&mut p, 5, 2, 1);
        assert!(rx.try_recv().is_err());
        p.leadership(2, true);
        assert!(rx.try_recv().is_err());
        p.applied(5, 2, id(1), 7);
        assert_eq!(rx.try_recv().unwrap(), Ok(7));
    }

    /// Registration after a reported newer term, or after the index was applied, fails at once.
    #[test]
    fn stale_registration_fails() {
        let mut p: Pending<u64> = Pending::new();
        p.leadership(5, true);
        let (tx, _rx) = bounded(1);
        assert_eq!(
            p.register(1, 4, id(1), tx.clone()),
            Err(SubmitError::WrongLeader)
        );
        p.applied(3, 1, id(9), 0);
        assert_eq!(p.register(3, 5, id(2), tx), Err(SubmitError::WrongLeader));
    }

    /// A snapshot releases the submits at or below its index only.
    #[test]
    fn snapshot_releases_covered_submits() {
        let mut p = Pending::new();
        p.leadership(1, true);
        let a = waiter(&mut p, 4, 1, 1);
        let b = waiter(&mut p, 5, 1, 2);
        let c = waiter(&mut p, 6, 1, 3);
        p.snapshot_installed(5);
        assert_eq!(a.try_recv().unwrap(), Err(SubmitError::WrongLeader));
        assert_eq!(b.try_recv().unwrap(), Err(SubmitError::WrongLeader));
        assert!(c.try_recv().is_err());
    }

    /// Kill releases everything and refuses later submits.
    #[test]
    fn kill_releases_all_and_refuses_more() {
        let mut p = Pending::new();
        p.leadership(1, true);
        let a = waiter(&mut p, 1, 1, 1);
        p.kill();
        assert_eq!(a.try_recv().unwrap(), Err(SubmitError::WrongLeader));
        let (tx, _rx) = bounded(1);
        assert_eq!(p.register(2, 1, id(2), tx), Err(SubmitError::WrongLeader));
    }
}
