//! rsm: a replicated state machine over Raft.
//!
//! A service (the KV server, the rsm tests' counter) implements [`StateMachine`]
//! and hands it to [`Rsm::new`]. Every replica applies the committed operations
//! to its own copy in log order; the replica a client talks to calls
//! [`Rsm::submit`], which returns the result of applying that very operation, or
//! [`SubmitError::WrongLeader`] when this replica cannot commit it (it is not the
//! leader, it lost leadership before the operation committed, or it was killed).
//!
//! ```no_run
//! use rsm::{Rsm, StateMachine};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! struct Inc;
//!
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl StateMachine for Counter {
//!     type Op = Inc;
//!     type Output = u64;
//!     fn apply(&mut self, _op: Inc) -> u64 {
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
//! # fn peers() -> Vec<labrpc::ClientEnd> { unimplemented!() }
//! let rsm = Rsm::new(peers(), 0, labrpc::Persister::new(), Some(1000), Counter::default())
//!     .expect("the persisted state decodes");
//! // Register rsm.services() on the network, then:
//! match rsm.submit(Inc) {
//!     Ok(n) => println!("counter is now {n}"),
//!     Err(e) => println!("try another replica: {e}"),
//! }
//! ```
//!
//! Design:
//! - One driver thread per replica reads Raft's apply channel and its leadership
//!   subscription. It applies commands in log order, installs snapshots, takes a
//!   snapshot when the persisted Raft state reaches `maxraftstate`, and completes
//!   the submits waiting on each index.
//! - A submit waits on its own one-shot channel, so it is released by exactly one
//!   of: its entry applied, another entry applied at its index, a term or
//!   leadership change reported by Raft, a snapshot covering its index, or kill.
//!   There is no timeout: a leader cut off from the majority keeps waiting while
//!   it still believes it leads.
//! - Operation ids are `(replica, random incarnation, counter)`, unique across
//!   restarts, so an old entry replayed after a restart never completes a new
//!   submit.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod driver;
mod error;
mod op;
mod pending;
mod replicated;
mod state_machine;

pub use error::{RsmError, SubmitError};
pub use op::{Op, OpId};
pub use replicated::Rsm;
pub use state_machine::StateMachine;
