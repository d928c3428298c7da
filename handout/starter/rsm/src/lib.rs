//! rsm: a replicated state machine over Raft (lab 4A; snapshots in lab 4C).
//!
//! A service (the KV servers of kvraft, the rsm tests' counter) implements
//! [`StateMachine`] and hands it to [`Rsm::new`]. Every replica applies every
//! committed operation to its own copy of the state, in log order. The replica
//! a client talks to calls [`Rsm::submit`], which puts the operation in the
//! Raft log and returns what applying that very operation produced, or
//! [`SubmitError::WrongLeader`] when this replica cannot get it committed.
//!
//! # What is yours and what is given
//!
//! - Given, do not change: `src/state_machine.rs` ([`StateMachine`]) and
//!   `src/error.rs` ([`SubmitError`], [`RsmError`]). The grader uses its own
//!   copies of them.
//! - Yours: everything else under `src/`. Write your code in `src/rsm.rs`,
//!   and add modules of your own under `src/` (declare them below) as you
//!   like.
//! - Keep the public API: the tests and the KV services call [`Rsm::new`],
//!   [`Rsm::submit`], [`Rsm::kill`], [`Rsm::raft`],
//!   [`Rsm::with_state_machine`] and [`Rsm::services`] with exactly these
//!   names and signatures (the type parameter of the [`raft::Raft`] that
//!   [`Rsm::raft`] returns is yours to choose; callers only ask it
//!   `get_state`).
//!
//! # Example
//!
//! ```no_run
//! use rsm::{Rsm, StateMachine};
//!
//! /// A counter: every operation adds one and returns the new total.
//! struct Tally(u64);
//!
//! impl StateMachine for Tally {
//!     type Op = ();
//!     type Output = u64;
//!     fn apply(&mut self, _op: ()) -> u64 {
//!         self.0 += 1;
//!         self.0
//!     }
//!     fn snapshot(&self) -> Vec<u8> {
//!         labgob::encode(&self.0)
//!     }
//!     fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
//!         self.0 = labgob::decode(snapshot)?;
//!         Ok(())
//!     }
//! }
//!
//! # fn ends() -> Vec<labrpc::ClientEnd> { unimplemented!() }
//! let replica = Rsm::new(ends(), 0, labrpc::Persister::new(), None, Tally(0))
//!     .expect("nothing persisted yet, so nothing fails to decode");
//! // Register replica.services() on the network, then:
//! match replica.submit(()) {
//!     Ok(total) => println!("the tally is {total}"),
//!     Err(e) => println!("not the leader ({e}): ask another replica"),
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod rsm;
mod state_machine;

pub use error::{RsmError, SubmitError};
pub use rsm::Rsm;
pub use state_machine::StateMachine;
