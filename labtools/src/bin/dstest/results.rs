//! Per-test statistics, the text tables, and the JSON results file.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::points::ScoreLine;
use crate::run::RunResult;
use crate::select::Test;

/// The runs of one test, summed up.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TestStats {
    /// The crate.
    pub package: String,
    /// The test target (the crate's name for its library).
    pub target: String,
    /// The test's libtest name.
    pub name: String,
    /// Runs done.
    pub runs: u32,
    /// Runs that did not pass.
    pub failures: u32,
    /// Mean wall-clock seconds per run.
    pub mean_secs: f64,
    /// Longest run, seconds.
    pub max_secs: f64,
}

/// Sums up the results per test, in the order of `tests`.
pub fn stats(tests: &[Test], results: &[RunResult]) -> Vec<TestStats> {
    tests
        .iter()
        .enumerate()
        .map(|(i, test)| {
            let mine: Vec<&RunResult> = results.iter().filter(|r| r.test == i).collect();
            let runs = mine.len() as u32;
            let total: f64 = mine.iter().map(|r| r.secs).sum();
            TestStats {
                package: test.binary.package.clone(),
                target: test.binary.target.clone(),
                name: test.name.clone(),
                runs,
                failures: mine.iter().filter(|r| r.outcome.is_failure()).count() as u32,
                mean_secs: if runs == 0 { 0.0 } else { total / runs as f64 },
                max_secs: mine.iter().map(|r| r.secs).fold(0.0, f64::max),
            }
        })
        .collect()
}

/// Lays out rows under a header; `align` has one letter per column, `l`
/// (left) or `r` (right).
pub fn layout(header: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let align: Vec<char> = align.chars().collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            let gap = if i == 0 { "" } else { "  " };
            if align.get(i) == Some(&'r') {
                let _ = write!(text, "{gap}{cell:>w$}");
            } else {
                let _ = write!(text, "{gap}{cell:<w$}");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// The table per test: runs, failures, mean and max time, and a total line.
pub fn stats_table(tests: &[Test], stats: &[TestStats]) -> String {
    let mut rows: Vec<Vec<String>> = tests
        .iter()
        .zip(stats)
        .map(|(test, s)| {
            vec![
                test.label(),
                s.runs.to_string(),
                s.failures.to_string(),
                format!("{:.2}s", s.mean_secs),
                format!("{:.2}s", s.max_secs),
            ]
        })
        .collect();
    let runs: u32 = stats.iter().map(|s| s.runs).sum();
    let failures: u32 = stats.iter().map(|s| s.failures).sum();
    let total: f64 = stats.iter().map(|s| s.mean_secs * s.runs as f64).sum();
    let max = stats.iter().map(|s| s.max_secs).fold(0.0, f64::max);
    let mean = if runs == 0 { 0.0 } else { total / runs as f64 };
    rows.push(vec![
        format!("total ({} tests)", stats.len()),
        runs.to_string(),
        failures.to_string(),
        format!("{mean:.2}s"),
        format!("{max:.2}s"),
    ]);
    layout(&["test", "runs", "fails", "mean", "max"], "lrrrr", &rows)
}

/// The failing runs, each with its reason, kept files and replay command.
pub fn failure_list(tests: &[Test], results: &[RunResult]) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| r.outcome.is_failure()) {
        let _ = writeln!(
            out,
            "FAIL {} (run {}, seed {}): {}",
            tests[r.test].label(),
            r.iteration,
            r.seed,
            r.reason.as_deref().unwrap_or("failed")
        );
        if let Some(message) = &r.message {
            let _ = writeln!(out, "  {message}");
        }
        if let Some(kept) = &r.kept {
            let _ = writeln!(out, "  logs:   {}", kept.display());
        }
        let _ = writeln!(out, "  replay: {}", r.replay);
    }
    out
}

/// Everything the JSON results file holds.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// dstest's own command line.
    pub command: Vec<String>,
    /// Start, seconds since the Unix epoch.
    pub started_unix: u64,
    /// Wall-clock seconds for all runs.
    pub elapsed_secs: f64,
    /// Runs asked per test.
    pub iterations: u32,
    /// Runs at once.
    pub jobs: u32,
    /// The fixed seed, if --seed was given.
    pub seed: Option<u64>,
    /// Built with --release.
    pub release: bool,
    /// Every test target compiled (false only with --keep-going).
    pub build_complete: bool,
    /// Runs done, and how many did not pass.
    pub runs: u32,
    /// Runs that did not pass.
    pub failures: u32,
    /// Per test.
    pub tests: Vec<TestReport<'a>>,
    /// The score, if a points file was given.
    pub score: Option<Score<'a>>,
}

/// One test's statistics and its runs.
#[derive(Debug, Serialize)]
pub struct TestReport<'a> {
    /// The statistics.
    #[serde(flatten)]
    pub stats: &'a TestStats,
    /// Every run, in the order they finished.
    pub run_results: Vec<&'a RunResult>,
}

