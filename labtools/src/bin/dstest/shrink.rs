//! Shrinking a failing swarm run: the smallest configuration that still fails.
//!
//! A swarm test (`tester::swarm`) prints, when a seed fails, the configuration
//! it drew (`  ... swarm config: peers=5 crashes=on …`) and each one-knob
//! simplification of it (`  ... swarm simpler: peers=3 | crashes=off | …`).
//! Shrinking takes the first simplification that still fails on one of a few
//! seeds (the failing one first: another configuration draws another run, so
//! the same seed is no promise), adopts it, and starts again from the new
//! run's simplifications, until none fails or the run budget is spent.

use std::path::Path;

use crate::run::{RunResult, RunSettings, RunSpec, run_one};
use crate::select::Test;

/// The prefix of the configuration line.
const CONFIG_LINE: &str = "  ... swarm config: ";
/// The prefix of the simplifications line.
const SIMPLER_LINE: &str = "  ... swarm simpler: ";
/// Seeds tried per candidate: the current failing seed and the next ones.
const SEEDS_PER_CANDIDATE: u64 = 3;

/// What shrinking found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shrunk {
    /// The configuration the failing run drew.
    pub from: String,
    /// The smallest failing configuration found.
    pub to: String,
    /// The seed that fails with it.
    pub seed: u64,
    /// The overrides that give it (`SWARM_CONFIG`).
    pub overrides: String,
    /// Runs spent.
    pub runs: u32,
}

/// The swarm lines of a run's output: its configuration and simplifications
/// (found anywhere in a line: libtest's `test x ... ` may precede them).
pub fn swarm_lines(output: &str) -> Option<(String, Vec<String>)> {
    let config = output
        .lines()
        .find_map(|l| l.split_once(CONFIG_LINE).map(|(_, rest)| rest))?
        .trim()
        .to_string();
    let simpler = output
        .lines()
        .find_map(|l| l.split_once(SIMPLER_LINE).map(|(_, rest)| rest))
        .map(|l| {
            l.split('|')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Some((config, simpler))
}

/// `overrides` with `change` (`name=value`) put in, replacing that knob.
pub fn merge(overrides: &str, change: &str) -> String {
    let name = change.split('=').next().unwrap_or_default();
    let mut words: Vec<&str> = overrides
        .split_whitespace()
        .filter(|w| w.split('=').next() != Some(name))
        .collect();
    words.push(change);
    words.join(" ")
}

fn output_of(result: &RunResult) -> Option<String> {
    let dir = result.kept.as_deref()?;
    std::fs::read_to_string(Path::new(dir).join("output.log")).ok()
}

/// Shrinks the failing run `failed` of `test` (None if its output has no
/// swarm configuration). Runs go through `run_one` with `settings`, their
/// failures kept under `settings.failures`.
pub fn shrink(
    test: &Test,
    failed: &RunResult,
    settings: &RunSettings,
    budget: u32,
    first_id: usize,
) -> Option<Shrunk> {
    let (from, mut simpler) = swarm_lines(&output_of(failed)?)?;
    let mut found = Shrunk {
        from: from.clone(),
        to: from,
        seed: failed.seed,
        overrides: settings.swarm_config.clone().unwrap_or_default(),
        runs: 0,
    };
    'search: loop {
        for candidate in simpler.clone() {
            let overrides = merge(&found.overrides, &candidate);
            for k in 0..SEEDS_PER_CANDIDATE {
                if found.runs >= budget {
                    break 'search;
                }
                let seed = found.seed.wrapping_add(k);
                let mut tried = settings.clone();
                tried.swarm_config = Some(overrides.clone());
                let spec = RunSpec {
                    test: failed.test,
                    iteration: found.runs,
                    seed,
                    id: first_id + found.runs as usize,
                };
                let result = run_one(test, &spec, &tried);
                found.runs += 1;
                if !result.outcome.is_failure() {
                    continue;
                }
                let Some((config, next)) = output_of(&result).as_deref().and_then(swarm_lines)
                else {
                    // Failed without a swarm failure (timed out, crashed):
                    // not the same failure; try on.
                    continue;
                };
                found.to = config;
                found.seed = seed;
                found.overrides = overrides;
                simpler = next;
                continue 'search;
            }
        }
        break;
    }
    Some(found)
}

/// The replay command of a shrunk failure: `replay` (for `LAB_SEED=<seed>`)
/// with the seed and the overrides put in.
pub fn replay(replay: &str, old_seed: u64, shrunk: &Shrunk) -> String {
    replay.replacen(
        &format!("LAB_SEED={old_seed}"),
        &format!(
            "LAB_SEED={} SWARM_CONFIG='{}'",
            shrunk.seed, shrunk.overrides
        ),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_lines_are_read() {
        let out = "Test: x\n  ... swarm config: peers=5 crashes=on secs=10\n  ... swarm simpler: \
                   peers=3 | crashes=off | secs=5\n";
        let (config, simpler) = swarm_lines(out).unwrap();
        assert_eq!(config, "peers=5 crashes=on secs=10");
        assert_eq!(simpler, ["peers=3", "crashes=off", "secs=5"]);
        assert!(swarm_lines("no swarm here").is_none());
        let (_, none) =
            swarm_lines("  ... swarm config: peers=3\n  ... swarm simpler: \n").unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn merge_replaces_a_knob() {
        assert_eq!(merge("", "peers=3"), "peers=3");
        assert_eq!(
            merge("peers=5 crashes=off", "peers=3"),
            "crashes=off peers=3"
        );
        assert_eq!(merge("peers=3", "secs=5"), "peers=3 secs=5");
    }

    #[test]
    fn replay_gets_the_seed_and_the_overrides() {
        let shrunk = Shrunk {
            from: String::new(),
            to: String::new(),
            seed: 8,
            overrides: "peers=3".into(),
            runs: 4,
        };
        assert_eq!(
            replay(
                "LAB_SIM=1 LAB_SEED=7 cargo test -p raft --test swarm_test -- --exact swarm_raft",
                7,
                &shrunk
            ),
            "LAB_SIM=1 LAB_SEED=8 SWARM_CONFIG='peers=3' cargo test -p raft --test swarm_test -- \
             --exact swarm_raft"
        );
    }
}
