//! A linearizability checker: depth-first search over the history (Wing & Gong) with
//! memoisation of (linearized set, model state) (Lowe), split by the model's partition
//! function (P-compositionality), partitions searched in parallel with fair progress.
//! Also: ready-made models, an HTML visualisation, a JSON history format and a CLI.
//!
//! # API for other crates
//!
//! * [`Operation`] `{ client_id, input, call, output, return_time }` — one client
//!   operation with its closed real-time interval (nanoseconds on one clock);
//!   `return_time == `[`NEVER`] marks an operation that never returned.
//! * [`check_operations`]`(&model, &ops, timeout) -> `[`CheckResult`] (`Ok` | `Illegal` |
//!   `Unknown` on timeout) and [`check_operations_verbose`], which also returns a
//!   [`LinearizationInfo`] for the visualisation. `timeout: None` means no limit.
//!   [`check`] with [`CheckOptions`] adds a memory limit (a search past it gives up:
//!   `Unknown`) and reports model step calls and search attempts.
//! * [`visualize_path`]`(&model, &info, &annotations, path)` writes one self-contained
//!   HTML file; [`visualize_annotations_path`] draws annotations alone, and
//!   [`LinearizationInfo::empty`] gives an empty history for any model.
//! * [`Annotation`] — a point or interval on the timeline (faults, checker spans), on a
//!   client's row (`client_id: Some(..)`) or a row of its own named by `tag`.
//! * Models: [`models::kv_versioned`] (2025 labs: Get/Put with versions, `KvErr`),
//!   [`models::kv`] (Put/Append/Get, partitioned [`models::kv::KvModel`] or not),
//!   [`models::etcd`] (compare-and-set register).
//! * [`history`] — read/write the JSON history format (model name, operations,
//!   annotations) that the KV tests export and the `porcupine` CLI checks.
//!
//! # Example
//!
//! ```
//! use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput, KvVersionedModel};
//! use porcupine::{CheckResult, Operation, check_operations};
//! use std::time::Duration;
//!
//! let history = vec![
//!     Operation { client_id: 0, input: KvInput::put("k", "a", 0), call: 0,
//!                 output: KvOutput::put(KvErr::Ok), return_time: 10 },
//!     Operation { client_id: 1, input: KvInput::get("k"), call: 5,
//!                 output: KvOutput::get("a", 1, KvErr::Ok), return_time: 20 },
//! ];
//! let result = check_operations(&KvVersionedModel, &history, Some(Duration::from_secs(1)));
//! assert_eq!(result, CheckResult::Ok);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod annotation;
mod checker;
pub mod formats;
mod hashing;
pub mod history;
mod info;
mod model;
pub mod models;
mod nondeterministic;
mod operation;
mod visualize;

pub use annotation::Annotation;
pub use checker::{
    CheckOptions, CheckOutcome, CheckResult, DEFAULT_MEMORY_LIMIT, check, check_events,
    check_events_verbose, check_operations, check_operations_verbose,
};
pub use info::{LinearizationInfo, PartitionInfo, PartitionVerdict};
pub use model::{CancelToken, Model};
pub use nondeterministic::{NondeterministicModel, PowerSet, StateSet};
pub use operation::{Event, EventError, EventKind, NEVER, Operation, events_to_operations};
pub use visualize::{
    VisualizeLimits, visualize, visualize_annotations, visualize_annotations_path, visualize_path,
    visualize_with_limits,
};
