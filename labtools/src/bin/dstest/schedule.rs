//! The plan of runs (which test, which repetition, which seed) and its
//! execution on the worker pool with the progress bar.

use std::sync::atomic::{AtomicBool, Ordering};

use rand::Rng;

use crate::caps::Caps;
use crate::cli::Args;
use crate::gate::Gate;
use crate::progress::Progress;
use crate::run::{self, Event, RunResult, RunSettings, RunSpec};
use crate::select::Test;

/// Every run, repetition-major so that stopping early still covers every test.
pub fn plan(tests: usize, iterations: u32, fixed_seed: Option<u64>) -> Vec<RunSpec> {
    let mut rng = rand::rng();
    let mut plan = Vec::new();
    for iteration in 0..iterations {
        for test in 0..tests {
            // Below 2^62, like the Go tester's seeds.
            let seed = fixed_seed.unwrap_or_else(|| rng.random_range(0..1u64 << 62));
            plan.push(RunSpec {
                test,
                iteration,
                seed,
                id: plan.len(),
            });
        }
    }
    plan
}

/// Puts each test in its `--caps` group (if any) and builds the gate that
/// keeps every group below its limit.
pub fn gate(tests: &[Test], plan: Vec<RunSpec>, caps: Option<&Caps>) -> Gate {
    let Some(caps) = caps else {
        return Gate::new(plan, vec![None; tests.len()], Vec::new());
    };
    let names: Vec<&String> = caps.limits.keys().collect();
    let limits = caps.limits.values().copied().collect();
    let group_of_test = tests
        .iter()
        .map(|test| {
            caps.group_of(&test.binary)
                .and_then(|group| names.iter().position(|name| *name == group))
        })
        .collect();
    Gate::new(plan, group_of_test, limits)
}

/// Runs the plan with a progress bar; returns the results in finishing order.
pub fn execute(
    args: &Args,
    tests: &[Test],
    plan: Vec<RunSpec>,
    caps: Option<&Caps>,
    settings: &RunSettings,
) -> Vec<RunResult> {
    let mut progress = Progress::new(plan.len() as u64);
    let stop = AtomicBool::new(false);
    let gate = gate(tests, plan, caps);
    let (events_tx, events_rx) = crossbeam::channel::unbounded();
    let mut results = Vec::new();
    std::thread::scope(|scope| {
        let (stop, gate) = (&stop, &gate);
        scope.spawn(move || {
            run::run_all(tests, gate, args.jobs as usize, settings, events_tx, stop)
        });
        for event in events_rx.iter() {
            match event {
                Event::Started(spec) => progress.started(spec.id, tests[spec.test].label()),
                Event::Finished(result) => {
                    let failure = result.outcome.is_failure().then(|| {
                        format!(
                            "FAIL {} (seed {}): {}{}",
                            tests[result.test].label(),
                            result.seed,
                            result.reason.as_deref().unwrap_or("failed"),
                            result
                                .kept
                                .as_ref()
                                .map(|k| format!("; logs in {}", k.display()))
                                .unwrap_or_default()
                        )
                    });
                    if failure.is_some() && args.fail_fast {
                        stop.store(true, Ordering::Release);
                        gate.wake_all();
                    }
                    progress.finished(result.id, failure);
                    results.push(result);
                }
            }
        }
    });
    progress.finish();
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_repetition_major_with_ids_in_order() {
        let plan = plan(2, 3, Some(9));
        let order: Vec<(u32, usize, usize)> =
            plan.iter().map(|s| (s.iteration, s.test, s.id)).collect();
        assert_eq!(
            order,
            [
                (0, 0, 0),
                (0, 1, 1),
                (1, 0, 2),
                (1, 1, 3),
                (2, 0, 4),
                (2, 1, 5)
            ]
        );
        assert!(plan.iter().all(|s| s.seed == 9));
    }

    #[test]
    fn random_seeds_are_below_two_to_the_62() {
        let plan = plan(5, 20, None);
        assert!(plan.iter().all(|s| s.seed < 1 << 62));
        let distinct: std::collections::HashSet<u64> = plan.iter().map(|s| s.seed).collect();
        assert!(distinct.len() > 90, "seeds repeat: {}", distinct.len());
    }
}
