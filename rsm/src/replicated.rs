//! The replica handle: start, submit, kill.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::{ClientEnd, Persister};
use labrt::channel;
use labrt::sync::Mutex;
use raft::Raft;

use crate::driver::Driver;
use crate::error::{RsmError, SubmitError};
use crate::op::{Op, OpId};
use crate::pending::Pending;
use crate::state_machine::StateMachine;

/// What the replica handle and its driver thread share.
pub(crate) struct Shared<S: StateMachine> {
    /// The service's state; the driver applies to it, readers peek at it.
    pub(crate) sm: Mutex<S>,
    /// Submits in flight and the leadership last reported by Raft.
    pub(crate) pending: Mutex<Pending<S::Output>>,
}

/// One replica of a state machine `S`, kept in step with its peers by Raft.
///
/// Dropping the last handle kills the replica.
pub struct Rsm<S: StateMachine> {
    me: usize,
    incarnation: u32,
    next_seq: AtomicU64,
    raft: Raft<Op<S::Op>>,
    shared: Arc<Shared<S>>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts replica `me` of the group whose peers are `servers`, with Raft's
    /// persisted state and snapshot in `persister`.
    ///
    /// If the persister holds a snapshot, `sm` is restored from it before
    /// anything is applied. `maxraftstate` bounds the persisted Raft state in
    /// bytes: the replica snapshots when Raft's state reaches it (`None`: never).
    /// Returns at once; a driver thread does the work.
    ///
    /// Errors: the snapshot or Raft's persisted state does not decode.
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        mut sm: S,
    ) -> Result<Arc<Rsm<S>>, RsmError> {
        let snapshot = persister.read_snapshot();
        if !snapshot.is_empty() {
            sm.restore(&snapshot).map_err(|source| RsmError::Snapshot {
                me,
                bytes: snapshot.len(),
                source,
            })?;
        }
        let (apply_tx, apply_rx) = channel::unbounded();
        let raft = Raft::new(servers, me, persister, apply_tx)?;
        let leadership = raft.subscribe();
        let shared = Arc::new(Shared {
            sm: Mutex::new(sm),
            pending: Mutex::new(Pending::new()),
        });
        let driver = Driver {
            me,
            raft: raft.clone(),
            shared: Arc::clone(&shared),
            apply_rx,
            leadership,
            maxraftstate,
        };
        labrt::thread::Builder::new()
            .name(format!("rsm-{me}"))
            .spawn(move || driver.run())
            .expect("spawn the rsm driver thread");
        Ok(Arc::new(Rsm {
            me,
            incarnation: labrt::rand::random_u64() as u32,
            next_seq: AtomicU64::new(0),
            raft,
            shared,
        }))
    }

    /// Replicates `req` and returns what applying it produced, once it is
    /// committed and applied here.
    ///
    /// Returns [`SubmitError::WrongLeader`] at once if this replica is not the
    /// leader or is dead, and later if it loses leadership before the request
    /// commits, or is killed meanwhile. Blocks for as long as this replica
    /// believes it leads in the term it accepted the request in.
    pub fn submit(&self, req: S::Op) -> Result<S::Output, SubmitError> {
        let id = OpId {
            me: self.me as u32,
            incarnation: self.incarnation,
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
        };
        let (reply_tx, reply_rx) = channel::bounded(1);
        {
            // Start and register under the table's lock, so neither the entry's
            // application nor a leadership report can slip in between.
            let mut pending = self.shared.pending.lock();
            if pending.is_dead() {
                return Err(SubmitError::WrongLeader);
            }
            let (index, term) = self
                .raft
                .start(Op { id, req })
                .ok_or(SubmitError::WrongLeader)?;
            log::debug!(target: "rsm::client", "S{} T{term} submit {id:?} at index {index}", self.me);
            pending.register(index, term, id, reply_tx)?;
        }
        // A closed channel means the waiter was dropped without an answer.
        reply_rx.recv().unwrap_or(Err(SubmitError::WrongLeader))
    }

    /// The Raft peer under this replica.
    pub fn raft(&self) -> &Raft<Op<S::Op>> {
        &self.raft
    }

    /// This replica's index in its group.
    pub fn me(&self) -> usize {
        self.me
    }

    /// Runs `f` on the current state (under the lock the driver applies with).
    pub fn with_state_machine<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&self.shared.sm.lock())
    }

    /// True once [`Rsm::kill`] ran or Raft closed the apply channel.
    pub fn is_dead(&self) -> bool {
        self.shared.pending.lock().is_dead()
    }

    /// Shuts the replica down: every pending submit returns
    /// [`SubmitError::WrongLeader`] at once, later submits too, and Raft stops.
    pub fn kill(&self) {
        self.shared.pending.lock().kill();
        self.raft.kill();
    }

    /// The RPC services to register for this replica (Raft's).
    pub fn services(&self) -> Vec<labrpc::Service> {
        vec![self.raft.service()]
    }
}

impl<S: StateMachine> Drop for Rsm<S> {
    fn drop(&mut self) {
        self.kill();
    }
}
