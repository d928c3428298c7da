//! One Raft peer: the public API the tests and the services call, and two
//! worked examples (the RequestVote RPC; saving and restoring state).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrpc::lockcheck::Mutex;
use labrt::channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};

use crate::{ApplyMsg, Command, RaftError};

/// One Raft peer: a cheap handle that clones share (hand clones to your
/// threads and RPC handlers).
pub struct Raft<C: Command> {
    inner: Arc<Inner<C>>,
}

/// What every clone of a [`Raft`] shares.
struct Inner<C: Command> {
    /// The ends of every peer's RPC server, this one's own at `me`.
    peers: Vec<labrpc::ClientEnd>,
    /// This peer's index into `peers`.
    me: usize,
    /// Where this peer saves its persistent state (and later its snapshot).
    persister: labrpc::Persister,
    /// The service's end of the apply channel; `None` once killed.
    apply_tx: Mutex<Option<Sender<ApplyMsg<C>>>>,
    /// Set by [`Raft::kill`].
    dead: AtomicBool,
    /// Your state, behind one lock.
    state: Mutex<State>,
}

/// The peer's state (Figure 2). Add what you need, e.g. the log (3B), commit
/// and apply indices, the leader's per-peer bookkeeping, timers.
#[derive(Default)]
struct State {
    current_term: u64,
    voted_for: Option<usize>,
}

/// The arguments of the RequestVote RPC (Figure 2). Add the fields 3B needs.
/// Field names are yours: labgob encodes values by position, not by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RequestVoteArgs {
    term: u64,
    candidate_id: usize,
}

/// The reply to RequestVote (Figure 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RequestVoteReply {
    term: u64,
    vote_granted: bool,
}

impl<C: Command> Raft<C> {
    /// Builds peer `me` of a cluster whose RPC servers are reached through
    /// `peers` (`peers[me]` is this peer's own). The peer restores whatever
    /// state `persister` holds (it starts empty on a fresh cluster, and holds
    /// the last save of the previous incarnation after a restart).
    ///
    /// It must return at once: start long-running work (election timer,
    /// heartbeats, applier) on threads of its own. It sends every committed
    /// command, and every snapshot it installs, on `apply_tx` (see
    /// [`ApplyMsg`]): each committed command exactly once, in index order
    /// without gaps, and an [`ApplyMsg::Snapshot`] only when it moves the
    /// service forward past commands it has not applied yet. It is the only
    /// sender on `apply_tx`, and drops it when killed.
    ///
    /// The caller registers [`Raft::service`] on the network for the other
    /// peers to reach this one.
    ///
    /// # Errors
    /// [`RaftError::CorruptState`] if the persisted state does not decode;
    /// [`RaftError::InvalidConfig`] if `me` is not an index into `peers`.
    pub fn new(
        peers: Vec<labrpc::ClientEnd>,
        me: usize,
        persister: labrpc::Persister,
        apply_tx: Sender<ApplyMsg<C>>,
    ) -> Result<Raft<C>, RaftError> {
        if me >= peers.len() {
            return Err(RaftError::InvalidConfig(format!(
                "me is {me} but there are {} peers",
                peers.len()
            )));
        }
        // Restore what an earlier incarnation saved.
        let state = read_persist(&persister.read_raft_state())?;
        let raft = Raft {
            inner: Arc::new(Inner {
                peers,
                me,
                persister,
                apply_tx: Mutex::new(Some(apply_tx)),
                dead: AtomicBool::new(false),
                state: Mutex::new(state),
            }),
        };
        // Your code here (3A): start the threads that run elections, e.g.
        // labrt::thread::spawn with a clone of `raft`.
        Ok(raft)
    }

    /// Asks this peer to append `command` to the log.
    ///
    /// If this peer is not the leader, returns `None`. Otherwise it appends
    /// the command and returns `Some((index, term))`: the log index the command
    /// will have if it is ever committed, and the current term. It must return
    /// at once, without waiting for agreement: there is no guarantee the
    /// command will ever be committed, since the leader may fail or lose an
    /// election. The service learns that it committed when it arrives on the
    /// apply channel at `index`. The first command has index 1.
    pub fn start(&self, command: C) -> Option<(u64, u64)> {
        let _ = command;
        panic!("Raft::start is not implemented yet (lab 3B)")
    }

    /// Returns `(current term, whether this peer believes it is the leader)`.
    pub fn get_state(&self) -> (u64, bool) {
        panic!("Raft::get_state is not implemented yet (lab 3A)")
    }

