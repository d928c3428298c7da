//! One simulated world: its threads, its virtual clock and the scheduler that
//! runs exactly one of its threads at a time.
//!
//! Every simulated thread is a real OS thread, but only the one named by
//! `State::current` runs; the others are parked (folly's
//! `DeterministicSchedule`: threads pass one baton). At every facade operation
//! the running thread asks the scheduler who runs next, and the choice comes
//! from the world's seeded generator, so one seed fixes the whole interleaving.
//! When every thread is blocked, the clock jumps to the earliest deadline; with
//! no deadline either, that is a deadlock, reported with every thread's name
//! and the place it waits.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::step_check::{self, StepCheck};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A thread's index in its world (0 is the thread that created the world).
pub(crate) type Tid = usize;

/// Facade operations a thread may make without blocking before it counts as
/// spinning while the clock cannot move (a livelock).
pub(crate) const LIVELOCK_OPS: u64 = 500_000;

/// At a scheduling point where the running thread could go on, the
/// scheduler picks again (among all runnable threads) once in this many.
pub(crate) const PREEMPT_ONE_IN: u32 = 8;

/// Why a blocked thread runs again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Another thread notified one of the keys it waited on.
    Notified,
    /// Its deadline came.
    TimedOut,
}

/// What a blocked thread waits for, for the deadlock report.
#[derive(Clone, Copy)]
pub(crate) struct Site {
    pub(crate) what: &'static str,
    pub(crate) at: &'static Location<'static>,
}

enum Status {
    Runnable,
    Blocked {
        keys: Vec<usize>,
        deadline: Option<u64>,
        site: Site,
    },
    Finished,
}

struct Slot {
    name: String,
    thread: Option<std::thread::Thread>,
    status: Status,
    wake: Wake,
    /// Facade operations since it last blocked.
    ops: u64,
}

struct State {
    slots: Vec<Slot>,
    current: Tid,
    /// Virtual nanoseconds since the world began.
    now: u64,
    rng: StdRng,
    waiters: HashMap<usize, Vec<Tid>>,
    digest: u64,
    steps: u64,
    failure: Option<String>,
    ended: bool,
}

/// The payload a world's threads unwind with once the world has ended.
pub(crate) struct WorldEnded;

/// A simulated world.
pub(crate) struct World {
    state: Mutex<State>,
    seed: u64,
    /// The program's generator (`labrt::rand`): its seed and its stream.
    pub(crate) program: parking_lot::Mutex<(u64, StdRng)>,
    /// The last value [`World::stamp`] gave.
    last_stamp: std::sync::atomic::AtomicU64,
    /// The CPU every thread of the world is pinned to (see `pin`).
    cpu: Option<usize>,
    /// The check run after every step (see `step_check`), and whether there
    /// is one (read after every step without taking its lock).
    step_check: parking_lot::Mutex<Option<StepCheck>>,
    has_step_check: AtomicBool,
}

