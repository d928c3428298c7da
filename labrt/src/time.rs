//! Time: an [`Instant`] that is the real clock in real mode and the world's
//! virtual clock in simulation mode, and [`sleep`].

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;

pub use std::time::Duration;

/// A point in time: the monotonic clock (real mode) or the world's virtual
/// clock (simulation mode), as an offset from the clock's start. Compare only
/// instants taken in the same world.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Instant(Duration);

static BASE: OnceLock<std::time::Instant> = OnceLock::new();

fn base() -> std::time::Instant {
    *BASE.get_or_init(std::time::Instant::now)
}

impl Instant {
    /// The current time.
    #[track_caller]
    pub fn now() -> Instant {
        if crate::simulated() {
            let ctx = crate::sim::ctx();
            ctx.yield_point();
            Instant(Duration::from_nanos(ctx.world.now()))
        } else {
            Instant(std::time::Instant::now().saturating_duration_since(base()))
        }
    }

    /// The current time, read without being a scheduling point: for logs and
    /// measurements, which must not change a simulated run by being there.
    pub fn observe() -> Instant {
        if crate::simulated() {
            Instant(Duration::from_nanos(crate::sim::ctx().world.now()))
        } else {
            Instant(std::time::Instant::now().saturating_duration_since(base()))
        }
    }

    /// The time since the clock's start.
    pub fn since_start(self) -> Duration {
        self.0
    }

    /// The real-mode instant this one stands for.
    pub(crate) fn to_std(self) -> std::time::Instant {
        base() + self.0
    }

    /// The facade instant for a real one.
    pub(crate) fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant.saturating_duration_since(base()))
    }

    /// The instant `n` virtual nanoseconds after the start.
    pub(crate) fn from_nanos(n: u64) -> Instant {
        Instant(Duration::from_nanos(n))
    }

    /// Virtual nanoseconds (simulation mode).
    pub(crate) fn nanos(self) -> u64 {
        u64::try_from(self.0.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Time elapsed since `self` (zero if `self` is later).
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self - earlier`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// `self - earlier`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self - earlier`, `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0)
    }

    /// `self + d`, `None` on overflow.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// `self - d`, `None` before the clock's start.
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.0.checked_sub(d).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.0 += d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.saturating_sub(d))
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        self.0 = self.0.saturating_sub(d);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

/// Blocks the calling thread for `d` (virtual time in simulation mode).
#[track_caller]
pub fn sleep(d: Duration) {
    if crate::simulated() {
        let ctx = crate::sim::ctx();
        let deadline = ctx
            .world
            .now()
            .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        ctx.block(&[], Some(deadline), "sleep");
    } else {
        std::thread::sleep(d);
    }
}

/// Blocks the calling thread until `deadline`.
#[track_caller]
pub fn sleep_until(deadline: Instant) {
    if crate::simulated() {
        let ctx = crate::sim::ctx();
        ctx.block(&[], Some(deadline.nanos()), "sleep");
    } else {
        std::thread::sleep(
            deadline
                .to_std()
                .saturating_duration_since(std::time::Instant::now()),
        );
    }
}

/// Wall-clock seconds since the Unix epoch: real in real mode, the world's
/// virtual time in simulation mode (so that logs replay byte for byte).
pub fn unix_time() -> Duration {
    if crate::simulated() {
        Duration::from_nanos(crate::sim::ctx().world.now())
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// Nanoseconds for ordering events in a history (operation calls and
/// returns, annotations): since the Unix epoch in real mode; in simulation
/// mode the virtual clock, strictly increasing within a world so that an
/// operation that returned before another was called still shows it.
pub fn history_stamp() -> i64 {
    if crate::simulated() {
        let ctx = crate::sim::ctx();
        i64::try_from(ctx.world.stamp()).unwrap_or(i64::MAX)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}
