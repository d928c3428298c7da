//! Invariants checked after every step of a world.
//!
//! A test installs a check with [`set_step_check`]; from then on, each time the
//! scheduler has made a decision (a step), the thread that runs next calls the
//! check before it goes on. The check sees the program between two steps, with
//! no thread halfway through an operation of this crate, so a safety property
//! that ever fails is caught at the step it fails, not at the next sample.
//!
//! The check runs inside the world but outside its schedule: it makes no
//! scheduling decisions and takes no virtual time (the run, its digest and its
//! verdict are the same with or without it). It may take locks that are free;
//! if it would wait for anything (a lock another thread holds, a channel, a
//! sleep), that step's check is abandoned and the program goes on, so a check
//! that reads a peer's state under the peer's lock simply skips the steps at
//! which the peer holds it. Code abandoned that way is unwound, as by a panic
//! that prints nothing: keep a check's own updates unwind-safe.
//!
//! A check returns `Err(report)` to fail the run: the report becomes the
//! world's failure, and the world's first thread panics with it at its next
//! operation (as for a deadlock). Real mode never calls a check.

use std::cell::Cell;

use super::try_ctx;

/// A check run after every step; `Err` fails the run with its text.
pub type StepCheck = Box<dyn FnMut() -> Result<(), String> + Send>;

thread_local! {
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// The payload an abandoned check unwinds with.
struct Abandoned;

/// Installs `check` for the calling thread's world, replacing any other
/// (`None` removes it). Returns whether the caller is in a world: in real
/// mode, or outside any world, nothing is installed.
pub fn set_step_check(check: Option<StepCheck>) -> bool {
    if !crate::simulated() {
        return false;
    }
    match try_ctx() {
        Some(ctx) => {
            ctx.world.set_step_check(check);
            true
        }
        None => false,
    }
}

/// Whether the calling thread is inside a step check.
pub(crate) fn running() -> bool {
    RUNNING.try_with(Cell::get).unwrap_or(false)
}

/// Leaves the running check: it wanted to wait.
pub(crate) fn abandon() -> ! {
    std::panic::resume_unwind(Box::new(Abandoned))
}

/// Runs `check` once on the calling thread: `Ok` if it passed or was
/// abandoned, `Err` with its report if it failed. A check that panics fails
/// with the panic's message.
pub(crate) fn run(check: &mut StepCheck) -> Result<(), String> {
    RUNNING.with(|r| r.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut *check));
    RUNNING.with(|r| r.set(false));
    match outcome {
        Ok(result) => result,
        Err(payload) if payload.is::<Abandoned>() => Ok(()),
        Err(payload) if payload.is::<super::world::WorldEnded>() => {
            std::panic::resume_unwind(payload)
        }
        Err(payload) => Err(payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the step check panicked".to_string())),
    }
}
