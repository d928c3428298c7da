//! Keeps a world's threads on one CPU.
//!
//! Only one thread of a world runs at a time, and every handoff wakes a parked
//! thread. Woken on another CPU, that costs an inter-processor wake-up and
//! often the other CPU's exit from idle; on the waker's CPU it is one local
//! context switch. Pinning every thread of a world to the CPU its first thread
//! was on made the Raft swarm 4.3 times faster on the 2-core machine (100
//! seeds: 7.1 s unpinned, 1.67 s pinned), and a world then uses at most one
//! CPU, however many threads it has, so the others stay free for whatever runs
//! beside it. Worlds created on different CPUs run in parallel.
//!
//! `LAB_SIM_PIN=0` turns it off. Elsewhere than Linux, nothing is pinned.

use std::sync::OnceLock;

/// The CPU the calling thread runs on, if pinning is on and the OS says.
pub(crate) fn current_cpu() -> Option<usize> {
    if !enabled() {
        return None;
    }
    os::current_cpu()
}

/// Restricts the calling thread to `cpu`; a refusal (a CPU outside the
/// container's set, say) leaves the thread where it was.
pub(crate) fn pin_to(cpu: usize) {
    os::pin_to(cpu);
}

fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var("LAB_SIM_PIN").map_or(true, |v| v.trim() != "0"))
}

#[cfg(target_os = "linux")]
mod os {
    use nix::sched::{CpuSet, sched_getcpu, sched_setaffinity};
    use nix::unistd::Pid;

    pub(super) fn current_cpu() -> Option<usize> {
        sched_getcpu().ok()
    }

    pub(super) fn pin_to(cpu: usize) {
        let mut set = CpuSet::new();
        if set.set(cpu).is_ok() {
            // Pid 0: the calling thread.
            let _ = sched_setaffinity(Pid::from_raw(0), &set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    pub(super) fn current_cpu() -> Option<usize> {
        None
    }

    pub(super) fn pin_to(_cpu: usize) {}
}
