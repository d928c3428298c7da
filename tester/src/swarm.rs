//! The swarm driver: many seeds of one randomised test, each in a simulated
//! world of its own, with the configuration each seed drew printed in a form
//! that can be given back (`SWARM_CONFIG`) and shrunk (`dstest --sim`).
//!
//! A swarm test is a function that draws a configuration from a [`Draw`] and
//! a body that runs one seed of it. [`run`] runs the seeds and fails listing
//! every failing seed with its configuration and the command that replays it.
//!
//! Which seeds run:
//! - `SWARM_SEED=S` (and `SWARM_SEEDS=N`, default 20): seeds `S..S+N`;
//! - else `LAB_SEED=S`: that one seed (so `LAB_SEED=S cargo test … -- --exact
//!   swarm_x` replays it, as for every other test; `SWARM_SEEDS=N` for more);
//! - else 20 seeds from a fresh random start.
//!
//! `SWARM_FAIL_FAST=1` stops at the first failing seed (the mutation check
//! counts how many seeds a planted bug survives).
//!
//! `SWARM_CONFIG="peers=3 crashes=off"` overrides what the seeds draw, knob by
//! knob. On a failure the driver prints, besides the replay command, the
//! configuration (`  ... swarm config: …`) and the one-knob simplifications
//! of it (`  ... swarm simpler: a | b | …`), which `dstest --sim` tries in turn
//! to find the smallest configuration that still fails.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::ops::Range;

use labrt::time::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Seeds run when neither `SWARM_SEEDS` nor a single `LAB_SEED` says.
pub const DEFAULT_SEEDS: u64 = 20;

/// The variable naming the first seed.
pub const SEED_VAR: &str = "SWARM_SEED";
/// The variable naming how many seeds run.
pub const SEEDS_VAR: &str = "SWARM_SEEDS";
/// The variable overriding drawn knobs.
pub const CONFIG_VAR: &str = "SWARM_CONFIG";
/// Set (to anything but `0`), the swarm stops at its first failing seed.
pub const FAIL_FAST_VAR: &str = "SWARM_FAIL_FAST";

/// One knob's value, as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    Flag(bool),
    Count(u64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Flag(true) => f.write_str("on"),
            Value::Flag(false) => f.write_str("off"),
            Value::Count(n) => write!(f, "{n}"),
        }
    }
}

