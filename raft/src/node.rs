//! The thin thread layer around the pure core: one lock around the core, a
//! timer thread, an applier thread, a link per other peer, and the RPC
//! handlers. Every input takes the lock, steps the core, persists if asked,
//! hands requests to the links and wakes whoever must act, then lets go: no
//! lock is held across an RPC or while blocked on the apply channel.

use labrt::thread::JoinHandle;
use labrt::time::Instant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use labrt::channel::{self, Receiver, Sender};
use labrt::sync::Mutex;

use crate::core::{Core, Output, Timing};
use crate::link::Link;
use crate::messages::{
    AppendEntriesArgs, InstallSnapshotArgs, Outgoing, RequestVoteArgs, Response, method,
};
use crate::persist::{decode_state, encode_state};
use crate::types::{LogIndex, PeerId};
use crate::{ApplyMsg, Command, RaftError};

/// How many committed commands the applier takes from the core at a time.
const APPLY_BATCH: usize = 64;

/// Everything one peer's threads share.
struct Shared<C: Command> {
    me: PeerId,
    core: Mutex<Core<C>>,
    persister: labrpc::Persister,
    /// One per peer; `None` at our own index.
    links: Vec<Option<Arc<Link<C>>>>,
    killed: AtomicBool,
    /// Dropped by `kill`, which wakes every thread waiting on `stop`.
    stop_tx: Mutex<Option<Sender<()>>>,
    stop: Receiver<()>,
    /// Told when the core may have something for the applier.
    apply_wake: Sender<()>,
    /// Told when the core's next deadline may have moved earlier.
    timer_wake: Sender<()>,
    subscribers: Mutex<Vec<Sender<(u64, bool)>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// One Raft peer: a cheap, cloneable handle to its state and threads.
///
/// ```no_run
/// # fn demo(ends: Vec<labrpc::ClientEnd>, persister: labrpc::Persister) {
/// let (apply_tx, apply_rx) = labrt::channel::bounded(0);
/// let raft = raft::Raft::<String>::new(ends, 0, persister, apply_tx).unwrap();
/// if let Some((index, term)) = raft.start("x".to_string()) {
///     // Committed commands arrive on apply_rx in log order.
///     let _ = (index, term, apply_rx.recv());
/// }
/// raft.kill();
/// # }
/// ```
pub struct Raft<C: Command> {
    shared: Arc<Shared<C>>,
}

impl<C: Command> Clone for Raft<C> {
    fn clone(&self) -> Self {
        Raft {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Command> std::fmt::Debug for Raft<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (term, leader) = self.get_state();
        f.debug_struct("Raft")
            .field("me", &self.shared.me.0)
            .field("term", &term)
            .field("leader", &leader)
            .finish()
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
        Self::with_timing(peers, me, persister, apply_tx, Timing::default())
    }

    pub(crate) fn with_timing(
        peers: Vec<labrpc::ClientEnd>,
        me: usize,
        persister: labrpc::Persister,
        apply_tx: Sender<ApplyMsg<C>>,
        timing: Timing,
    ) -> Result<Raft<C>, RaftError> {
        if me >= peers.len() {
            return Err(RaftError::InvalidConfig(format!(
                "peer index {me} but only {} peers",
                peers.len()
            )));
        }
        let n = peers.len();
        let restored =
            decode_state::<C>(&persister.read_raft_state(), persister.read_snapshot(), n)?;
        let me = PeerId(me);
        let core = Core::new(
            me,
            n,
            restored,
            timing,
            labrpc::rng::child(),
            Instant::now(),
        );
        log::debug!(target: "raft::persist", "S{} T{} starts with {} entries after snapshot {}",
            me, core.term(), core.log().entries().len(), core.log().snapshot_index());
        let (stop_tx, stop) = channel::bounded(0);
        let (apply_wake, apply_woken) = channel::bounded(1);
        let (timer_wake, timer_woken) = channel::bounded(1);

        let shared = Arc::new_cyclic(|weak: &Weak<Shared<C>>| {
            let links = peers
                .into_iter()
                .enumerate()
                .map(|(peer, end)| {
                    (peer != me.0).then(|| {
                        let weak = weak.clone();
                        Link::new(
                            end,
                            format!("raft-S{me}-to-S{peer}"),
                            Arc::new(move |request, response| {
                                if let Some(shared) = weak.upgrade() {
                                    shared.on_outcome(request, response);
                                }
                            }),
                        )
                    })
                })
                .collect();
            Shared {
                me,
                core: Mutex::new(core),
                persister,
                links,
                killed: AtomicBool::new(false),
                stop_tx: Mutex::new(Some(stop_tx)),
                stop,
                apply_wake,
                timer_wake,
                subscribers: Mutex::new(Vec::new()),
                threads: Mutex::new(Vec::new()),
            }
        });

        let timer = {
            let shared = Arc::clone(&shared);
            labrt::thread::Builder::new()
                .name(format!("raft-S{me}-timer"))
                .spawn(move || shared.run_timer(timer_woken))
        };
        let applier = {
            let shared = Arc::clone(&shared);
            labrt::thread::Builder::new()
                .name(format!("raft-S{me}-applier"))
                .spawn(move || shared.run_applier(apply_woken, apply_tx))
        };
        let raft = Raft { shared };
        match (timer, applier) {
            (Ok(timer), Ok(applier)) => {
                raft.shared.threads.lock().extend([timer, applier]);
                Ok(raft)
            }
            (timer, applier) => {
                let reason = [&timer, &applier]
                    .into_iter()
                    .find_map(|r| r.as_ref().err().map(|e| e.to_string()))
                    .unwrap_or_default();
                raft.kill();
                for handle in [timer, applier].into_iter().flatten() {
                    let _ = handle.join();
                }
                Err(RaftError::Threads(reason))
            }
        }
    }

    /// Appends `command` if this peer is the leader and returns the index it will
    /// have if committed and the current term; `None` if not the leader. Returns
    /// at once; replication starts at once.
    pub fn start(&self, command: C) -> Option<(u64, u64)> {
        self.shared
            .step(|core, now, out| core.propose(command, now, out))
            .flatten()
            .map(|(index, term)| (index.0, term.0))
    }

    /// The current term and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        let core = self.shared.core.lock();
        (core.term().0, core.is_leader())
    }

