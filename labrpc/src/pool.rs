//! The threads that run handlers: reused while there is work, grown whenever
//! every thread is busy (a handler may block for a long time, e.g. a KV server
//! waiting for a commit, so a fixed-size pool could starve), and shrunk when
//! threads sit idle.

use crate::constants::IDLE_WORKER_LINGER;
use labrt::channel::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Pool {
    jobs_tx: Sender<Job>,
    jobs_rx: Receiver<Job>,
    /// Threads waiting for a job and not yet promised one. A submitter takes
    /// one (decrements) before queueing, so every queued job has a thread.
    idle: Arc<AtomicUsize>,
}

impl Pool {
    pub(crate) fn new() -> Self {
        let (jobs_tx, jobs_rx) = channel::unbounded();
        Self {
            jobs_tx,
            jobs_rx,
            idle: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `job` on an idle thread, or on a new one if none is idle.
    pub(crate) fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        if take_one(&self.idle) {
            // An idle worker is promised to us; it will take this job (or an
            // equivalent one queued at the same time) from the queue.
            self.jobs_tx.send(job).expect("the pool owns a receiver");
            return;
        }
        let jobs_rx = self.jobs_rx.clone();
        let idle = self.idle.clone();
        labrt::thread::Builder::new()
            .name("labrpc-handler".into())
            .spawn(move || worker(job, jobs_rx, idle))
            .expect("labrpc: cannot spawn a handler thread");
    }
}

fn take_one(idle: &AtomicUsize) -> bool {
    idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

fn worker(first: Job, jobs_rx: Receiver<Job>, idle: Arc<AtomicUsize>) {
    first();
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        loop {
            match jobs_rx.recv_timeout(IDLE_WORKER_LINGER) {
                Ok(job) => {
                    job();
                    break;
                }
                // Retire only if nobody has promised a job to this thread.
                Err(RecvTimeoutError::Timeout) if take_one(&idle) => return,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
