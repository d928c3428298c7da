//! The public handle of one Raft peer.

use std::marker::PhantomData;

use crossbeam::channel::{Receiver, Sender};

use crate::{ApplyMsg, Command, RaftError};

/// One Raft peer: a cheap, cloneable handle to its state and threads.
pub struct Raft<C: Command> {
    _command: PhantomData<C>,
}

impl<C: Command> Clone for Raft<C> {
    fn clone(&self) -> Self {
        Raft { _command: PhantomData }
    }
}

impl<C: Command> Raft<C> {
    /// Builds peer `me` of the cluster reached through `peers` (`peers[me]` is
    /// itself), restoring from `persister`, and starts its threads; returns at once.
    /// Committed commands and snapshots are delivered in order on `apply_tx`.
    ///
    /// # Errors
    /// [`RaftError::CorruptState`] if the persister holds bytes that do not decode;
    /// [`RaftError::InvalidConfig`] if `me` is not an index into `peers`.
    pub fn new(
        peers: Vec<labrpc::ClientEnd>,
        me: usize,
        persister: labrpc::Persister,
        apply_tx: Sender<ApplyMsg<C>>,
    ) -> Result<Raft<C>, RaftError> {
        let _ = (peers, me, persister, apply_tx);
        todo!("raft: under construction")
    }

    /// Appends `command` if this peer is the leader and returns the index it will
    /// have if committed and the current term; `None` if not the leader. Returns
    /// at once; replication starts at once.
    pub fn start(&self, command: C) -> Option<(u64, u64)> {
        let _ = command;
        todo!("raft: under construction")
    }

    /// The current term and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        todo!("raft: under construction")
    }

    /// The service has a snapshot of everything through `index`: trim the log
    /// and persist the snapshot with the Raft state.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let _ = (index, snapshot);
        todo!("raft: under construction")
    }

    /// Size in bytes of the persisted Raft state.
    pub fn persist_bytes(&self) -> usize {
        todo!("raft: under construction")
    }

    /// A channel that receives every change of (term, is_leader) from now on.
    pub fn subscribe(&self) -> Receiver<(u64, bool)> {
        todo!("raft: under construction")
    }

    /// Stops every thread of this peer promptly; it never sends again and the
    /// apply channel is closed.
    pub fn kill(&self) {
        todo!("raft: under construction")
    }

    /// The labrpc service "Raft" (RequestVote, AppendEntries, InstallSnapshot).
    pub fn service(&self) -> labrpc::Service {
        todo!("raft: under construction")
    }
}