    /// The service has a snapshot of everything through `index`: trim the log
    /// and persist the snapshot with the Raft state. Ignored if `index` is not
    /// newer than the current snapshot or has not been applied yet.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        self.shared
            .step(|core, _, out| core.snapshot(LogIndex(index), snapshot, out));
    }

    /// Size in bytes of the persisted Raft state.
    pub fn persist_bytes(&self) -> usize {
        self.shared.persister.raft_state_size()
    }

    /// A channel that receives every change of (term, is_leader) from now on.
    /// After [`Raft::kill`] the channel is closed.
    pub fn subscribe(&self) -> Receiver<(u64, bool)> {
        let (tx, rx) = channel::unbounded();
        // Under the core lock, so no change can slip between subscribing and
        // the first notification.
        let _core = self.shared.core.lock();
        if !self.shared.killed.load(Ordering::SeqCst) {
            self.shared.subscribers.lock().push(tx);
        }
        rx
    }

    /// Stops every thread of this peer promptly; it never sends again and the
    /// apply channel is closed by the time this returns. Calls to other peers
    /// already under way finish in the background, and their outcomes are
    /// dropped.
    pub fn kill(&self) {
        {
            let core = self.shared.core.lock();
            if self.shared.killed.swap(true, Ordering::SeqCst) {
                return;
            }
            self.shared.subscribers.lock().clear();
            log::debug!(target: "raft::election", "S{} T{} killed", self.shared.me, core.term());
        }
        self.shared.stop_tx.lock().take();
        for link in self.shared.links.iter().flatten() {
            link.close();
        }
        let handles: Vec<_> = self.shared.threads.lock().drain(..).collect();
        let current = std::thread::current().id();
        for handle in handles {
            if handle.thread().id() != current {
                let _ = handle.join();
            }
        }
    }

