//! Raft consensus for the 6.5840 labs: leader election (3A), log replication
//! (3B), persistence (3C) and log compaction with snapshots (3D).
//!
//! # What is yours and what is given
//!
//! The whole of `raft/src/` is yours except three given files, which the tests
//! and the services above Raft (rsm, kvraft) depend on; do not change them:
//!
//! - `apply.rs`: [`ApplyMsg`], what Raft hands the service on the apply channel;
//! - `command.rs`: [`Command`], the bound on what Raft replicates;
//! - `error.rs`: [`RaftError`], why [`Raft::new`] can fail.
//!
//! Write your peer in `raft.rs`: it starts with the public API the tests call,
//! each method documented with its contract, and two worked examples (the
//! RequestVote RPC, and persisting with labgob). Keep the public API as it is;
//! everything behind it is up to you. Add modules as you like (declare them
//! below), e.g. one for the log, one for elections, one for replication.
//!
//! # Hints
//!
//! - Follow Figure 2 of the extended Raft paper closely.
//! - The tests allow at most about ten heartbeats per second per follower and
//!   look for a new leader for about five seconds after a failure: randomized
//!   election timeouts of a few hundred milliseconds, well above the heartbeat
//!   interval, fit both.
//! - Draw random numbers from [`labrpc::rng`] (e.g. `labrpc::rng::child()`
//!   for a per-thread generator, or `labrt::rand::random_range`), so that a
//!   test's seed reproduces its choices.
//! - Never hold a lock while you wait for an RPC reply or for the apply channel
//!   to take a message: another peer's handler or the service may need it.
//!   The starter's locks are `labrpc::lockcheck::Mutex`: run the tests with
//!   `LAB_LOCKCHECK=1` and every RPC sent while holding one is reported, with
//!   where the lock was taken; `--features tester/deadlock` catches two locks
//!   taken in opposite orders.
//! - Threads, locks, channels, time and sleeps come from `labrt`, the lab
//!   runtime: `labrt::thread::spawn`, `labrt::sync::{Mutex, Condvar}`,
//!   `labrt::channel` with `labrt::select!`, `labrt::time::Instant`,
//!   `labrt::thread::sleep` (crossbeam's and parking_lot's APIs). With
//!   `LAB_SIM=1` the tests run simulated: one seed replays a run exactly, in
//!   virtual time. `log` (debug logging) is a dependency already.
//! - Run the tests with `cargo test -p raft 3a` (or `3b`, `3c`, `3d`: the
//!   test names end in the part).

mod apply;
mod command;
mod error;
mod raft;

pub use apply::ApplyMsg;
pub use command::Command;
pub use error::RaftError;
pub use raft::Raft;
