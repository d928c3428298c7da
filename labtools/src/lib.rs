//! labtools: the people-facing tools of the labs, and the library behind them.
//!
//! - `dstest` runs chosen tests many times in parallel and keeps the logs of
//!   failing runs; `dslogs` lays a debug log out one column per peer (both in
//!   `src/bin`, see docs/DEBUGGING.md).
//! - `grade` grades submissions against a course's rubric ([`grade`], see
//!   docs/GRADING.md).
//! - `handout` writes the student handout: this workspace with starter code in
//!   place of the files students write ([`handout`], driven by the manifest in
//!   `handout/manifest.toml`, [`manifest`]).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod grade;
pub mod handout;
pub mod manifest;
pub mod tree;
pub mod xml;
