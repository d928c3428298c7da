//! Deciding from a test process's output whether the test passed.
//!
//! A run passes only if the process exited 0, was not killed, and its
//! standard output shows libtest completing exactly that one test (`running 1
//! test`, `test NAME ... `, and `test result: ok. 1 passed; 0 failed`) and,
//! where the rubric asks, the tester's `... Passed --` line after it. A
//! process that exits 0 early (say, `std::process::exit(0)` inside Raft's
//! `start`) shows none of that and fails.

use serde::Serialize;

/// How one run of a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// It passed.
    Passed,
    /// libtest reported it failed (a panic, a tester `Fatal:`).
    Failed,
    /// The grader killed it at the wall-clock limit.
    TimedOut,
    /// It ended without libtest's completion of the test (exit before the
    /// end, a signal, the memory limit, or output that does not show the test).
    Incomplete,
}

impl RunStatus {
    /// Words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            RunStatus::Passed => "passed",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed out (killed)",
            RunStatus::Incomplete => "ended without completing the test",
        }
    }
}

/// The tester's line for a check that passed.
pub const PASSED_PREFIX: &str = "  ... Passed --";

/// The lines of the test's own output: those after libtest's `test NAME ... `
/// marker, with the marker's own line split so the output printed on it
/// counts as a line. None if the marker is missing.
pub fn test_lines<'a>(lines: &'a [String], test: &str) -> Option<Vec<&'a str>> {
    let marker = format!("test {test} ... ");
    let start = lines.iter().position(|l| l.starts_with(&marker))?;
    let mut out = vec![&lines[start][marker.len()..]];
    out.extend(lines[start + 1..].iter().map(String::as_str));
    Some(out)
}

/// Whether libtest's output says it ran just `test` and it passed.
fn libtest_ok(lines: &[String], test: &str) -> bool {
    let running = lines.iter().any(|l| l == "running 1 test");
    let marker = format!("test {test} ... ");
    let started = lines.iter().filter(|l| l.starts_with(&marker)).count() == 1;
    let summary = lines
        .iter()
        .any(|l| l.starts_with("test result: ok. 1 passed; 0 failed;"));
    running && started && summary
}

/// The verdict on one run of `test`.
pub fn judge(
    exit_ok: bool,
    timed_out: bool,
    lines: &[String],
    test: &str,
    require_passed_line: bool,
) -> RunStatus {
    if timed_out {
        return RunStatus::TimedOut;
    }
    let failed = lines.iter().any(|l| {
        l.starts_with("test result: FAILED.") || l.contains(&format!("test {test} ... FAILED"))
    });
    if failed {
        return RunStatus::Failed;
    }
    let passed_line =
        test_lines(lines, test).is_some_and(|own| own.iter().any(|l| l.starts_with(PASSED_PREFIX)));
    if exit_ok && libtest_ok(lines, test) && (passed_line || !require_passed_line) {
        RunStatus::Passed
    } else {
        RunStatus::Incomplete
    }
}

/// Whether the check announced by the banner starting with `banner` passed
/// in this run: the banner appears in the test's own output and the
/// tester's next status line after it is `... Passed --` (not `Fatal:`,
/// another banner, or the end of the output).
pub fn banner_passed(lines: &[String], test: &str, banner: &str) -> bool {
    let Some(own) = test_lines(lines, test) else {
        return false;
    };
    let Some(at) = own.iter().position(|l| l.starts_with(banner)) else {
        return false;
    };
    for line in &own[at + 1..] {
        if line.starts_with(PASSED_PREFIX) {
            return true;
        }
        if line.starts_with("Fatal") || line.starts_with("Test") || line.starts_with("test result")
        {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    const OK: &str = "\nrunning 1 test\ntest basic_3a ... Test: one client (3A) (reliable network)...\n  ... Passed --  time  3.6s #peers 5 #RPCs    64 #Ops    0\nok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 27 filtered out; finished in 3.63s\n";

    #[test]
    fn a_completed_test_passes() {
        assert_eq!(
            judge(true, false, &lines(OK), "basic_3a", true),
            RunStatus::Passed
        );
    }

    #[test]
    fn an_early_exit_zero_is_not_a_pass() {
        let early =
            "\nrunning 1 test\ntest basic_3a ... Test: one client (3A) (reliable network)...\n";
        assert_eq!(
            judge(true, false, &lines(early), "basic_3a", true),
            RunStatus::Incomplete
        );
        assert_eq!(
            judge(true, false, &[], "basic_3a", true),
            RunStatus::Incomplete
        );
    }

    #[test]
    fn another_tests_completion_does_not_count() {
        assert_eq!(
            judge(true, false, &lines(OK), "basic_3b", true),
            RunStatus::Incomplete
        );
    }

    #[test]
    fn a_missing_passed_line_fails_only_when_required() {
        let no_line = OK.replace("  ... Passed --", "  ... done");
        assert_eq!(
            judge(true, false, &lines(&no_line), "basic_3a", true),
            RunStatus::Incomplete
        );
        assert_eq!(
            judge(true, false, &lines(&no_line), "basic_3a", false),
            RunStatus::Passed
        );
    }

    #[test]
    fn failures_and_timeouts_are_told_apart() {
        let failed = "\nrunning 1 test\ntest basic_3a ... Fatal: x\nFAILED\n\ntest result: FAILED. 0 passed; 1 failed;\n";
        assert_eq!(
            judge(false, false, &lines(failed), "basic_3a", true),
            RunStatus::Failed
        );
        assert_eq!(
            judge(false, true, &lines(OK), "basic_3a", true),
            RunStatus::TimedOut
        );
        assert_eq!(
            judge(false, false, &lines(OK), "basic_3a", true),
            RunStatus::Incomplete
        );
    }

    #[test]
    fn banners_pass_one_by_one() {
        let text = "running 1 test\ntest one_partition_3a ... Test: progress in majority (3A) (reliable network)...\n  ... Passed --  time 1.0s\nTest: no progress in minority (3A) (reliable network)...\nFatal: Get in minority completed\n";
        let l = lines(text);
        assert!(banner_passed(
            &l,
            "one_partition_3a",
            "Test: progress in majority (3A)"
        ));
        assert!(!banner_passed(
            &l,
            "one_partition_3a",
            "Test: no progress in minority (3A)"
        ));
        assert!(!banner_passed(
            &l,
            "one_partition_3a",
            "Test: completion after heal (3A)"
        ));
    }
}