    /// The labrpc service "Raft" (RequestVote, AppendEntries, InstallSnapshot).
    pub fn service(&self) -> labrpc::Service {
        let vote = Arc::clone(&self.shared);
        let append = Arc::clone(&self.shared);
        let install = Arc::clone(&self.shared);
        labrpc::Service::new(method::SERVICE)
            .handler(method::REQUEST_VOTE, move |args: RequestVoteArgs| {
                vote.step(|core, now, out| core.on_request_vote(&args, now, out))
                    .unwrap_or_default()
            })
            .handler(method::APPEND_ENTRIES, move |args: AppendEntriesArgs<C>| {
                append
                    .step(|core, now, out| core.on_append_entries(&args, now, out))
                    .unwrap_or_default()
            })
            .handler(
                method::INSTALL_SNAPSHOT,
                move |args: InstallSnapshotArgs| {
                    install
                        .step(|core, now, out| core.on_install_snapshot(&args, now, out))
                        .unwrap_or_default()
                },
            )
    }
}

impl<C: Command> Shared<C> {
    /// Runs one input through the core and carries out its output. `None` once
    /// the peer is killed: a dead peer neither changes state nor sends.
    fn step<R>(&self, input: impl FnOnce(&mut Core<C>, Instant, &mut Output<C>) -> R) -> Option<R> {
        let mut core = self.core.lock();
        if self.killed.load(Ordering::SeqCst) {
            return None;
        }
        let mut out = Output::default();
        let result = input(&mut core, Instant::now(), &mut out);
        if out.persist {
            let state = encode_state(core.term(), core.voted_for(), core.log());
            log::trace!(target: "raft::persist", "S{} T{} saves {} bytes",
                self.me, core.term(), state.len());
            self.persister.save(state, core.snapshot_data());
        }
        if out.state_changed {
            let state = (core.term().0, core.is_leader());
            self.subscribers.lock().retain(|s| s.send(state).is_ok());
            let _ = self.timer_wake.try_send(());
        }
        // Still under the lock, so a link never sees an older request after a
        // newer one it may replace.
        for request in out.messages {
            if let Some(link) = &self.links[request.to.0] {
                link.submit(request);
            }
        }
        drop(core);
        if out.apply_ready {
            let _ = self.apply_wake.try_send(());
        }
        Some(result)
    }

    fn on_outcome(&self, request: Outgoing<C>, response: Option<Response>) {
        self.step(|core, now, out| {
            core.on_outcome(
                request.to,
                request.seq,
                &request.request,
                response.as_ref(),
                now,
                out,
            )
        });
    }

    /// Sleeps until the core's next deadline (or until woken because it moved),
    /// then ticks the core.
    fn run_timer(&self, woken: Receiver<()>) {
        loop {
            let deadline = self.core.lock().next_deadline();
            labrt::select! {
                recv(self.stop) -> _ => return,
                recv(woken) -> _ => continue,
                recv(channel::at(deadline)) -> _ => {
                    if self.step(|core, now, out| core.tick(now, out)).is_none() {
                        return;
                    }
                }
            }
        }
    }