/// The score section.
#[derive(Debug, Serialize)]
pub struct Score<'a> {
    /// Per test named in the points file.
    pub lines: &'a [ScoreLine],
    /// Points possible.
    pub possible: f64,
    /// Points earned.
    pub earned: f64,
}

/// Builds the per-test part of the report.
pub fn test_reports<'a>(stats: &'a [TestStats], results: &'a [RunResult]) -> Vec<TestReport<'a>> {
    stats
        .iter()
        .enumerate()
        .map(|(i, stats)| TestReport {
            stats,
            run_results: results.iter().filter(|r| r.test == i).collect(),
        })
        .collect()
}

/// Writes the report as pretty JSON.
pub fn write_json(path: &Path, report: &Report) -> Result<(), String> {
    let text =
        serde_json::to_string_pretty(report).map_err(|e| format!("cannot encode JSON: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::cargo::{TargetKind, TestBinary};
    use crate::run::Outcome;
    use std::sync::Arc;

    pub fn two_tests() -> Vec<Test> {
        let binary = Arc::new(TestBinary {
            package: "raft".into(),
            target: "raft_3a".into(),
            kind: TargetKind::Test,
            executable: "/x".into(),
            package_dir: "/p".into(),
        });
        ["initial_election_3a", "reelection_3a"]
            .into_iter()
            .map(|name| Test {
                binary: binary.clone(),
                name: name.into(),
                ignored: false,
            })
            .collect()
    }

    pub fn result(test: usize, iteration: u32, outcome: Outcome, secs: f64) -> RunResult {
        RunResult {
            id: 0,
            test,
            iteration,
            seed: 100 + iteration as u64,
            outcome,
            reason: outcome
                .is_failure()
                .then(|| "failed (exit status: 101)".to_string()),
            message: outcome
                .is_failure()
                .then(|| "Fatal: expected one leader".to_string()),
            secs,
            kept: outcome
                .is_failure()
                .then(|| "/out/failures/x/run-1-seed-101".into()),
            replay: format!("LAB_SEED={} cargo test", 100 + iteration),
        }
    }

    pub fn sample_results() -> Vec<RunResult> {
        vec![
            result(0, 0, Outcome::Passed, 2.0),
            result(1, 0, Outcome::Passed, 5.0),
            result(0, 1, Outcome::Failed, 4.0),
            result(1, 1, Outcome::Passed, 3.0),
        ]
    }

    #[test]
    fn stats_count_runs_failures_mean_and_max() {
        let s = stats(&two_tests(), &sample_results());
        assert_eq!(
            (s[0].runs, s[0].failures, s[0].mean_secs, s[0].max_secs),
            (2, 1, 3.0, 4.0)
        );
        assert_eq!(
            (s[1].runs, s[1].failures, s[1].mean_secs, s[1].max_secs),
            (2, 0, 4.0, 5.0)
        );
    }

    #[test]
    fn table_is_aligned_with_a_total() {
        let tests = two_tests();
        let table = stats_table(&tests, &stats(&tests, &sample_results()));
        let expected = "\
test                              runs  fails   mean    max
raft/raft_3a initial_election_3a     2      1  3.00s  4.00s
raft/raft_3a reelection_3a           2      0  4.00s  5.00s
total (2 tests)                      4      1  3.50s  5.00s
";
        assert_eq!(table, expected);
    }

    #[test]
    fn failures_are_listed_with_seed_logs_and_replay() {
        let list = failure_list(&two_tests(), &sample_results());
        assert_eq!(
            list,
            "FAIL raft/raft_3a initial_election_3a (run 1, seed 101): failed (exit status: 101)\n  \
             Fatal: expected one leader\n  logs:   /out/failures/x/run-1-seed-101\n  \
             replay: LAB_SEED=101 cargo test\n"
        );
    }

    #[test]
    fn json_report_has_tests_and_runs() {
        let tests = two_tests();
        let results = sample_results();
        let s = stats(&tests, &results);
        let report = Report {
            command: vec!["dstest".into()],
            started_unix: 1,
            elapsed_secs: 9.0,
            iterations: 2,
            jobs: 1,
            seed: None,
            release: false,
            build_complete: true,
            runs: 4,
            failures: 1,
            tests: test_reports(&s, &results),
            score: None,
        };
        let value: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(value["tests"][0]["name"], "initial_election_3a");
        assert_eq!(value["tests"][0]["failures"], 1);
        assert_eq!(value["tests"][0]["run_results"][1]["outcome"], "failed");
        assert_eq!(value["tests"][0]["run_results"][1]["seed"], 101);
        assert_eq!(
            value["tests"][1]["run_results"].as_array().unwrap().len(),
            2
        );
    }
}
