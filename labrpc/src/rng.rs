//! The one seedable random generator behind every random choice that the
//! network and the tester make (delays, losses, names, partitions): the lab
//! runtime's ([`labrt::rand`]), re-exported where the labs always found it.
//!
//! The seed comes from the environment variable `LAB_SEED` (an unsigned
//! integer) or, without it, from the operating system; the tester reseeds at
//! the start of every test and prints the seed when a test fails. In real mode
//! threads make the interleaving nondeterministic, so a seed reproduces the
//! fault schedule and the inputs a test draws, not the exact order of events;
//! in simulation mode (`LAB_SIM=1`) it reproduces the run exactly.

pub use labrt::rand::{SEED_VAR, child, reseed, seed, seed_from_env, test_seed, with};
