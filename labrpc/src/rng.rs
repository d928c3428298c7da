//! The one seedable random generator behind every random choice that the
//! network and the tester make (delays, losses, names, partitions).
//!
//! The seed comes from the environment variable `LAB_SEED` (an unsigned
//! integer) or, without it, from the operating system; the tester reseeds at
//! the start of every test and prints the seed when a test fails. Threads make
//! the interleaving of a run nondeterministic, so a seed reproduces the fault
//! schedule and the inputs a test draws, not the exact order of events.

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// The name of the environment variable that fixes the seed.
pub const SEED_VAR: &str = "LAB_SEED";

struct Global {
    seed: u64,
    rng: StdRng,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

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

fn with_global<R>(f: impl FnOnce(&mut Global) -> R) -> R {
    let mut guard = GLOBAL.lock();
    let global = guard.get_or_insert_with(|| {
        let seed = seed_from_env();
        Global {
            seed,
            rng: StdRng::seed_from_u64(seed),
        }
    });
    f(global)
}

/// The seed the generator was last seeded with.
pub fn seed() -> u64 {
    with_global(|g| g.seed)
}

/// Restarts the generator from `seed`.
pub fn reseed(seed: u64) {
    *GLOBAL.lock() = Some(Global {
        seed,
        rng: StdRng::seed_from_u64(seed),
    });
}

/// A new generator whose seed is drawn from the global one: deterministic for
/// a given seed and order of calls.
pub fn child() -> StdRng {
    with_global(|g| StdRng::seed_from_u64(g.rng.next_u64()))
}

/// Runs `f` with the global generator.
pub fn with<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    with_global(|g| f(&mut g.rng))
}
