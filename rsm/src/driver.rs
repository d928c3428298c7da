//! The replica's driver thread: applies committed entries, installs snapshots,
//! takes snapshots, and follows Raft's leadership reports.

use std::sync::Arc;

use labrt::channel::Receiver;
use labrt::select;
use raft::{ApplyMsg, Raft};

use crate::op::Op;
use crate::replicated::Shared;
use crate::state_machine::StateMachine;

/// How many apply messages one round applies before completing their submits
/// and checking the log size: large enough to amortise the locks under load,
/// small enough that the Raft state cannot grow far past `maxraftstate`.
const MAX_BATCH: usize = 64;

pub(crate) struct Driver<S: StateMachine> {
    pub(crate) me: usize,
    pub(crate) raft: Raft<Op<S::Op>>,
    pub(crate) shared: Arc<Shared<S>>,
    pub(crate) apply_rx: Receiver<ApplyMsg<Op<S::Op>>>,
    pub(crate) leadership: Receiver<(u64, bool)>,
    pub(crate) maxraftstate: Option<usize>,
}

/// The outcome of one applied entry, held until its submit can be completed.
enum Applied<O> {
    Command {
        index: u64,
        term: u64,
        id: crate::OpId,
        output: O,
    },
    Snapshot {
        index: u64,
    },
}

impl<S: StateMachine> Driver<S> {
    pub(crate) fn run(self) {
        // A report sent before we subscribed would be lost: start from the
        // current state; later reports supersede it.
        let (term, leader) = self.raft.get_state();
        self.shared.pending.lock().leadership(term, leader);

        let mut last_applied = 0u64;
        let mut leadership = Some(self.leadership.clone());
        loop {
            let never = labrt::channel::never();
            select! {
                recv(self.apply_rx) -> msg => match msg {
                    Ok(msg) => last_applied = self.apply_batch(msg, last_applied),
                    Err(_) => break,
                },
                recv(leadership.as_ref().unwrap_or(&never)) -> report => match report {
                    Ok((term, leader)) => {
                        log::debug!(target: "rsm::server", "S{} T{term} leader={leader}", self.me);
                        self.shared.pending.lock().leadership(term, leader);
                    }
                    // Raft stopped reporting (killed); the apply channel closes next.
                    Err(_) => leadership = None,
                },
            }
        }
        log::debug!(target: "rsm::server", "S{} T- apply channel closed; driver exits", self.me);
        self.shared.pending.lock().kill();
    }

    /// Applies `first` and whatever else is already queued (up to [`MAX_BATCH`]),
    /// completes their submits, then snapshots if the Raft state is too large.
    fn apply_batch(&self, first: ApplyMsg<Op<S::Op>>, mut last_applied: u64) -> u64 {
        let mut done = Vec::new();
        {
            let mut sm = self.shared.sm.lock();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    ApplyMsg::Command {
                        index,
                        term,
                        command,
                    } => {
                        if index <= last_applied {
                            // Already covered by a snapshot we restored.
                            log::debug!(target: "rsm::apply", "S{} T{term} skip applied index {index}", self.me);
                        } else {
                            log::debug!(target: "rsm::apply", "S{} T{term} apply index {index} {:?}", self.me, command.id);
                            let output = sm.apply(command.req);
                            last_applied = index;
                            done.push(Applied::Command {
                                index,
                                term,
                                id: command.id,
                                output,
                            });
                        }
                    }
                    ApplyMsg::Snapshot { index, term, data } => {
                        if index > last_applied {
                            if let Err(e) = sm.restore(&data) {
                                // Raft handed us bytes our own snapshot() never made:
                                // this replica cannot continue consistently.
                                log::error!(target: "rsm::snapshot", "S{} T{term} snapshot at {index} does not decode: {e}; replica stops", self.me);
                                drop(sm);
                                self.shared.pending.lock().kill();
                                self.raft.kill();
                                return last_applied;
                            }
                            log::debug!(target: "rsm::snapshot", "S{} T{term} installed snapshot through {index}", self.me);
                            last_applied = index;
                            done.push(Applied::Snapshot { index });
                        }
                    }
                }
                if done.len() < MAX_BATCH {
                    next = self.apply_rx.try_recv().ok();
                }
            }
        }
        {
            let mut pending = self.shared.pending.lock();
            for applied in done {
                match applied {
                    Applied::Command {
                        index,
                        term,
                        id,
                        output,
                    } => pending.applied(index, term, id, output),
                    Applied::Snapshot { index } => pending.snapshot_installed(index),
                }
            }
            if pending.is_dead() {
                return last_applied;
            }
        }
        self.maybe_snapshot(last_applied);
        last_applied
    }

    /// Hands Raft a snapshot through `index` once its persisted state has
    /// reached `maxraftstate`, so Raft can drop the log it covers.
    fn maybe_snapshot(&self, index: u64) {
        let Some(max) = self.maxraftstate else { return };
        if index == 0 || self.raft.persist_bytes() < max {
            return;
        }
        let data = self.shared.sm.lock().snapshot();
        log::debug!(target: "rsm::snapshot", "S{} T- snapshot through {index} ({} bytes)", self.me, data.len());
        self.raft.snapshot(index, data);
    }
}
