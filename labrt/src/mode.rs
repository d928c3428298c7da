//! Real or simulated: chosen once per process from `LAB_SIM`, without a rebuild.

use std::sync::atomic::{AtomicU8, Ordering};

/// The variable that turns simulation mode on (`1`, `true` or `yes`).
pub const SIM_VAR: &str = "LAB_SIM";

/// 0: not read yet, 1: real, 2: simulated.
static MODE: AtomicU8 = AtomicU8::new(0);

/// Whether the calling thread runs simulated: the process runs with
/// `LAB_SIM=1`, or the thread belongs to a world made by [`crate::sim::run`].
///
/// # Panics
/// If `LAB_SIM` is set to something other than `0`/`1`/`false`/`true`/`no`/`yes`
/// (a typo should not silently run the real mode).
#[inline]
pub fn simulated() -> bool {
    process_simulated() || crate::sim::in_world()
}

/// Whether the whole process runs simulated (`LAB_SIM=1`).
#[inline]
pub fn process_simulated() -> bool {
    match MODE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => read_mode(),
    }
}

#[cold]
fn read_mode() -> bool {
    let on = match std::env::var(SIM_VAR) {
        Err(_) => false,
        Ok(text) => match text.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" => false,
            "1" | "true" | "yes" => true,
            _ => panic!("{SIM_VAR} must be 0 or 1, got {text:?}"),
        },
    };
    MODE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
    on
}