    /// The service has applied every command through `index` and `snapshot`
    /// holds its state at that point: Raft no longer needs the log through
    /// `index`. Trim it (keeping what InstallSnapshot and consistency checks
    /// still need, e.g. the last included index and term), and save the
    /// snapshot together with the Raft state in one `Persister::save`, so that
    /// a restart resumes from both.
    ///
    /// Ignore an `index` not newer than the current snapshot. Like every
    /// method here, it must return soon, so the service must be able to call it
    /// while Raft waits for the service to take the next apply message.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let _ = (index, snapshot);
        panic!("Raft::snapshot is not implemented yet (lab 3D)")
    }

    /// The size in bytes of the persisted Raft state (not counting the
    /// snapshot): what `Persister::raft_state_size` reports. The tests and
    /// the services use it to check that snapshots keep the log short.
    pub fn persist_bytes(&self) -> usize {
        panic!("Raft::persist_bytes is not implemented yet (lab 3C)")
    }

    /// Returns a channel that receives `(term, is_leader)`, as
    /// [`Raft::get_state`] would return it, every time either changes from now
    /// on. The senders are dropped when the peer is killed, so the channel then
    /// disconnects. The raft tests do not call it; the replicated state machine
    /// of lab 4A (rsm) does, to learn at once that leadership was lost.
    pub fn subscribe(&self) -> Receiver<(u64, bool)> {
        panic!("Raft::subscribe is not implemented yet (lab 4A)")
    }

    /// Stops this peer for good, as a crash does: the tests call it instead of
    /// ending the process. Soon after it returns, every thread of the peer has
    /// ended, and the peer sends no more RPCs or apply messages. It drops its
    /// sender of the apply channel (so the service's receiver disconnects once
    /// it has taken the messages already sent) and the senders of
    /// [`Raft::subscribe`]. Calling it again does nothing.
    pub fn kill(&self) {
        self.inner.dead.store(true, Ordering::SeqCst);
        self.inner.apply_tx.lock().take();
        // Your code here, if needed: wake and stop your threads.
    }

    /// A worked example: hands `msg` to the service. The tests' apply channel
    /// has no buffer, so the send waits until the service takes the message,
    /// and the service may call back into Raft (`snapshot`) before it does:
    /// never send while holding your state's lock. With `LAB_LOCKCHECK=1` a
    /// send made while holding one is reported. Returns false once killed.
    #[expect(
        dead_code,
        reason = "a worked example: call it from your code, then delete this attribute"
    )]
    fn send_to_service(&self, msg: ApplyMsg<C>) -> bool {
        // Clone the sender out, so not even this lock is held while sending.
        let Some(apply_tx) = self.inner.apply_tx.lock().clone() else {
            return false;
        };
        labrpc::lockcheck::check_blocking("the apply channel");
        apply_tx.send(msg).is_ok()
    }

    /// Whether [`Raft::kill`] was called. Have long-running threads check it
    /// and end.
    #[expect(
        dead_code,
        reason = "a worked example: call it from your code, then delete this attribute"
    )]
    fn killed(&self) -> bool {
        self.inner.dead.load(Ordering::SeqCst)
    }

    /// This peer's RPC handlers as the labrpc service `"Raft"`, which the
    /// caller registers on the network (on this peer's `labrpc::Server`) so
    /// the other peers can call them. Add a handler per RPC you define
    /// (AppendEntries in 3A/3B, InstallSnapshot in 3D).
    pub fn service(&self) -> labrpc::Service {
        let raft = self.clone();
        labrpc::Service::new("Raft").handler("RequestVote", move |args: RequestVoteArgs| {
            raft.request_vote(args)
        })
    }

    /// The RequestVote handler: runs on a network thread when a candidate
    /// calls `"Raft.RequestVote"`, and its return value is the reply.
    fn request_vote(&self, args: RequestVoteArgs) -> RequestVoteReply {
        let _ = args;
        panic!("Raft::request_vote is not implemented yet (lab 3A)")
    }

    /// Sends RequestVote to peer `server` and waits for the reply.
    ///
    /// `None` means no reply: the network lost the request or the reply, or
    /// the server is down or cut off. The call may take a while (the network
    /// delays messages, and an unreachable server can take long to fail), so
    /// make it from a thread of its own, holding no lock, and expect replies
    /// late and out of order.
    #[expect(
        dead_code,
        reason = "a worked example: call it from your code, then delete this attribute"
    )]
    fn send_request_vote(&self, server: usize, args: &RequestVoteArgs) -> Option<RequestVoteReply> {
        self.inner.peers[server].call("Raft.RequestVote", args).ok()
    }

    /// Saves the persistent state (Figure 2) to stable storage, where a
    /// restarted peer finds it. Call it whenever that state changes, before
    /// acting on the change (e.g. before replying to an RPC).
    #[expect(
        dead_code,
        reason = "a worked example: call it from your code, then delete this attribute"
    )]
    fn persist(&self, state: &State) {
        // Your code here (3C): encode the log too.
        let mut encoder = labgob::Encoder::new();
        encoder.encode(&state.current_term).encode(&state.voted_for);
        // `None` erases any saved snapshot: pass the current one once you
        // take snapshots (3D).
        self.inner.persister.save(encoder.finish(), None);
    }
}

/// Decodes the state that [`Raft::persist`] saved; empty `data` (nothing
/// saved yet) gives a fresh state.
fn read_persist(data: &[u8]) -> Result<State, RaftError> {
    if data.is_empty() {
        return Ok(State::default());
    }
    let corrupt = |e: labgob::DecodeError| RaftError::CorruptState {
        len: data.len(),
        reason: e.to_string(),
    };
    // Your code here (3C): decode the log too, in the order persist wrote it.
    let mut decoder = labgob::Decoder::new(data);
    let current_term = decoder.decode().map_err(corrupt)?;
    let voted_for = decoder.decode().map_err(corrupt)?;
    decoder.finish().map_err(corrupt)?;
    Ok(State {
        current_term,
        voted_for,
    })
}

impl<C: Command> Clone for Raft<C> {
    fn clone(&self) -> Self {
        Raft {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C: Command> std::fmt::Debug for Raft<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Raft");
        out.field("me", &self.inner.me)
            .field("peers", &self.inner.peers.len())
            .field("dead", &self.inner.dead.load(Ordering::SeqCst))
            .field("saved_bytes", &self.inner.persister.raft_state_size());
        // Not blocking: the caller may hold the lock.
        match self.inner.state.try_lock() {
            Some(state) => out
                .field("term", &state.current_term)
                .field("voted_for", &state.voted_for),
            None => out.field("state", &"<locked>"),
        };
        out.finish()
    }
}
