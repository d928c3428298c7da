//! The threads that run handlers: reused while there is work, grown whenever
//! every thread is busy (a handler may block for a long time, e.g. a KV server
//! waiting for a commit, so a fixed-size pool could starve), and shrunk when
//! threads sit idle. Idle threads park on a condition variable.

use crate::constants::IDLE_WORKER_LINGER;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads parked waiting for a job.
    idle: usize,
    /// Set when the pool is dropped: idle threads exit.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    work: Condvar,
}

pub(crate) struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    pub(crate) fn new() -> Self {
        Self {
            shared: Arc::default(),
        }
    }

    /// Runs `job` on an idle thread, or on a new one if none is free.
    pub(crate) fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        {
            let mut queue = self.shared.queue.lock();
            // Each queued job needs a parked thread of its own.
            if queue.idle > queue.jobs.len() {
                queue.jobs.push_back(job);
                self.shared.work.notify_one();
                return;
            }
        }
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("labrpc-handler".into())
            .spawn(move || {
                job();
                worker(&shared);
            })
            .expect("labrpc: cannot spawn a handler thread");
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.queue.lock().closed = true;
        self.shared.work.notify_all();
    }
}

fn worker(shared: &Shared) {
    let mut queue = shared.queue.lock();
    loop {
        if let Some(job) = queue.jobs.pop_front() {
            drop(queue);
            job();
            queue = shared.queue.lock();
            continue;
        }
        if queue.closed {
            return;
        }
        queue.idle += 1;
        let timed_out = shared
            .work
            .wait_for(&mut queue, IDLE_WORKER_LINGER)
            .timed_out();
        queue.idle -= 1;
        if timed_out && queue.jobs.is_empty() {
            return;
        }
    }
}
