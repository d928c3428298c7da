//! Every number of the simulated network's fault model, in one place
//! (spec/labrpc.md §3). Each is checked by a test in `tests/constants.rs`.

use std::time::Duration;

/// Unreliable mode delays each deliverable request by a whole number of
/// milliseconds drawn uniformly from `0..SHORT_DELAY_MS` (0–26 ms).
pub const SHORT_DELAY_MS: u64 = 27;

/// With long delays on, an undeliverable request fails after a delay drawn
/// uniformly from `0..LONG_DELAY_MS` (0–6999 ms).
pub const LONG_DELAY_MS: u64 = 7000;

/// With long delays off, an undeliverable request fails after a delay drawn
/// uniformly from `0..UNDELIVERABLE_DELAY_MS` (0–99 ms), so clients can try
/// each server in quick succession.
pub const UNDELIVERABLE_DELAY_MS: u64 = 100;

/// Unreliable mode drops this many requests per thousand before the handler
/// runs (10%).
pub const REQUEST_LOSS_PER_MILLE: u32 = 100;

/// Unreliable mode drops this many replies per thousand after the handler ran
/// (10%): the handler's side effects stand.
pub const REPLY_LOSS_PER_MILLE: u32 = 100;

/// With long reordering on, a reply is held back with probability
/// `REORDER_NUMERATOR / REORDER_DENOMINATOR` (600/900 = 2/3).
pub const REORDER_NUMERATOR: u32 = 600;
/// See [`REORDER_NUMERATOR`].
pub const REORDER_DENOMINATOR: u32 = 900;

/// A held-back reply arrives after `REORDER_BASE_MS + X` ms, where X is uniform
/// in `0..=Y` and Y uniform in `0..REORDER_SPREAD_MS`: 200–2199 ms, skewed low.
pub const REORDER_BASE_MS: u64 = 200;
/// See [`REORDER_BASE_MS`].
pub const REORDER_SPREAD_MS: u64 = 2000;

/// In simulation mode every request spends a time drawn uniformly from
/// `SIM_WIRE_MICROS` (0.5–1.5 ms) on the wire before anything else happens to
/// it: simulated code takes no virtual time, so without it a closed-loop client
/// would do unbounded work at one instant. A millisecond, a LAN's round trip,
/// keeps a simulated KV test's operations at about a third of a real run's
/// (basic_3a: 7.7k operations in 15 virtual seconds against 23.8k real) and
/// its wall time at a sixth of real time.
pub const SIM_WIRE_MICROS: std::ops::Range<u64> = 500..1500;

/// How long a handler thread waits idle for more work before it exits.
pub const IDLE_WORKER_LINGER: Duration = Duration::from_secs(10);
