//! Which tests run: name filters, skips, ignored tests, and the points file's list.

use std::sync::Arc;

use crate::cargo::TestBinary;

/// One test in one binary.
#[derive(Debug, Clone)]
pub struct Test {
    /// The binary holding it.
    pub binary: Arc<TestBinary>,
    /// Its full libtest name (e.g. `initial_election_3a` or `tests::basic`).
    pub name: String,
    /// Marked #[ignore] (runs only with --include-ignored).
    pub ignored: bool,
}

impl Test {
    /// `suite name`, unique across the run.
    pub fn label(&self) -> String {
        format!("{} {}", self.binary.suite(), self.name)
    }

    /// The command that replays one run with its seed.
    pub fn replay_command(&self, seed: u64, release: bool, sim: bool) -> String {
        let mut parts = Vec::new();
        if sim {
            parts.push("LAB_SIM=1".to_string());
        }
        parts.extend([
            format!("LAB_SEED={seed}"),
            "cargo".to_string(),
            "test".to_string(),
            "-p".to_string(),
            self.binary.package.clone(),
        ]);
        if release {
            parts.push("--release".to_string());
        }
        parts.extend(self.binary.cargo_selector());
        parts.extend(["--".to_string(), "--exact".to_string(), self.name.clone()]);
        if self.ignored {
            parts.push("--include-ignored".to_string());
        }
        parts.join(" ")
    }
}

/// The name filters of the command line.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    /// Keep names containing (or, if `exact`, equal to) one of these; empty keeps all.
    pub patterns: Vec<String>,
    /// Compare whole names instead of substrings.
    pub exact: bool,
    /// Drop names containing one of these.
    pub skip: Vec<String>,
}

impl NameFilter {
    /// Whether a test of this name is chosen (case-insensitive, except --exact).
    pub fn matches(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        let chosen = self.patterns.is_empty()
            || self.patterns.iter().any(|p| {
                if self.exact {
                    name == p
                } else {
                    lower.contains(&p.to_lowercase())
                }
            });
        chosen && !self.skip.iter().any(|s| lower.contains(&s.to_lowercase()))
    }
}

/// A further choice by (crate, test name), e.g. "named in the points file".
pub type Only<'a> = &'a dyn Fn(&str, &str) -> bool;

/// Keeps the chosen tests: matching the filter, not ignored unless asked,
/// and (when `only` is given) named by it as (crate, test).
pub fn choose(
    listed: Vec<Test>,
    filter: &NameFilter,
    include_ignored: bool,
    only: Option<Only>,
) -> Vec<Test> {
    listed
        .into_iter()
        .filter(|t| include_ignored || !t.ignored)
        .filter(|t| filter.matches(&t.name))
        .filter(|t| only.is_none_or(|only| only(&t.binary.package, &t.name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cargo::TargetKind;

    fn test(package: &str, kind: TargetKind, target: &str, name: &str, ignored: bool) -> Test {
        Test {
            binary: Arc::new(TestBinary {
                package: package.into(),
                target: target.into(),
                kind,
                executable: "/x".into(),
                package_dir: "/p".into(),
            }),
            name: name.into(),
            ignored,
        }
    }

    #[test]
    fn filters_are_case_insensitive_substrings_unless_exact() {
        let f = NameFilter {
            patterns: vec!["3A".into()],
            ..Default::default()
        };
        assert!(f.matches("initial_election_3a"));
        assert!(!f.matches("basic_agree_3b"));
        let f = NameFilter {
            patterns: vec!["basic".into()],
            exact: true,
            ..Default::default()
        };
        assert!(f.matches("basic"));
        assert!(!f.matches("basic_agree_3b"));
        let f = NameFilter {
            skip: vec!["Figure8".into()],
            ..Default::default()
        };
        assert!(f.matches("persist1_3c"));
        assert!(!f.matches("figure8_unreliable_3c"));
    }

    #[test]
    fn ignored_tests_and_points_restrict_the_choice() {
        let listed = vec![
            test(
                "raft",
                TargetKind::Test,
                "raft_3a",
                "initial_election_3a",
                false,
            ),
            test("raft", TargetKind::Test, "raft_3a", "slow_3a", true),
            test("kvraft", TargetKind::Lib, "kvraft", "tests::basic", false),
        ];
        let names = |ts: &[Test]| ts.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let all = choose(listed.clone(), &NameFilter::default(), false, None);
        assert_eq!(names(&all), ["initial_election_3a", "tests::basic"]);
        let with_ignored = choose(listed.clone(), &NameFilter::default(), true, None);
        assert_eq!(with_ignored.len(), 3);
        let only_kv = |package: &str, _: &str| package == "kvraft";
        let kv = choose(listed, &NameFilter::default(), false, Some(&only_kv));
        assert_eq!(names(&kv), ["tests::basic"]);
    }

    #[test]
    fn replay_command_names_crate_target_and_test() {
        let t = test(
            "raft",
            TargetKind::Test,
            "raft_3a",
            "initial_election_3a",
            false,
        );
        assert_eq!(
            t.replay_command(42, false, false),
            "LAB_SEED=42 cargo test -p raft --test raft_3a -- --exact initial_election_3a"
        );
        assert_eq!(
            t.replay_command(42, false, true),
            "LAB_SIM=1 LAB_SEED=42 cargo test -p raft --test raft_3a -- --exact initial_election_3a"
        );
        let t = test("labgob", TargetKind::Lib, "labgob", "tests::gob", true);
        assert_eq!(
            t.replay_command(7, true, false),
            "LAB_SEED=7 cargo test -p labgob --release --lib -- --exact tests::gob --include-ignored"
        );
        assert_eq!(t.label(), "labgob tests::gob");
    }
}