/// A seed's configuration: knob names and values, in the order drawn, with
/// the simpler value each could take.
#[derive(Clone, Debug, Default)]
pub struct Config {
    knobs: Vec<(&'static str, Value)>,
    simpler: Vec<(&'static str, Value)>,
}

impl Config {
    /// The one-knob simplifications, each as `name=value`.
    pub fn simpler(&self) -> Vec<String> {
        self.simpler
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect()
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.knobs.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

/// Draws one seed's knobs from its own generator (independent of the run's),
/// applying `SWARM_CONFIG`'s overrides. Every knob is drawn whether or not it
/// is overridden, so overriding one leaves the others as the seed drew them.
pub struct Draw {
    rng: StdRng,
    overrides: BTreeMap<String, String>,
    used: Vec<String>,
    config: Config,
    error: Option<String>,
}

impl Draw {
    /// The draw for `seed` with `overrides` (`name=value` words).
    pub fn new(seed: u64, overrides: &str) -> Result<Draw, String> {
        Ok(Draw {
            rng: StdRng::seed_from_u64(seed ^ 0x5_3a7a_c0f1),
            overrides: parse_overrides(overrides)?,
            used: Vec::new(),
            config: Config::default(),
            error: None,
        })
    }

    fn overridden(&mut self, name: &'static str) -> Option<String> {
        let value = self.overrides.get(name).cloned()?;
        self.used.push(name.to_string());
        Some(value)
    }

    fn fail(&mut self, message: String) {
        self.error.get_or_insert(message);
    }

    /// `drawn`, or the override of knob `name` if it parses as a number that
    /// `valid` accepts (else an error saying `expected`).
    fn count(
        &mut self,
        name: &'static str,
        drawn: u64,
        valid: impl Fn(u64) -> bool,
        expected: &str,
    ) -> u64 {
        let mut value = drawn;
        if let Some(text) = self.overridden(name) {
            match text.parse::<u64>() {
                Ok(n) if valid(n) => value = n,
                _ => self.fail(format!("{CONFIG_VAR}: {name}={text}: expected {expected}")),
            }
        }
        self.config.knobs.push((name, Value::Count(value)));
        value
    }

    /// A fault or feature that is on with probability `p`; off is simpler.
    pub fn flag(&mut self, name: &'static str, p: f64) -> bool {
        let mut on = self.rng.random_bool(p);
        if let Some(text) = self.overridden(name) {
            match text.as_str() {
                "on" | "1" | "true" => on = true,
                "off" | "0" | "false" => on = false,
                _ => self.fail(format!("{CONFIG_VAR}: {name}={text}: expected on or off")),
            }
        }
        self.config.knobs.push((name, Value::Flag(on)));
        if on {
            self.config.simpler.push((name, Value::Flag(false)));
        }
        on
    }

    /// One of `choices`, drawn evenly (repeat a choice to weight it); the
    /// smaller choices are simpler. An override must be one of them.
    pub fn choice(&mut self, name: &'static str, choices: &[u64]) -> u64 {
        let drawn = choices[self.rng.random_range(0..choices.len())];
        let value = self.count(
            name,
            drawn,
            |n| choices.contains(&n),
            &format!("one of {choices:?}"),
        );
        let mut smaller: Vec<u64> = choices.iter().copied().filter(|&c| c < value).collect();
        smaller.sort_unstable();
        smaller.dedup();
        if let Some(&next) = smaller.last() {
            self.config.simpler.push((name, Value::Count(next)));
        }
        value
    }

    /// A number in `range`, none simpler than another.
    pub fn number(&mut self, name: &'static str, range: Range<u64>) -> u64 {
        let drawn = self.rng.random_range(range.clone());
        self.count(
            name,
            drawn,
            |n| range.contains(&n),
            &format!("a number in {range:?}"),
        )
    }

    /// A length of `default` units unless overridden (not drawn); half of it,
    /// down to `min`, is simpler.
    pub fn length(&mut self, name: &'static str, default: u64, min: u64) -> u64 {
        let value = self.count(
            name,
            default,
            |n| n >= min,
            &format!("a number of at least {min}"),
        );
        if value / 2 >= min {
            self.config.simpler.push((name, Value::Count(value / 2)));
        }
        value
    }

    /// The configuration drawn, or the first error in the overrides (an
    /// unknown knob included).
    pub fn finish(mut self) -> Result<Config, String> {
        let unknown: Vec<&String> = self
            .overrides
            .keys()
            .filter(|k| !self.used.contains(k))
            .collect();
        if let Some(name) = unknown.first() {
            let known: Vec<&str> = self.config.knobs.iter().map(|(n, _)| *n).collect();
            self.fail(format!(
                "{CONFIG_VAR}: unknown knob {name:?} (this swarm's knobs: {})",
                known.join(", ")
            ));
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.config),
        }
    }
}

fn parse_overrides(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for word in text.split([' ', ',']).filter(|w| !w.is_empty()) {
        let Some((name, value)) = word.split_once('=') else {
            return Err(format!(
                "{CONFIG_VAR}: {word:?} is not name=value (e.g. \"peers=3 crashes=off\")"
            ));
        };
        map.insert(name.to_string(), value.to_string());
    }
    Ok(map)
}

/// Where a swarm test lives, for its replay command.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The package (`raft`).
    pub package: &'static str,
    /// The test binary (`swarm_test`).
    pub binary: &'static str,
    /// The test function (`swarm_raft`).
    pub test: &'static str,
}

impl Spec {
    /// The command that replays `seed` with `overrides`.
    pub fn replay(&self, seed: u64, overrides: &str) -> String {
        let config = if overrides.trim().is_empty() {
            String::new()
        } else {
            format!("{CONFIG_VAR}='{}' ", overrides.trim())
        };
        format!(
            "LAB_SEED={seed} {config}cargo test -p {} --test {} -- --exact {}",
            self.package, self.binary, self.test
        )
    }
}

fn env_u64(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be an unsigned integer, got {v:?}")),
    }
}

/// The seeds to run, from the environment (see the module's text).
pub fn seeds() -> Result<(u64, u64), String> {
    let count = env_u64(SEEDS_VAR)?;
    if let Some(first) = env_u64(SEED_VAR)? {
        return Ok((first, count.unwrap_or(DEFAULT_SEEDS)));
    }
    if let Some(first) = env_u64(labrpc::rng::SEED_VAR)? {
        return Ok((first, count.unwrap_or(1)));
    }
    Ok((labrt::rand::random_u64(), count.unwrap_or(DEFAULT_SEEDS)))
}

/// What [`run`] measured.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// Wall time of them all.
    pub wall: std::time::Duration,
    /// Virtual time of them all.
    pub virtual_time: Duration,
}

/// Runs the swarm's seeds (see the module's text): each draws its
/// configuration with `draw` and runs `body(seed, &config)` as thread 0 of a
/// world of its own. Panics, after all seeds ran, listing each failing seed
/// with its configuration, its simplifications and its replay command.
pub fn run<C: Clone + fmt::Display + Send + 'static>(
    spec: Spec,
    draw: fn(&mut Draw) -> C,
    body: fn(u64, &C),
) -> Summary {
    run_with(spec, "", draw, body)
}

