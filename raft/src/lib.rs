//! Raft consensus for the 6.5840 labs: leader election, log replication,
//! persistence and snapshots.
//!
//! A three-peer cluster on a labrpc network agrees on a command:
//!
//! ```
//! use labrt::channel;
//! use raft::{ApplyMsg, Raft};
//!
//! let net = labrpc::Network::new();
//! let mut peers = Vec::new();
//! let mut applied = Vec::new();
//! for i in 0..3 {
//!     let ends = (0..3)
//!         .map(|j| {
//!             let name = format!("{i}->{j}");
//!             let end = net.make_end(&name);
//!             net.connect(&name, &format!("peer-{j}"));
//!             net.enable(&name, true);
//!             end
//!         })
//!         .collect();
//!     let (apply_tx, apply_rx) = channel::unbounded();
//!     let raft = Raft::<String>::new(ends, i, labrpc::Persister::new(), apply_tx).unwrap();
//!     let mut server = labrpc::Server::new();
//!     server.add_service(raft.service());
//!     net.add_server(&format!("peer-{i}"), server);
//!     peers.push(raft);
//!     applied.push(apply_rx);
//! }
//!
//! // Offer the command until a leader takes it (an election takes a moment).
//! let (index, _term) = loop {
//!     if let Some(accepted) = peers.iter().find_map(|p| p.start("hello".to_string())) {
//!         break accepted;
//!     }
//!     labrt::thread::sleep(std::time::Duration::from_millis(50));
//! };
//! for rx in &applied {
//!     match rx.recv().unwrap() {
//!         ApplyMsg::Command { index: i, command, .. } => {
//!             assert_eq!((i, command.as_str()), (index, "hello"));
//!         }
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! for p in &peers {
//!     p.kill(); // closes its apply channel
//! }
//! net.cleanup();
//! ```
//!
//! The rules of Raft live in a pure core (no threads, no clock, no network) that
//! turns events into actions; a thin thread layer feeds it RPCs, timer expiries
//! and proposals, and carries out what it asks (persist, send, apply). Each
//! peer runs a timer thread (elections, heartbeats), an applier thread (the
//! only sender on the apply channel, never holding the core lock while it
//! waits), and, per other peer, a link whose worker threads make the blocking
//! RPCs and feed the outcomes back. The core sits behind one lock that no
//! thread holds across an RPC or a channel send; `start` appends and hands the
//! request to the links at once, without a round trip through another thread.
//!
//! Time constants: heartbeats every 100 ms per follower (at most ten per
//! second), election timeouts drawn from 300–600 ms, at most 512 entries per
//! AppendEntries. While a request carrying entries is out to a follower, new
//! entries wait and leave together when it returns (batching); a rejected
//! AppendEntries names the conflicting term and its first index, so the leader
//! backs up a term per round trip.
//!
//! Logging: `log` targets `raft::election`, `raft::append`, `raft::commit`,
//! `raft::apply`, `raft::snapshot`, `raft::persist`; every line starts with
//! `S<peer> T<term>`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod command;
mod core;
mod error;
mod link;
mod log;
mod messages;
mod node;
mod persist;
mod types;

pub use apply::ApplyMsg;
pub use command::Command;
pub use error::RaftError;
pub use node::Raft;
