//! labrpc: the labs' simulated network, and their simulated stable storage.
//!
//! Nothing goes over a socket. A [`ClientEnd`] hands an encoded request to the
//! [`Network`], which decides from its fault settings whether, when and how
//! the request reaches the [`Server`] the end is wired to, and whether the
//! reply comes back. The rules and every number are those of the course's Go
//! labrpc (see [`constants`]); where Go polls (every 100 ms, for a server that
//! died while its handler ran), this port is told at once.
//!
//! ```
//! use labrpc::{Network, Server, Service};
//!
//! let net = Network::new();
//! let mut server = Server::new();
//! server.add_service(
//!     Service::new("Greeter").handler("Hello", |name: String| format!("hello, {name}")),
//! );
//! net.add_server("server-0", server);
//! let end = net.make_end("end-0");
//! net.connect("end-0", "server-0");
//! net.enable("end-0", true);
//!
//! let reply: String = end.call("Greeter.Hello", &"raft".to_string()).unwrap();
//! assert_eq!(reply, "hello, raft");
//! assert_eq!(net.count("server-0"), 1);
//! net.cleanup();
//! ```
//!
//! Every random choice comes from [`rng`], which `LAB_SEED` fixes.
#![deny(missing_docs)]

pub mod constants;
mod error;
mod intercept;
pub mod lockcheck;
mod network;
mod oneshot;
mod persister;
mod pool;
pub mod rng;
mod service;

pub use error::CallError;
pub use intercept::{CallInfo, Gate, Interceptor, Verdict};
pub use network::{ClientEnd, DelayStats, FaultStats, Network};
pub use persister::Persister;
pub use service::{Server, Service};