/// [`run`] with `fixed` knobs (`name=value` words) under the user's
/// `SWARM_CONFIG`: one swarm, several tests, each a subset of its faults (a
/// lab part's). The replay command needs only the user's overrides: the test
/// names the fixed ones.
pub fn run_with<C: Clone + fmt::Display + Send + 'static>(
    spec: Spec,
    fixed: &str,
    draw: fn(&mut Draw) -> C,
    body: fn(u64, &C),
) -> Summary {
    let (first, count) = seeds().unwrap_or_else(|e| panic!("{e}"));
    let overrides = std::env::var(CONFIG_VAR).unwrap_or_default();
    let all_overrides = format!("{fixed} {overrides}");
    let fail_fast = std::env::var(FAIL_FAST_VAR).is_ok_and(|v| v.trim() != "0");
    // Outside the worlds: the swarm's own wall time, with std's clock.
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    let wall = std::time::Instant::now();
    let mut virtual_time = Duration::ZERO;
    let mut failures = Vec::new();
    let mut ran = 0;
    for k in 0..count {
        if fail_fast && !failures.is_empty() {
            break;
        }
        ran += 1;
        let seed = first.wrapping_add(k);
        let mut drawing = Draw::new(seed, &all_overrides).unwrap_or_else(|e| panic!("{e}"));
        let config = draw(&mut drawing);
        let knobs = drawing.finish().unwrap_or_else(|e| panic!("{e}"));
        let for_body = config.clone();
        let (result, trace) = labrt::sim::run(seed, spec.test, move || body(seed, &for_body));
        virtual_time += trace.elapsed;
        if let Err(payload) = result {
            let message = crate::failure::payload_text(&*payload);
            let simpler = knobs.simpler();
            let mut text = format!("seed {seed} ({config}): {message}\n");
            let _ = writeln!(text, "  ... swarm config: {knobs}");
            let _ = writeln!(text, "  ... swarm simpler: {}", simpler.join(" | "));
            let _ = write!(text, "  replay: {}", spec.replay(seed, &overrides));
            println!("{text}");
            failures.push(text);
        }
    }
    let wall = wall.elapsed();
    println!(
        "  ... swarm: {ran} seeds from {first} in {:.1} s wall ({:.0} a minute), {:.0} s virtual, \
         {} failed",
        wall.as_secs_f64(),
        ran as f64 * 60.0 / wall.as_secs_f64().max(1e-9),
        virtual_time.as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} swarm seeds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Summary {
        seeds: ran,
        failed: failures.len() as u64,
        wall,
        virtual_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(d: &mut Draw) -> (bool, u64, u64, u64) {
        (
            d.flag("crashes", 0.5),
            d.choice("peers", &[3, 3, 5, 7]),
            d.number("step", 20..400),
            d.length("secs", 10, 1),
        )
    }

    #[test]
    fn one_seed_draws_one_config() {
        let a = sample(&mut Draw::new(9, "").unwrap());
        let b = sample(&mut Draw::new(9, "").unwrap());
        assert_eq!(a, b);
        let differs = (10..40).any(|s| sample(&mut Draw::new(s, "").unwrap()) != a);
        assert!(differs, "other seeds draw other configurations");
    }

    #[test]
    fn overrides_replace_one_knob_and_keep_the_rest() {
        for seed in 0..20 {
            let drawn = sample(&mut Draw::new(seed, "").unwrap());
            let mut d = Draw::new(seed, "peers=3, secs=2").unwrap();
            let over = sample(&mut d);
            assert_eq!((over.0, over.1, over.2, over.3), (drawn.0, 3, drawn.2, 2));
            let config = d.finish().unwrap();
            assert!(config.to_string().contains("peers=3"), "{config}");
            assert!(config.to_string().contains("secs=2"), "{config}");
        }
    }

    #[test]
    fn later_overrides_win() {
        // run_with puts a test's fixed knobs before the user's.
        let mut d = Draw::new(3, "crashes=off peers=3 crashes=on").unwrap();
        let (crashes, peers, _, _) = sample(&mut d);
        assert!(crashes);
        assert_eq!(peers, 3);
    }

    #[test]
    fn simpler_lists_one_knob_moves() {
        let mut d = Draw::new(1, "crashes=on peers=7 secs=10").unwrap();
        sample(&mut d);
        let config = d.finish().unwrap();
        assert_eq!(config.simpler(), ["crashes=off", "peers=5", "secs=5"]);
        let mut d = Draw::new(1, "crashes=off peers=3 secs=1").unwrap();
        sample(&mut d);
        assert!(d.finish().unwrap().simpler().is_empty());
    }

    #[test]
    fn bad_overrides_are_named() {
        let err = Draw::new(1, "peers").err().unwrap();
        assert!(err.contains("not name=value"), "{err}");
        for (text, expect) in [
            ("peers=4", "expected one of [3, 3, 5, 7]"),
            ("crashes=maybe", "expected on or off"),
            ("step=1000", "expected a number in 20..400"),
            ("secs=0", "at least 1"),
            ("color=red", "unknown knob \"color\""),
        ] {
            let mut d = Draw::new(1, text).unwrap();
            sample(&mut d);
            let err = d
                .finish()
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"));
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    #[test]
    fn replay_names_the_seed_and_the_overrides() {
        let spec = Spec {
            package: "raft",
            binary: "swarm_test",
            test: "swarm_raft",
        };
        assert_eq!(
            spec.replay(5, ""),
            "LAB_SEED=5 cargo test -p raft --test swarm_test -- --exact swarm_raft"
        );
        assert_eq!(
            spec.replay(5, "peers=3"),
            "LAB_SEED=5 SWARM_CONFIG='peers=3' cargo test -p raft --test swarm_test -- --exact \
             swarm_raft"
        );
    }
}
