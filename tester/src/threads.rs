//! The process's threads as the kernel sees them, for the watchdog's dump: a
//! test still running at the time limit names who is stuck (`raft-S2-applier`,
//! `rsm-1`, `labrpc-handler`, ...) and where the kernel has each waiting.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One line per kind of thread: its name, its scheduler state (`R` running,
/// `S` sleeping, `D` in uninterruptible I/O), the kernel function it waits in
/// (`futex_wait_queue`: a lock or a channel; `hrtimer_nanosleep`: a sleep),
/// and how many threads share all three. Linux only; elsewhere one line says
/// the list is not available.
pub fn dump() -> String {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return "  (the thread list is not available on this system)\n".into();
    };
    let mut kinds: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for task in tasks.flatten() {
        let dir = task.path();
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let name = read("comm").trim().to_string();
        let stat = read("stat");
        // The state is the first field after the parenthesised name.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or("?")
            .to_string();
        let wchan = match read("wchan").trim() {
            "" | "0" => "-".to_string(),
            wait => wait.to_string(),
        };
        *kinds.entry((name, state, wchan)).or_default() += 1;
    }
    let mut out = String::new();
    for ((name, state, wchan), count) in kinds {
        let _ = writeln!(out, "  {name:<16} {state} {wchan:<24} x{count}");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_blocked_named_thread_is_listed_sleeping() {
        if !std::path::Path::new("/proc/self/task").is_dir() {
            return;
        }
        let (tx, rx) = labrt::channel::bounded::<()>(0);
        let (started_tx, started_rx) = labrt::channel::bounded::<()>(0);
        let thread = labrt::thread::Builder::new()
            .name("tester-stuck-1".into())
            .spawn(move || {
                started_tx.send(()).unwrap();
                let _ = rx.recv();
            })
            .unwrap();
        started_rx.recv().unwrap();
        // The thread may still be on its way into the wait: look until it is.
        let listed = (0..200).find_map(|_| {
            let dump = super::dump();
            let line = dump
                .lines()
                .find(|l| l.contains("tester-stuck-1"))?
                .to_string();
            if line.contains(" S ") {
                Some(line)
            } else {
                labrt::thread::yield_now();
                None
            }
        });
        drop(tx);
        thread.join().unwrap();
        let line = listed.expect("the blocked thread is listed as sleeping");
        assert!(line.trim_end().ends_with("x1"), "{line}");
    }
}
