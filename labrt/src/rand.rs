//! The one seedable random generator behind every random choice the labs
//! make (network delays and losses, names, partitions, election timeouts).
//!
//! The seed comes from `LAB_SEED` (an unsigned integer) or, without it, from
//! the operating system. In real mode the generator is one per process and the
//! tester reseeds it at the start of every test; threads still interleave as
//! the OS pleases, so a seed reproduces the faults and inputs, not the order of
//! events. In simulation mode every world has its own generator, seeded with
//! the world's seed, and the seed reproduces the run exactly.

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

pub use rand::distr::uniform::SampleRange;
pub use rand::distr::uniform::SampleUniform;

/// The name of the environment variable that fixes the seed.
pub const SEED_VAR: &str = "LAB_SEED";

static GLOBAL: Mutex<Option<(u64, StdRng)>> = Mutex::new(None);

/// The seed named by `LAB_SEED`, or a fresh random one when it is unset.
///
/// # Panics
/// If `LAB_SEED` is set but is not an unsigned integer: a clear message beats
/// silently running with some other seed.
pub fn seed_from_env() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            panic!("{SEED_VAR} must be an unsigned 64-bit integer, got {text:?}")
        }),
        Err(_) => rand::rng().next_u64(),
    }
}

fn with_state<R>(f: impl FnOnce(&mut (u64, StdRng)) -> R) -> R {
    if crate::simulated() {
        let ctx = crate::sim::ctx();
        let mut program = ctx.world.program.lock();
        return f(&mut program);
    }
    let mut guard = GLOBAL.lock();
    let state = guard.get_or_insert_with(|| {
        let seed = seed_from_env();
        (seed, StdRng::seed_from_u64(seed))
    });
    f(state)
}

/// The seed the generator was last seeded with (in simulation mode, the
/// world's seed until the program reseeds).
pub fn seed() -> u64 {
    with_state(|s| s.0)
}

/// The seed a test should run with: in simulation mode the seed of the
/// calling thread's world (so that it replays the whole run), in real mode
/// [`seed_from_env`].
pub fn test_seed() -> u64 {
    if crate::simulated() {
        crate::sim::ctx().world.seed()
    } else {
        seed_from_env()
    }
}

/// Restarts the generator from `seed`.
pub fn reseed(seed: u64) {
    with_state(|s| *s = (seed, StdRng::seed_from_u64(seed)));
}

/// A new generator whose seed is drawn from this one: deterministic for a
/// given seed and order of calls.
pub fn child() -> StdRng {
    with_state(|s| StdRng::seed_from_u64(s.1.next_u64()))
}

/// Runs `f` with the generator.
pub fn with<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    with_state(|s| f(&mut s.1))
}

/// A value drawn uniformly from `range` (`rand::random_range`'s shape).
pub fn random_range<T: SampleUniform, R: SampleRange<T>>(range: R) -> T {
    with(|rng| rng.random_range(range))
}

/// True with probability `p` (`rand::random_bool`'s shape).
pub fn random_bool(p: f64) -> bool {
    with(|rng| rng.random_bool(p))
}

/// A random 64-bit value.
pub fn random_u64() -> u64 {
    with(|rng| rng.next_u64())
}
