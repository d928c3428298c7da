//! The harness of the classic (2022) kvraft suite: Go's `kvraft/config.go`
//! and the helpers of `kvraft/test_test.go`, on top of the tester crate.

#![allow(dead_code)]

pub mod appends;
pub mod config;
pub mod generic;
pub mod history;

#[allow(unused_imports)]
pub use config::ClassicConfig;
