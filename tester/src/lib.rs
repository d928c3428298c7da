//! tester: the labs' test harness (the course's `tester1`), and tools for
//! students and graders.
//!
//! A test makes a [`Config`] with `n` servers built by the lab's factory; the
//! Config starts and connects them, and the test then crashes, restarts,
//! partitions and reconnects them through [`Config::group`], makes clients
//! with [`Config::make_client`], and brackets its work with
//! [`Config::begin`] and [`Config::end`], which print the course's lines:
//!
//! ```text
//! Test (3A): initial election (reliable network)...
//!   ... Passed --  time  3.1s #peers 3 #RPCs    56 #Ops    0
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use tester::{Config, TestServer};
//!
//! struct Counter;
//! impl TestServer for Counter {
//!     fn services(&self) -> Vec<labrpc::Service> {
//!         vec![labrpc::Service::new("Counter").handler("Next", |n: u64| n + 1)]
//!     }
//!     fn kill(&self) {}
//! }
//!
//! let cfg = Config::new(3, true, Arc::new(|_ends, _gid, _i, _persister| Arc::new(Counter)));
//! cfg.begin("Test: counting");
//! let client = cfg.make_client();
//! let next: u64 = client.call(&cfg.group().srv_name(0), "Counter.Next", &41u64).unwrap();
//! assert_eq!(next, 42);
//! cfg.group().shutdown_server(0);
//! assert!(client.call::<u64, u64>(&cfg.group().srv_name(0), "Counter.Next", &1).is_err());
//! cfg.end();
//! ```
//!
//! Every random choice (network faults, names, values) comes from one
//! generator seeded per test from `LAB_SEED` (or at random); a failing test
//! prints `seed: N (replay this test with LAB_SEED=N)`. A panic on any thread
//! of the test fails the test ([`FailureHandle`]), and a watchdog ends a test
//! still running past 120 seconds after dumping the group's state.
#![deny(missing_docs)]

pub mod annotate;
mod clnts;
mod config;
pub mod deadlock;
mod failure;
mod group;
pub mod logging;
mod names;
mod server;
pub mod swarm;
mod threads;

pub use clnts::Clnt;
pub use config::{Config, TEST_TIME_LIMIT, WATCHDOG_VAR};
pub use failure::{FailureHandle, current_failure, real_time_check, replay_line, seed_line};
pub use group::Group;
pub use labrpc::Persister;
pub use names::{randstring, server_name};
pub use server::{GRP0, Gid, MakeServer, TestServer};
