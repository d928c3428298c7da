//! Simulation mode: which world the calling thread belongs to, and the
//! public view of that world (its seed, its trace, replaying a run).
//!
//! A thread joins a world when it is spawned from one. A thread that is in no
//! world and makes its first facade call in simulation mode creates a world
//! and becomes its thread 0; a test's thread does so on its first call, and the
//! world ends (its other threads unwind) when that thread exits.

mod pin;
mod step_check;
mod world;

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::Arc;

pub use step_check::{StepCheck, set_step_check};
pub use world::Trace;
pub(crate) use world::{Site, Tid, Wake, World, join_key, stop_here};

/// The calling thread's place in its world.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) world: Arc<World>,
    pub(crate) tid: Tid,
}

impl Ctx {
    #[track_caller]
    pub(crate) fn yield_point(&self) {
        if step_check::running() {
            return;
        }
        self.world.yield_point(self.tid, Location::caller());
    }

    #[track_caller]
    pub(crate) fn block(&self, keys: &[usize], deadline: Option<u64>, what: &'static str) -> Wake {
        if step_check::running() {
            step_check::abandon();
        }
        self.world.block(
            self.tid,
            keys,
            deadline,
            Site {
                what,
                at: Location::caller(),
            },
        )
    }

    pub(crate) fn notify_all(&self, key: usize) {
        self.world.notify(key, true);
    }

    pub(crate) fn notify_one(&self, key: usize) {
        self.world.notify(key, false);
    }
}

/// Holds a thread's context; thread 0's ends the world when the thread exits.
struct Slot {
    ctx: Option<Ctx>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(ctx) = &self.ctx
            && ctx.tid == 0
        {
            ctx.world.end();
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Slot> = const { RefCell::new(Slot { ctx: None }) };
    static IN_WORLD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread belongs to a world.
#[inline]
pub(crate) fn in_world() -> bool {
    IN_WORLD.try_with(Cell::get).unwrap_or(false)
}

/// The calling thread's context, creating a world for it if it has none.
/// Only called in simulation mode.
pub(crate) fn ctx() -> Ctx {
    let found = CURRENT.try_with(|slot| slot.borrow().ctx.clone());
    match found {
        Ok(Some(ctx)) => ctx,
        Ok(None) => {
            let seed = crate::rand::seed_from_env();
            let ctx = Ctx {
                world: World::new(seed, name_of_current()),
                tid: 0,
            };
            enter(ctx.clone());
            ctx
        }
        // Thread-local storage is being torn down: this thread's world is
        // over for it.
        Err(_) => {
            stop_here();
            unreachable!("stop_here never returns outside an unwind")
        }
    }
}

/// The calling thread's context if it is in a world.
pub(crate) fn try_ctx() -> Option<Ctx> {
    CURRENT
        .try_with(|slot| slot.borrow().ctx.clone())
        .ok()
        .flatten()
}

/// Makes the calling OS thread simulated thread `ctx.tid`.
pub(crate) fn enter(ctx: Ctx) {
    CURRENT.with(|slot| slot.borrow_mut().ctx = Some(ctx));
    IN_WORLD.with(|flag| flag.set(true));
}

/// The trace of the calling thread's world: `None` in real mode or outside
/// any world.
pub fn trace() -> Option<Trace> {
    try_ctx().map(|ctx| ctx.world.trace())
}

/// Fails the calling thread's world with `report`: its first thread panics
/// with it at its next operation (at once if it waits, however long it
/// would have waited; here if it is the caller), as for a deadlock. For a
/// watchdog inside a world: a run that hangs fails like any other, instead
/// of ending the process. Returns whether the caller is in a world (in real
/// mode nothing happens).
pub fn fail(report: String) -> bool {
    match try_ctx() {
        Some(ctx) => {
            ctx.world.fail(ctx.tid, report);
            true
        }
        None => false,
    }
}

/// Runs `f` as thread 0 of a fresh world seeded with `seed`, on a new OS
/// thread named `name`, whatever the process's mode, and returns what it
/// returned (or its panic) with the world's trace. The world ends when `f`
/// returns: threads still in it unwind.
pub fn run<T: Send + 'static>(
    seed: u64,
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> (std::thread::Result<T>, Trace) {
    let handle = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let ctx = Ctx {
                world: World::new(seed, name_of_current()),
                tid: 0,
            };
            let world = ctx.world.clone();
            enter(ctx);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            (result, world.trace())
        })
        .expect("labrt: cannot spawn a world's thread");
    handle
        .join()
        .expect("labrt: a world's thread catches its panics")
}

fn name_of_current() -> String {
    std::thread::current().name().unwrap_or("main").to_string()
}
