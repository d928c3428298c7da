//! The process's CPU time (all threads), to report CPU per operation.

use std::time::Duration;

/// Linux reports process times in `USER_HZ` ticks, 100 per second on every
/// architecture it supports (the /proc ABI fixes it, whatever the kernel's HZ).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time of this process so far (every thread), or
/// `None` where `/proc/self/stat` is not available.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

/// utime and stime are fields 14 and 15 of /proc/<pid>/stat; the command
/// name (field 2) is in parentheses and may hold spaces, so count from the
/// last ')'.
fn parse_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis(
        (user + system) * 1000 / TICKS_PER_SECOND,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// utime + stime are read from the right fields, even with spaces and
    /// parentheses in the command name.
    #[test]
    fn parses_utime_and_stime() {
        let stat =
            "1234 (kv sim) (x)) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 9 0 100";
        assert_eq!(parse_stat(stat), Some(Duration::from_millis(3000)));
        assert_eq!(parse_stat("garbage"), None);
    }

    /// The live process has some CPU time (on Linux).
    #[cfg(target_os = "linux")]
    #[test]
    fn own_cpu_time_is_readable() {
        assert!(process_cpu().is_some());
    }
}
