//! One peer-to-peer link: worker threads that make the blocking labrpc calls
//! to one other peer, so no caller ever waits on the network.
//!
//! A link holds at most one request waiting for a worker; a newer request
//! replaces it (every request is built from the leader's latest state, so the
//! newest supersedes the rest). Workers are spawned on demand, up to
//! [`MAX_WORKERS`]: a call to an unreachable peer may take seconds to fail, and
//! a reply may be held back for two, so a few calls must be able to be out at
//! once for heartbeats to keep flowing. Idle workers wait on a condition
//! variable and cost nothing.

use std::sync::Arc;

use labrt::sync::{Condvar, Mutex};

use crate::Command;
use crate::messages::{
    AppendEntriesReply, InstallSnapshotReply, Outgoing, Request, RequestVoteReply, Response, method,
};

/// The most calls one link has out at once.
pub(crate) const MAX_WORKERS: usize = 16;

/// Where a worker reports the outcome of a call: the request and its reply,
/// or `None` if the network failed it.
pub(crate) type OnOutcome<C> = Arc<dyn Fn(Outgoing<C>, Option<Response>) + Send + Sync>;

struct State<C> {
    waiting: Option<Outgoing<C>>,
    idle: usize,
    workers: usize,
    closed: bool,
}

/// The sending side of one peer-to-peer link.
pub(crate) struct Link<C> {
    end: labrpc::ClientEnd,
    name: String,
    on_outcome: OnOutcome<C>,
    state: Mutex<State<C>>,
    wake: Condvar,
}

impl<C: Command> Link<C> {
    /// A link that calls through `end` and reports to `on_outcome`.
    pub(crate) fn new(end: labrpc::ClientEnd, name: String, on_outcome: OnOutcome<C>) -> Arc<Self> {
        Arc::new(Link {
            end,
            name,
            on_outcome,
            state: Mutex::new(State {
                waiting: None,
                idle: 0,
                workers: 0,
                closed: false,
            }),
            wake: Condvar::new(),
        })
    }

    /// Queues `request` for sending, replacing an older one still waiting.
    pub(crate) fn submit(self: &Arc<Self>, request: Outgoing<C>) {
        let mut state = self.state.lock();
        if state.closed {
            return;
        }
        if state.waiting.as_ref().is_some_and(|w| w.seq > request.seq) {
            return;
        }
        state.waiting = Some(request);
        if state.idle > 0 {
            self.wake.notify_one();
        } else if state.workers < MAX_WORKERS {
            state.workers += 1;
            let link = Arc::clone(self);
            let spawned = labrt::thread::Builder::new()
                .name(self.name.clone())
                .spawn(move || link.work());
            if spawned.is_err() {
                // Out of threads: the request waits for a busy worker instead.
                state.workers -= 1;
                log::warn!(target: "raft::append", "{}: cannot spawn a sender thread", self.name);
            }
        }
    }

    /// Stops the link: nothing more is sent. Workers in a call finish it and exit
    /// without reporting.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.waiting = None;
        self.wake.notify_all();
    }

    fn work(&self) {
        loop {
            let request = {
                let mut state = self.state.lock();
                loop {
                    if state.closed {
                        state.workers -= 1;
                        return;
                    }
                    if let Some(request) = state.waiting.take() {
                        break request;
                    }
                    state.idle += 1;
                    self.wake.wait(&mut state);
                    state.idle -= 1;
                }
            };
            let response = self.call(&request.request);
            if self.state.lock().closed {
                continue;
            }
            (self.on_outcome)(request, response);
        }
    }

    fn call(&self, request: &Request<C>) -> Option<Response> {
        match request {
            Request::Vote(args) => self
                .end
                .call::<_, RequestVoteReply>(method::FULL_REQUEST_VOTE, args)
                .ok()
                .map(Response::Vote),
            Request::Append(args) => self
                .end
                .call::<_, AppendEntriesReply>(method::FULL_APPEND_ENTRIES, args)
                .ok()
                .map(Response::Append),
            Request::Snapshot(args) => self
                .end
                .call::<_, InstallSnapshotReply>(method::FULL_INSTALL_SNAPSHOT, args)
                .ok()
                .map(Response::Snapshot),
        }
    }
}