/// A summary of a world's run so far, the same for the same seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The seed the world was made with.
    pub seed: u64,
    /// A hash of every scheduling decision and the clock at each.
    pub digest: u64,
    /// Scheduling decisions made.
    pub steps: u64,
    /// Virtual time elapsed.
    pub elapsed: std::time::Duration,
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn mix(digest: u64, value: u64) -> u64 {
    let mut d = digest;
    for byte in value.to_le_bytes() {
        d = (d ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
    }
    d
}

impl World {
    /// A world whose first thread (tid 0) is the calling OS thread.
    pub(crate) fn new(seed: u64, main_name: String) -> Arc<World> {
        let cpu = super::pin::current_cpu();
        if let Some(cpu) = cpu {
            super::pin::pin_to(cpu);
        }
        let main = Slot {
            name: main_name,
            thread: Some(std::thread::current()),
            status: Status::Runnable,
            wake: Wake::Notified,
            ops: 0,
        };
        Arc::new(World {
            state: Mutex::new(State {
                slots: vec![main],
                current: 0,
                now: 0,
                // The scheduler's stream is its own: the program's draws do
                // not shift it.
                rng: StdRng::seed_from_u64(seed ^ 0x5eed_5c4e_d01e_0000),
                waiters: HashMap::new(),
                digest: 0xcbf2_9ce4_8422_2325,
                steps: 0,
                failure: None,
                ended: false,
            }),
            seed,
            program: parking_lot::Mutex::new((seed, StdRng::seed_from_u64(seed))),
            last_stamp: std::sync::atomic::AtomicU64::new(0),
            cpu,
            step_check: parking_lot::Mutex::new(None),
            has_step_check: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked while holding the state leaves it usable:
        // every update is complete before anything can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// A scheduler's choice among `n` options (`n > 0`).
    pub(crate) fn choose(&self, n: usize) -> usize {
        let mut st = self.lock();
        let pick = if n <= 1 { 0 } else { st.rng.random_range(0..n) };
        st.digest = mix(st.digest, pick as u64);
        pick
    }

    /// Strictly increasing timestamps: the virtual clock, one nanosecond
    /// past the last stamp when the clock has not moved since.
    pub(crate) fn stamp(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let now = self.now();
        let mut last = self.last_stamp.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self
                .last_stamp
                .compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Virtual nanoseconds since the world began.
    pub(crate) fn now(&self) -> u64 {
        self.lock().now
    }

    pub(crate) fn trace(&self) -> Trace {
        let st = self.lock();
        Trace {
            seed: self.seed,
            digest: st.digest,
            steps: st.steps,
            elapsed: std::time::Duration::from_nanos(st.now),
        }
    }

    pub(crate) fn ended(&self) -> bool {
        self.lock().ended
    }

    /// The name of thread `tid`.
    pub(crate) fn name(&self, tid: Tid) -> String {
        self.lock().slots[tid].name.clone()
    }

    /// Adds a runnable thread; it runs once [`World::attach`] gave its OS thread
    /// and the scheduler picks it.
    pub(crate) fn add_thread(&self, name: Option<String>) -> Tid {
        let mut st = self.lock();
        let tid = st.slots.len();
        let name = name.unwrap_or_else(|| format!("<thread {tid}>"));
        let mut d = st.digest;
        for byte in name.bytes() {
            d = mix(d, u64::from(byte));
        }
        st.digest = d;
        st.slots.push(Slot {
            name,
            thread: None,
            status: Status::Runnable,
            wake: Wake::Notified,
            ops: 0,
        });
        tid
    }

    /// Installs (or with `None` removes) the check run after every step.
    pub(crate) fn set_step_check(&self, check: Option<StepCheck>) {
        let mut slot = self.step_check.lock();
        self.has_step_check
            .store(check.is_some(), Ordering::Release);
        *slot = check;
    }

    /// Runs the step check, if there is one, on `me`, which the scheduler
    /// has just picked to run (called after each decision, once); records
    /// its report as the world's failure (thread 0 panics with it).
    fn after_step(&self, me: Tid) {
        if !self.has_step_check.load(Ordering::Acquire) {
            return;
        }
        // Taken out while it runs, so the lock is not held across it.
        let Some(mut check) = self.step_check.lock().take() else {
            return;
        };
        let outcome = step_check::run(&mut check);
        let mut slot = self.step_check.lock();
        let Err(report) = outcome else {
            if slot.is_none() && self.has_step_check.load(Ordering::Acquire) {
                *slot = Some(check);
            }
            return;
        };
        self.has_step_check.store(false, Ordering::Release);
        *slot = None;
        drop(slot);
        let (step, now) = {
            let st = self.lock();
            (st.steps, st.now)
        };
        self.fail(
            me,
            format!(
                "step check failed at step {step}, virtual time {:.3} s: {report}",
                now as f64 / 1e9
            ),
        );
    }

    /// Records `report` as the world's failure (unless one is recorded) and
    /// wakes thread 0, which panics with it at once (`me` is the caller: on
    /// thread 0 the panic is here).
    pub(crate) fn fail(&self, me: Tid, report: String) {
        let mut st = self.lock();
        if st.failure.is_none() {
            st.failure = Some(report.clone());
        }
        if me != 0 && matches!(st.slots[0].status, Status::Blocked { .. }) {
            unblock(&mut st, 0, Wake::Notified);
        }
        drop(st);
        if me == 0 && !std::thread::panicking() {
            panic!("{report}");
        }
    }

    /// Pins the calling OS thread, a new thread of this world, to the
    /// world's CPU.
    pub(crate) fn pin_current(&self) {
        if let Some(cpu) = self.cpu {
            super::pin::pin_to(cpu);
        }
    }

    pub(crate) fn attach(&self, tid: Tid, thread: std::thread::Thread) {
        self.lock().slots[tid].thread = Some(thread);
    }

    /// Parks the calling OS thread (simulated thread `me`) until it is chosen.
    pub(crate) fn wait_turn(&self, me: Tid) {
        loop {
            {
                let st = self.lock();
                if st.current == me || st.ended {
                    return;
                }
            }
            std::thread::park();
        }
    }

    /// Unwinds the calling thread if the world has ended (never while it
    /// already unwinds), and panics on thread 0 with a recorded failure.
    fn check_alive(&self, st: MutexGuard<'_, State>, me: Tid) {
        let ended = st.ended;
        let failure = if me == 0 { st.failure.clone() } else { None };
        drop(st);
        if ended {
            stop_here();
        }
        if let Some(failure) = failure
            && !std::thread::panicking()
        {
            panic!("{failure}");
        }
    }

    /// A point where another thread may run: the scheduler picks among the
    /// runnable threads, this one included.
    pub(crate) fn yield_point(&self, me: Tid, at: &'static Location<'static>) {
        let mut st = self.lock();
        if st.ended {
            return;
        }
        let slot = &mut st.slots[me];
        slot.ops += 1;
        if slot.ops > LIVELOCK_OPS {
            slot.ops = 0;
            self.livelock(st, me, at);
            return;
        }
        // Preempt only now and then: a switch costs two OS context switches,
        // and a thread that runs on until it blocks is the common case.
        if st.rng.random_ratio(1, PREEMPT_ONE_IN) {
            let st = self.switch(st, me);
            self.check_alive(st, me);
            self.after_step(me);
        } else {
            st.digest = mix(st.digest, me as u64);
            let st = st;
            self.check_alive(st, me);
        }
    }

    /// Blocks the caller until one of `keys` is notified or the virtual clock
    /// reaches `deadline`.
    pub(crate) fn block(&self, me: Tid, keys: &[usize], deadline: Option<u64>, site: Site) -> Wake {
        let mut st = self.lock();
        if st.ended {
            drop(st);
            stop_here();
            return Wake::TimedOut;
        }
        if let Some(d) = deadline
            && d <= st.now
        {
            return Wake::TimedOut;
        }
        for &key in keys {
            st.waiters.entry(key).or_default().push(me);
        }
        let slot = &mut st.slots[me];
        slot.ops = 0;
        slot.status = Status::Blocked {
            keys: keys.to_vec(),
            deadline,
            site,
        };
        let st = self.switch(st, me);
        let wake = st.slots[me].wake;
        self.check_alive(st, me);
        self.after_step(me);
        wake
    }

    /// Makes runnable every thread blocked on `key` (or the first of them).
    pub(crate) fn notify(&self, key: usize, all: bool) {
        let mut st = self.lock();
        let Some(mut list) = st.waiters.remove(&key) else {
            return;
        };
        let rest = if all || list.len() <= 1 {
            Vec::new()
        } else {
            list.split_off(1)
        };
        for tid in list {
            unblock(&mut st, tid, Wake::Notified);
        }
        if !rest.is_empty() {
            st.waiters.insert(key, rest);
        }
    }

    /// Marks `me` finished and passes the baton on for good.
    pub(crate) fn finish(&self, me: Tid) {
        let mut st = self.lock();
        st.slots[me].status = Status::Finished;
        let key = join_key(me);
        if let Some(list) = st.waiters.remove(&key) {
            for tid in list {
                unblock(&mut st, tid, Wake::Notified);
            }
        }
        if st.ended {
            return;
        }
        if let Some((next, st)) = self.pick(st, me) {
            let thread = st.slots[next].thread.clone();
            drop(st);
            if let Some(thread) = thread {
                thread.unpark();
            }
        }
    }

    pub(crate) fn is_finished(&self, tid: Tid) -> bool {
        matches!(self.lock().slots[tid].status, Status::Finished)
    }

    /// Ends the world: every other thread unwinds when it next runs.
    pub(crate) fn end(&self) {
        let mut st = self.lock();
        st.ended = true;
        let threads: Vec<_> = st.slots.iter().filter_map(|s| s.thread.clone()).collect();
        drop(st);
        for thread in threads {
            thread.unpark();
        }
    }

    fn livelock(&self, mut st: MutexGuard<'_, State>, me: Tid, at: &'static Location<'static>) {
        let backtrace = std::backtrace::Backtrace::force_capture();
        let report = format!(
            "labrt: livelock: thread {:?} made {LIVELOCK_OPS} operations without ever blocking, \
             so virtual time cannot move (a busy loop on the clock or a spin on a flag?); \
             it spins at {at}; its backtrace:\n{backtrace}",
            st.slots[me].name
        );
        if me == 0 {
            if st.failure.is_none() {
                st.failure = Some(report);
            }
            self.check_alive(st, me);
            return;
        }
        drop(st);
        self.fail(me, report);
        // The spinner unwinds (as when the world ends) and thread 0 reports.
        // Unwinding, rather than parking it for good, lets a join on it
        // return: thread 0's clean-up (a Raft's kill joins its threads) would
        // otherwise wait for it until the test's watchdog ends the process.
        stop_here();
    }

    /// Chooses who runs next and, if it is another thread, hands over and
    /// waits to be chosen again. Returns with the state locked and `me` current.
    fn switch<'a>(&'a self, st: MutexGuard<'a, State>, me: Tid) -> MutexGuard<'a, State> {
        let Some((next, st)) = self.pick(st, me) else {
            // Nothing can ever run again (a deadlock with thread 0 finished).
            return self.lock();
        };
        if next == me {
            return st;
        }
        let thread = st.slots[next].thread.clone();
        drop(st);
        if let Some(thread) = thread {
            thread.unpark();
        }
        self.wait_turn(me);
        self.lock()
    }

    /// Picks the next thread to run (advancing the clock if every thread is
    /// blocked) and makes it current.
    fn pick<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        me: Tid,
    ) -> Option<(Tid, MutexGuard<'a, State>)> {
        loop {
            let runnable: Vec<Tid> = (0..st.slots.len())
                .filter(|&t| matches!(st.slots[t].status, Status::Runnable))
                .collect();
            if !runnable.is_empty() {
                let next = if runnable.len() == 1 {
                    runnable[0]
                } else {
                    runnable[st.rng.random_range(0..runnable.len())]
                };
                st.steps += 1;
                let d = mix(mix(st.digest, next as u64), st.now);
                st.digest = d;
                st.current = next;
                return Some((next, st));
            }
            let earliest = st
                .slots
                .iter()
                .filter_map(|s| match &s.status {
                    Status::Blocked { deadline, .. } => *deadline,
                    _ => None,
                })
                .min();
            match earliest {
                Some(t) => {
                    st.now = st.now.max(t);
                    let now = st.now;
                    for tid in 0..st.slots.len() {
                        if let Status::Blocked {
                            deadline: Some(d), ..
                        } = st.slots[tid].status
                            && d <= now
                        {
                            unblock(&mut st, tid, Wake::TimedOut);
                        }
                    }
                }
                None => {
                    let report = deadlock_report(&st, me);
                    if st.failure.is_none() {
                        st.failure = Some(report);
                    }
                    if matches!(st.slots[0].status, Status::Blocked { .. }) {
                        unblock(&mut st, 0, Wake::Notified);
                        continue;
                    }
                    // Thread 0 is gone: nobody can report; end the world.
                    st.ended = true;
                    let threads: Vec<_> =
                        st.slots.iter().filter_map(|s| s.thread.clone()).collect();
                    drop(st);
                    for thread in threads {
                        thread.unpark();
                    }
                    return None;
                }
            }
        }
    }
}

/// The key a thread's joiners wait on (addresses are never this large).
pub(crate) fn join_key(tid: Tid) -> usize {
    usize::MAX - tid
}

fn unblock(st: &mut State, tid: Tid, wake: Wake) {
    let Status::Blocked { keys, .. } =
        std::mem::replace(&mut st.slots[tid].status, Status::Runnable)
    else {
        return;
    };
    for key in keys {
        if let Some(list) = st.waiters.get_mut(&key) {
            list.retain(|&t| t != tid);
            if list.is_empty() {
                st.waiters.remove(&key);
            }
        }
    }
    st.slots[tid].wake = wake;
}

fn deadlock_report(st: &State, me: Tid) -> String {
    let mut text = format!(
        "labrt: deadlock at virtual time {:.3} s: every thread is blocked and no timer is pending\n",
        st.now as f64 / 1e9
    );
    for (tid, slot) in st.slots.iter().enumerate() {
        if let Status::Blocked { site, .. } = &slot.status {
            let _ = writeln!(
                text,
                "  thread {:?} waits in {} at {}{}",
                slot.name,
                site.what,
                site.at,
                if tid == me {
                    " (the last to block)"
                } else {
                    ""
                },
            );
        }
    }
    text
}

/// Unwinds the calling thread because its world has ended (without running
/// the panic hook); a thread already unwinding parks for good instead.
pub(crate) fn stop_here() {
    if std::thread::panicking() {
        loop {
            std::thread::park();
        }
    }
    std::panic::resume_unwind(Box::new(WorldEnded));
}
