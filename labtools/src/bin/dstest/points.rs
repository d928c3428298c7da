//! Course-style scoring: points per test from a small TOML file.
//!
//! ```toml
//! # One table per crate; keys are test names as libtest prints them.
//! [raft]
//! initial_election_3a = 5
//! reelection_3a = 5
//! "tests::inner_test" = 1.5   # a test inside a module: quote the key
//! ```
//!
//! A test earns its points only if it ran and every one of its runs passed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::results::{TestStats, layout};

/// The points file's entries, sorted by crate and test.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    entries: Vec<(String, String, f64)>,
}

impl Points {
    /// Reads and checks a points file.
    pub fn load(path: &Path) -> Result<Points, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read points file {}: {e}", path.display()))?;
        Points::parse(&text).map_err(|e| format!("points file {}: {e}", path.display()))
    }

    /// Parses the TOML text of a points file.
    pub fn parse(text: &str) -> Result<Points, String> {
        let tables: BTreeMap<String, toml::Table> =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let mut entries = Vec::new();
        for (package, tests) in tables {
            for (test, value) in tests {
                let points = match value {
                    toml::Value::Integer(n) => n as f64,
                    toml::Value::Float(x) => x,
                    other => {
                        return Err(format!(
                            "[{package}] {test}: points must be a number, found {}",
                            other.type_str()
                        ));
                    }
                };
                if !points.is_finite() || points < 0.0 {
                    return Err(format!(
                        "[{package}] {test}: points must be zero or more, found {points}"
                    ));
                }
                entries.push((package.clone(), test, points));
            }
        }
        if entries.is_empty() {
            return Err("no tests in it: write `[crate]` tables of `test_name = points`".into());
        }
        Ok(Points { entries })
    }

    /// The crates the file names.
    pub fn packages(&self) -> Vec<String> {
        let mut packages: Vec<String> = self.entries.iter().map(|(p, _, _)| p.clone()).collect();
        packages.dedup();
        packages
    }

    /// Whether the file gives points to this test.
    pub fn contains(&self, package: &str, test: &str) -> bool {
        self.entries
            .iter()
            .any(|(p, t, _)| p == package && t == test)
    }

    /// Scores the runs: a test earns its points if it ran and every run passed.
    pub fn score(&self, stats: &[TestStats]) -> Vec<ScoreLine> {
        self.entries
            .iter()
            .map(|(package, test, points)| {
                let runs: Vec<&TestStats> = stats
                    .iter()
                    .filter(|s| &s.package == package && &s.name == test && s.runs > 0)
                    .collect();
                let ran: u32 = runs.iter().map(|s| s.runs).sum();
                let failed: u32 = runs.iter().map(|s| s.failures).sum();
                let (earned, note) = if ran == 0 {
                    (0.0, "not run".to_string())
                } else if failed > 0 {
                    (0.0, format!("{failed} of {ran} runs failed"))
                } else {
                    (*points, format!("{ran} of {ran} runs passed"))
                };
                ScoreLine {
                    package: package.clone(),
                    test: test.clone(),
                    points: *points,
                    earned,
                    note,
                }
            })
            .collect()
    }
}

/// One test's score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScoreLine {
    /// The crate.
    pub package: String,
    /// The test.
    pub test: String,
    /// Points possible.
    pub points: f64,
    /// Points earned.
    pub earned: f64,
    /// Why, in words.
    pub note: String,
}

/// The score table with a total line.
pub fn score_table(lines: &[ScoreLine]) -> String {
    let mut rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                format!("{} {}", l.package, l.test),
                format_points(l.points),
                format_points(l.earned),
                l.note.clone(),
            ]
        })
        .collect();
    let (possible, earned) = totals(lines);
    rows.push(vec![
        "total".into(),
        format_points(possible),
        format_points(earned),
        String::new(),
    ]);
    layout(&["score", "points", "earned", ""], "lrrl", &rows)
}

/// (possible, earned) over all lines.
pub fn totals(lines: &[ScoreLine]) -> (f64, f64) {
    (
        lines.iter().map(|l| l.points).sum(),
        lines.iter().map(|l| l.earned).sum(),
    )
}

fn format_points(points: f64) -> String {
    if points.fract() == 0.0 {
        format!("{points:.0}")
    } else {
        format!("{points:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(name: &str, runs: u32, failures: u32) -> TestStats {
        TestStats {
            package: "raft".into(),
            target: "raft_3a".into(),
            name: name.into(),
            runs,
            failures,
            mean_secs: 1.0,
            max_secs: 1.0,
        }
    }

    const FILE: &str = "[raft]\ninitial_election_3a = 5\nreelection_3a = 2.5\nmissing_3a = 1\n";

    #[test]
    fn points_file_parses_and_scores_all_or_nothing() {
        let points = Points::parse(FILE).unwrap();
        assert_eq!(points.packages(), ["raft"]);
        assert!(points.contains("raft", "reelection_3a"));
        assert!(!points.contains("kvraft", "reelection_3a"));
        let lines = points.score(&[
            stat("initial_election_3a", 10, 0),
            stat("reelection_3a", 10, 1),
        ]);
        let earned: Vec<(f64, &str)> = lines.iter().map(|l| (l.earned, l.note.as_str())).collect();
        assert_eq!(
            earned,
            [
                (5.0, "10 of 10 runs passed"),
                (0.0, "not run"),
                (0.0, "1 of 10 runs failed")
            ]
        );
        assert_eq!(totals(&lines), (8.5, 5.0));
        let table = score_table(&lines);
        let expected = "\
score                     points  earned
raft initial_election_3a       5       5  10 of 10 runs passed
raft missing_3a                1       0  not run
raft reelection_3a           2.5       0  1 of 10 runs failed
total                        8.5       5
";
        assert_eq!(table, expected);
    }

    #[test]
    fn bad_points_files_are_clear_errors() {
        let err = Points::parse("[raft]\nx = \"five\"\n").unwrap_err();
        assert_eq!(err, "[raft] x: points must be a number, found string");
        let err = Points::parse("[raft]\nx = -1\n").unwrap_err();
        assert!(err.contains("zero or more"), "{err}");
        let err = Points::parse("").unwrap_err();
        assert!(err.contains("no tests"), "{err}");
        let err = Points::parse("raft = 3\n").unwrap_err();
        assert!(!err.is_empty());
        assert!(Points::parse("[raft\n").is_err());
    }
}
