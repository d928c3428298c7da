//! The replica (lab 4A): [`Rsm::new`] starts a Raft peer and a thread that
//! reads its apply channel; [`Rsm::submit`] puts one operation in the log and
//! waits for the result of applying it.

use std::sync::Arc;

use labrpc::lockcheck::Mutex;
use labrpc::{ClientEnd, Persister, Service};
use labrt::channel::Receiver;
use raft::{ApplyMsg, Raft};

use crate::error::{RsmError, SubmitError};
use crate::state_machine::StateMachine;

/// One replica of the state machine `S`, kept in step with the other
/// replicas of its group by Raft.
///
/// The fields below are a start (they are Go's `RSM` struct); add what you
/// need, for example what a waiting [`Rsm::submit`] needs to learn the
/// outcome of its operation.
pub struct Rsm<S: StateMachine> {
    /// This replica's index in its group.
    #[expect(
        dead_code,
        reason = "use it (in log lines, say), then delete this attribute"
    )]
    me: usize,
    /// Snapshot once Raft's persisted state is larger than this (`None`: never).
    #[expect(
        dead_code,
        reason = "lab 4C: snapshot when the Raft state grows past it, then delete this attribute"
    )]
    maxraftstate: Option<usize>,
    /// The Raft peer under this replica. Its log holds the submitted
    /// operations; if you wrap each one in a type of your own, change the
    /// type parameter here and in [`Rsm::raft`].
    raft: Raft<S::Op>,
    /// The service's state, shared with the thread that applies the
    /// committed operations.
    sm: Arc<Mutex<S>>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts replica `me` of the group whose peers are `servers`
    /// (`servers[me]` is this replica), with the Raft state and snapshot
    /// saved in `persister`.
    ///
    /// Contract:
    /// - Builds this replica's Raft peer with [`Raft::new`]`(servers, me,
    ///   persister, apply_tx)`, where `apply_tx` sends on a new apply channel,
    ///   and starts a thread that reads that channel until Raft closes it. For
    ///   each committed command it calls [`StateMachine::apply`], in log
    ///   order, and hands the output to the [`Rsm::submit`] waiting for that
    ///   entry, if any; it installs each snapshot Raft delivers with
    ///   [`StateMachine::restore`] (lab 4C).
    /// - `maxraftstate` (lab 4C): when [`Raft::persist_bytes`] exceeds it, the
    ///   reader takes [`StateMachine::snapshot`] and gives it to
    ///   [`Raft::snapshot`] with the index of the last command it applied, so
    ///   Raft can discard the log before it. `None`: never snapshot.
    /// - If `persister` holds a snapshot (lab 4C), `sm` is restored from it
    ///   before anything is applied.
    /// - Returns at once; the work happens on the reader thread.
    ///
    /// # Errors
    /// [`RsmError::Snapshot`] when the persisted snapshot does not decode;
    /// [`RsmError::Raft`] when [`Raft::new`] fails (`?` converts its error).
    pub fn new(
        servers: Vec<ClientEnd>,
        me: usize,
        persister: Persister,
        maxraftstate: Option<usize>,
        sm: S,
    ) -> Result<Arc<Rsm<S>>, RsmError> {
        let _ = (servers, me, persister, maxraftstate, sm);
        panic!("Rsm::new is not implemented yet (lab 4A)")
    }

    /// Replicates `req` and returns the output of applying it, once it has
    /// been committed and applied on this replica.
    ///
    /// Contract:
    /// - `Ok(output)` is the result of applying exactly this `req`, exactly
    ///   once, never the result of another operation (not even an equal one
    ///   submitted elsewhere).
    /// - `Err(SubmitError::WrongLeader)` at once when this replica is not the
    ///   leader ([`Raft::start`] returns `None`) or has been killed; and, later,
    ///   instead of a result when it loses leadership (its term changes)
    ///   before `req` commits, when a different operation commits at the index
    ///   [`Raft::start`] gave `req`, or when the replica is killed while
    ///   waiting. The caller then tries another replica; `req` may or may not
    ///   end up committed.
    /// - A leader cut off in a minority may wait as long as it believes it
    ///   leads, but must return promptly once it learns of a newer term.
    /// - Many threads may submit at once; each waits only for its own
    ///   operation.
    pub fn submit(&self, req: S::Op) -> Result<S::Output, SubmitError> {
        let _ = req;
        panic!("Rsm::submit is not implemented yet (lab 4A)")
    }

    /// Shuts the replica down: Raft stops (and closes the apply channel, so
    /// the reader thread ends), every [`Rsm::submit`] still waiting returns
    /// [`SubmitError::WrongLeader`] promptly, and so does every later one.
    pub fn kill(&self) {
        self.raft.kill();
        // Lab 4A: also release the submits that are still waiting, and make
        // later submits fail at once.
    }

    /// The Raft peer under this replica (the tests ask it `get_state`).
    pub fn raft(&self) -> &Raft<S::Op> {
        &self.raft
    }

    /// Runs `f` on this replica's current state (the tests read the counter
    /// with it).
    pub fn with_state_machine<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&self.sm.lock())
    }

    /// The RPC services to register on the network for this replica: Raft's.
    pub fn services(&self) -> Vec<Service> {
        vec![self.raft.service()]
    }
}

/// An outline of the thread that [`Rsm::new`] starts: reads the apply
/// channel until Raft closes it (when it is killed). An
/// [`ApplyMsg::Command`] is applied to the state machine and its output
/// handed to the submit waiting for that entry, if any; an
/// [`ApplyMsg::Snapshot`] (lab 4C) replaces the state machine's state. Give
/// the function what it needs (the state machine, whatever the waiting
/// submits listen on, the Raft peer for snapshots).
#[expect(
    dead_code,
    reason = "start it on its own thread in Rsm::new, then delete this attribute"
)]
fn read_apply_channel<C>(apply_rx: Receiver<ApplyMsg<C>>) {
    let _ = apply_rx;
    panic!("read_apply_channel is not implemented yet (lab 4A)")
}
