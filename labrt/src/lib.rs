//! # labrt: the lab runtime
//!
//! Every crate of the labs, every test and the starter code take their
//! threads, locks, channels, time and randomness from here instead of `std`,
//! crossbeam, parking_lot and rand directly:
//!
//! | instead of | use |
//! |---|---|
//! | `std::thread::spawn`, `Builder`, `scope`, `sleep` | [`thread::spawn`], [`thread::Builder`], [`thread::scope`], [`thread::sleep`] |
//! | `std::time::Instant` | [`time::Instant`] |
//! | `parking_lot::{Mutex, RwLock, Condvar}` | [`sync::Mutex`], [`sync::RwLock`], [`sync::Condvar`] |
//! | `crossbeam::channel::{bounded, unbounded, after, at, tick, never, select!}` | [`channel`], [`select!`] |
//! | `rand::random_range`, `rand::rng()` | [`rand::random_range`], [`rand::with`] |
//!
//! ## Two modes, chosen at run time
//! - **Real** (the default): the types are parking_lot's, crossbeam's and
//!   std's, at the cost of one predictable branch per operation. Timing is the
//!   Go course's.
//! - **Simulated** (`LAB_SIM=1`, no rebuild): a test's threads are still OS
//!   threads, but they run one at a time, and at every operation of this crate
//!   a scheduler seeded by `LAB_SEED` picks which thread runs next. Time is
//!   virtual: it stands still while any thread can run and jumps to the next
//!   deadline when all are blocked, so sleeps, timeouts and the network's
//!   delays cost no wall time. One seed fixes the whole run: the same seed
//!   gives the same [`sim::trace`] digest, the same log lines and the same
//!   verdict. Every thread blocked with no timer pending is reported at once
//!   as a deadlock (each thread's name and where it waits), and a thread that
//!   spins without ever blocking as a livelock (with its backtrace).
//!
//! Simulation does not model CPU time: code between two operations of this
//! crate takes no virtual time, so limits on how much CPU a peer uses are
//! checked in real mode only.

// This crate is the facade the workspace's clippy.toml points everyone else
// to: it alone builds on std's, parking_lot's and crossbeam's primitives.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod channel;
mod mode;
pub mod rand;
mod select_macro;
pub mod sim;
pub mod sync;
pub mod thread;
pub mod time;

pub use mode::{SIM_VAR, simulated};
