//! Which planned run may start next: the first in plan order whose group
//! (a suite capped by `--caps`) is below its limit. Workers wait here, parked,
//! until a run of a full group finishes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::run::RunSpec;

/// The runs not started yet, and how many of each group are running.
pub struct Gate {
    state: Mutex<State>,
    changed: Condvar,
    /// Test index -> its group's index into `limits`, if capped.
    group_of_test: Vec<Option<usize>>,
    /// Most runs at once per group.
    limits: Vec<usize>,
}

struct State {
    pending: VecDeque<RunSpec>,
    running: Vec<usize>,
}

impl Gate {
    /// A gate over `plan`; `group_of_test[t]` names test `t`'s group by its
    /// index into `limits`.
    pub fn new(plan: Vec<RunSpec>, group_of_test: Vec<Option<usize>>, limits: Vec<usize>) -> Gate {
        Gate {
            state: Mutex::new(State {
                pending: plan.into(),
                running: vec![0; limits.len()],
            }),
            changed: Condvar::new(),
            group_of_test,
            limits,
        }
    }

    /// The next run to start, waiting while every pending run's group is
    /// full; `None` when nothing is left or `stop` is set.
    pub fn next(&self, stop: &AtomicBool) -> Option<RunSpec> {
        let mut state = self.state.lock();
        loop {
            if stop.load(Ordering::Acquire) || state.pending.is_empty() {
                return None;
            }
            let State { pending, running } = &mut *state;
            let fits = |spec: &RunSpec| match self.group_of_test[spec.test] {
                Some(group) => running[group] < self.limits[group],
                None => true,
            };
            if let Some(at) = pending.iter().position(fits) {
                let spec = pending.remove(at).expect("found at this position");
                if let Some(group) = self.group_of_test[spec.test] {
                    running[group] += 1;
                }
                return Some(spec);
            }
            self.changed.wait(&mut state);
        }
    }

    /// Marks `spec` finished, freeing its group's place.
    pub fn done(&self, spec: &RunSpec) {
        let mut state = self.state.lock();
        if let Some(group) = self.group_of_test[spec.test] {
            state.running[group] -= 1;
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Wakes every waiting worker (after `stop` was set).
    pub fn wake_all(&self) {
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    fn spec(test: usize, id: usize) -> RunSpec {
        RunSpec {
            test,
            iteration: 0,
            seed: 0,
            id,
        }
    }

    /// Eight workers, test 0 capped at 2: never more than 2 of its runs at
    /// once, every run done once, and uncapped test 1 is not held back.
    #[test]
    fn a_group_never_exceeds_its_limit() {
        let plan: Vec<RunSpec> = (0..40).map(|i| spec(i % 2, i)).collect();
        let gate = Gate::new(plan, vec![Some(0), None], vec![2]);
        let stop = AtomicBool::new(false);
        let (now, most, done) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let most_uncapped = AtomicUsize::new(0);
        let uncapped_now = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    while let Some(run) = gate.next(&stop) {
                        let counter = if run.test == 0 { &now } else { &uncapped_now };
                        let high = if run.test == 0 { &most } else { &most_uncapped };
                        let running = counter.fetch_add(1, Ordering::SeqCst) + 1;
                        high.fetch_max(running, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        counter.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                        gate.done(&run);
                    }
                });
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 40);
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "{}",
            most.load(Ordering::SeqCst)
        );
        assert!(most_uncapped.load(Ordering::SeqCst) > 2);
    }

    #[test]
    fn stop_ends_waiting_workers() {
        let gate = Gate::new(vec![spec(0, 0), spec(0, 1)], vec![Some(0)], vec![1]);
        let stop = AtomicBool::new(false);
        let first = gate.next(&stop).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| gate.next(&stop));
            std::thread::sleep(Duration::from_millis(20));
            stop.store(true, Ordering::Release);
            gate.wake_all();
            assert!(waiter.join().unwrap().is_none());
        });
        gate.done(&first);
    }
}
