//! Threads: named, joinable, scoped; `std::thread`'s shape. In simulation
//! mode a spawned thread joins its parent's world and runs only when the
//! scheduler picks it.

use std::io;
use std::sync::Arc;

use crate::sim::{self, Ctx, Tid, World};

pub use crate::time::{sleep, sleep_until};
pub use std::thread::Result;

/// A thread factory: `std::thread::Builder`'s shape.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with no name.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread (shown in logs, panics and deadlock reports).
    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// The new thread's stack size in bytes.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    fn std_builder(&self) -> std::thread::Builder {
        let mut b = std::thread::Builder::new();
        if let Some(name) = &self.name {
            b = b.name(name.clone());
        }
        if let Some(size) = self.stack_size {
            b = b.stack_size(size);
        }
        b
    }

    /// Spawns a thread running `f`.
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if !crate::simulated() {
            return Ok(JoinHandle {
                std: self.std_builder().spawn(f)?,
                sim: SimThread(None),
            });
        }
        let parent = sim::ctx();
        let tid = parent.world.add_thread(self.name.clone());
        let child = Ctx {
            world: parent.world.clone(),
            tid,
        };
        let std = self.std_builder().spawn(move || run_simulated(child, f))?;
        parent.world.attach(tid, std.thread().clone());
        parent.yield_point();
        Ok(JoinHandle {
            std,
            sim: SimThread(Some((parent.world, tid))),
        })
    }
}

/// Marks a simulated thread finished however its body ends.
struct Finish(Ctx);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.world.finish(self.0.tid);
    }
}

fn run_simulated<T>(ctx: Ctx, f: impl FnOnce() -> T) -> T {
    sim::enter(ctx.clone());
    ctx.world.pin_current();
    ctx.world.wait_turn(ctx.tid);
    if ctx.world.ended() {
        sim::stop_here();
    }
    let _finish = Finish(ctx);
    f()
}

/// Spawns an unnamed thread running `f`.
///
/// # Panics
/// If the OS cannot create a thread.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .expect("labrt: cannot spawn a thread")
}

/// An owned permission to join a thread.
pub struct JoinHandle<T> {
    std: std::thread::JoinHandle<T>,
    sim: SimThread,
}

/// Where a handle's thread is in its world (`None` in real mode): what both
/// kinds of join handle need before they defer to std's.
struct SimThread(Option<(Arc<World>, Tid)>);

impl SimThread {
    /// Waits, through the scheduler, until the thread has finished.
    #[track_caller]
    fn wait(&self) {
        if let Some((world, tid)) = &self.0 {
            wait_finished(world, *tid);
        }
    }

    /// Whether it has finished; `None` in real mode (ask std).
    fn finished(&self) -> Option<bool> {
        self.0.as_ref().map(|(world, tid)| world.is_finished(*tid))
    }
}

#[track_caller]
fn wait_finished(world: &Arc<World>, tid: Tid) {
    let ctx = sim::ctx();
    while !world.is_finished(tid) {
        ctx.block(&[sim::join_key(tid)], None, "JoinHandle::join");
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", self.std.thread())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; `Err` carries its panic.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        self.sim.wait();
        self.std.join()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.sim
            .finished()
            .unwrap_or_else(|| self.std.is_finished())
    }

    /// The underlying OS thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.std.thread()
    }
}

/// The calling thread's name, if it has one.
pub fn current_name() -> Option<String> {
    if crate::simulated()
        && let Some(ctx) = sim::try_ctx()
    {
        return Some(ctx.world.name(ctx.tid));
    }
    std::thread::current().name().map(str::to_string)
}

/// Lets another thread run (in simulation mode, a scheduling point).
pub fn yield_now() {
    if crate::simulated() {
        sim::ctx().yield_point();
    } else {
        std::thread::yield_now();
    }
}

/// A scope for threads that may borrow from the caller: `std::thread::scope`.
/// Every thread spawned in it is joined before `scope` returns.
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|std_scope| {
        let scope = Scope {
            std: std_scope,
            spawned: parking_lot::Mutex::new(Vec::new()),
        };
        // Simulated threads must be joined through the scheduler before std
        // joins them for real (also when `f` panics).
        let joiner = JoinAll(&scope);
        let result = f(joiner.0);
        drop(joiner);
        result
    })
}

struct JoinAll<'a, 'scope, 'env>(&'a Scope<'scope, 'env>);

impl Drop for JoinAll<'_, '_, '_> {
    fn drop(&mut self) {
        let spawned: Vec<_> = self.0.spawned.lock().drain(..).collect();
        for (world, tid) in spawned {
            if !world.ended() {
                wait_finished(&world, tid);
            }
        }
    }
}

/// A scope to spawn threads in (see [`scope`]).
pub struct Scope<'scope, 'env: 'scope> {
    std: &'scope std::thread::Scope<'scope, 'env>,
    spawned: parking_lot::Mutex<Vec<(Arc<World>, Tid)>>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Spawns a scoped thread running `f`.
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        if !crate::simulated() {
            return ScopedJoinHandle {
                std: self.std.spawn(f),
                sim: SimThread(None),
            };
        }
        let parent = sim::ctx();
        let tid = parent.world.add_thread(None);
        let child = Ctx {
            world: parent.world.clone(),
            tid,
        };
        let std = self.std.spawn(move || run_simulated(child, f));
        parent.world.attach(tid, std.thread().clone());
        self.spawned.lock().push((parent.world.clone(), tid));
        parent.yield_point();
        ScopedJoinHandle {
            std,
            sim: SimThread(Some((parent.world, tid))),
        }
    }
}

/// An owned permission to join a scoped thread.
pub struct ScopedJoinHandle<'scope, T> {
    std: std::thread::ScopedJoinHandle<'scope, T>,
    sim: SimThread,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish; `Err` carries its panic.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        self.sim.wait();
        self.std.join()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.sim
            .finished()
            .unwrap_or_else(|| self.std.is_finished())
    }
}