    /// Delivers committed commands and installed snapshots, in order, without
    /// holding the core lock while the service is slow to take them.
    fn run_applier(&self, woken: Receiver<()>, apply_tx: Sender<ApplyMsg<C>>) {
        loop {
            labrt::select! {
                recv(self.stop) -> _ => return,
                recv(woken) -> _ => {}
            }
            loop {
                let batch = {
                    let mut core = self.core.lock();
                    if self.killed.load(Ordering::SeqCst) {
                        return;
                    }
                    core.take_apply(APPLY_BATCH)
                };
                if batch.is_empty() {
                    break;
                }
                for message in batch {
                    if self.killed.load(Ordering::SeqCst) {
                        return;
                    }
                    labrt::select! {
                        send(apply_tx, message) -> sent => if sent.is_err() { return },
                        recv(self.stop) -> _ => return,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ends(net: &labrpc::Network, n: usize, me: usize) -> Vec<labrpc::ClientEnd> {
        (0..n)
            .map(|j| {
                let name = format!("{me}->{j}");
                let end = net.make_end(&name);
                net.connect(&name, &format!("peer-{j}"));
                net.enable(&name, true);
                end
            })
            .collect()
    }

    /// Bytes in the persister that do not decode make `new` fail with a clear
    /// error instead of starting from an empty state.
    #[test]
    fn corrupt_persisted_state_is_an_error() {
        let net = labrpc::Network::new();
        let persister = labrpc::Persister::new();
        persister.save(vec![0xff, 0xff, 0xff], None);
        let (tx, _rx) = channel::unbounded();
        let err = Raft::<u64>::new(ends(&net, 1, 0), 0, persister, tx).unwrap_err();
        assert!(
            matches!(err, RaftError::CorruptState { len: 3, .. }),
            "{err}"
        );
        net.cleanup();
    }

    /// `me` outside the peer list is rejected.
    #[test]
    fn me_out_of_range_is_an_error() {
        let net = labrpc::Network::new();
        let (tx, _rx) = channel::unbounded();
        let err = Raft::<u64>::new(ends(&net, 2, 0), 2, labrpc::Persister::new(), tx).unwrap_err();
        assert!(matches!(err, RaftError::InvalidConfig(_)), "{err}");
        net.cleanup();
    }

    /// A lone peer elects itself, commits on its own, restarts from what it
    /// persisted, and after kill closes its apply channel and refuses work.
    #[test]
    fn single_peer_commits_restarts_and_dies_cleanly() {
        let net = labrpc::Network::new();
        let persister = labrpc::Persister::new();
        let (tx, rx) = channel::bounded(0);
        let raft = Raft::<u64>::new(ends(&net, 1, 0), 0, persister.clone(), tx).unwrap();
        let changes = raft.subscribe();
        // Candidate and leader in one step: one change, to the final state.
        assert_eq!(
            changes.recv_timeout(Duration::from_secs(5)).unwrap(),
            (1, true)
        );
        assert_eq!(raft.start(7), Some((1, 1)));
        assert_eq!(
            rx.recv().unwrap(),
            ApplyMsg::Command {
                index: 1,
                term: 1,
                command: 7
            }
        );
        assert!(raft.persist_bytes() > 0);
        raft.kill();
        assert!(rx.recv().is_err(), "kill closes the apply channel");
        assert!(changes.recv().is_err(), "kill closes subscriptions");
        assert_eq!(raft.start(8), None);

        let (tx, rx) = channel::bounded(0);
        let again = Raft::<u64>::new(ends(&net, 1, 1), 0, persister.copy(), tx).unwrap();
        let (term, _) = again.get_state();
        assert!(term >= 1, "the term survives a restart");
        // Wait for it to lead again: a change after subscribing is reported,
        // one before it shows in get_state.
        let changes = again.subscribe();
        while !again.get_state().1 {
            changes
                .recv_timeout(Duration::from_secs(5))
                .expect("a lone peer elects itself within 5 s");
        }
        let (index, _) = again.start(9).expect("the lone peer leads");
        assert_eq!(index, 2, "the log survives a restart");
        let applied: Vec<u64> = (0..2)
            .map(|_| match rx.recv().unwrap() {
                ApplyMsg::Command { command, .. } => command,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(applied, vec![7, 9]);
        again.kill();
        net.cleanup();
    }
}
