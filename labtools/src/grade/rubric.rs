//! Rubrics: which tests a course grades, what each is worth, how often it
//! runs and who sees it. A rubric is a TOML file; the shipped ones are in
//! `labtools/rubrics/` and docs/GRADING.md documents every key.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

/// Why a rubric could not be used.
#[derive(Debug, thiserror::Error)]
#[error("rubric {path}: {message}")]
pub struct RubricError {
    /// The rubric file.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// How the runs of a test (`--runs N`) become one verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Every run must pass.
    All,
    /// More than half of the runs must pass.
    Majority,
    /// One passing run is enough (best of N).
    Best,
}

impl Policy {
    /// Whether `passed` passing runs out of `runs` make a pass.
    pub fn passes(self, passed: usize, runs: usize) -> bool {
        match self {
            Policy::All => runs > 0 && passed == runs,
            Policy::Majority => 2 * passed > runs,
            Policy::Best => passed > 0,
        }
    }
}

/// Who sees an item's result on Gradescope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Shown at once.
    Visible,
    /// Never shown to the student.
    Hidden,
    /// Shown once the due date has passed.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
}

impl Visibility {
    /// The name Gradescope's results.json uses.
    pub fn gradescope(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }
}

/// A code-quality check over the student-owned files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// `rustfmt --check` accepts every student-owned `.rs` file.
    Fmt,
    /// `cargo clippy -- -D warnings` reports nothing in a student-owned file.
    Clippy,
}

/// One test of a suite: `package/binary::test`, e.g.
/// `raft/raft_test::initial_election_3a`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TestId {
    /// The cargo package (`-p`).
    pub package: String,
    /// The integration-test target (`--test`).
    pub binary: String,
    /// The test's name as libtest prints it.
    pub test: String,
}

impl TestId {
    /// Parses `package/binary::test`.
    pub fn parse(text: &str) -> Option<TestId> {
        let (suite, test) = text.split_once("::")?;
        let (package, binary) = suite.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        let test_ok = !test.is_empty()
            && test
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        (ok(package) && ok(binary) && test_ok).then(|| TestId {
            package: package.to_string(),
            binary: binary.to_string(),
            test: test.to_string(),
        })
    }
}

impl std::fmt::Display for TestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}::{}", self.package, self.binary, self.test)
    }
}

/// What an item checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Every one of these tests passes.
    Tests(Vec<TestId>),
    /// One check (one `Test: ...` banner) of a test that runs several; it
    /// passes when that banner is followed by the tester's `Passed` line.
    Banner {
        /// The test that prints the banner.
        test: TestId,
        /// The banner's start, e.g. `Test: progress in majority (3A)`.
        banner: String,
    },
    /// A code-quality check.
    Quality(Quality),
}

/// One graded line of the rubric.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The name reports show.
    pub name: String,
    /// The part or group it counts towards (e.g. `3A`), for reports.
    pub group: Option<String>,
    /// What it checks.
    pub check: Check,
    /// What it is worth.
    pub points: f64,
    /// Extra credit: counts in the total but not in the maximum.
    pub extra_credit: bool,
    /// Who sees it on Gradescope.
    pub visibility: Visibility,
    /// Simulated runs of its tests (`LAB_SIM=1`, one random seed each) on top
    /// of the real ones; the item passes only if every one passes too.
    pub sim_seeds: usize,
}

/// The most simulated seeds a rubric asks for one test.
pub const MAX_SIM_SEEDS: usize = 1000;

/// How tests run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// Runs per test.
    pub runs: usize,
    /// How runs become a verdict.
    pub policy: Policy,
    /// Wall-clock limit per test process, after which it is killed (the
    /// tester's own watchdog stops a test at 120 s).
    pub timeout_secs: u64,
    /// Address-space limit per test process.
    pub memory_mb: u64,
    /// Output kept per test process (the rest is counted, not kept).
    pub output_kb: usize,
    /// Wall-clock limit for building the submission.
    pub build_timeout_secs: u64,
    /// Whether a test must also print the tester's `... Passed --` line.
    pub require_passed_line: bool,
}

/// A parsed, checked rubric.
#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    /// The rubric's title.
    pub name: String,
    /// The manifest parts students write: only their files are taken from a
    /// submission.
    pub parts: Vec<String>,
    /// Parts handed out complete (this workspace's solution, as given code).
    pub provide: Vec<String>,
    /// The workspace path of each file a flat archive may hold, so a bare
    /// `server.rs` can be put in its place.
    pub files: Vec<String>,
    /// How tests run.
    pub run: RunSettings,
    /// The graded items, in report order.
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    name: String,
    parts: Vec<String>,
    #[serde(default)]
    provide: Vec<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    item: Vec<RawItem>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRun {
    runs: Option<usize>,
    policy: Option<Policy>,
    timeout_secs: Option<u64>,
    memory_mb: Option<u64>,
    output_kb: Option<usize>,
    build_timeout_secs: Option<u64>,
    require_passed_line: Option<bool>,
    visibility: Option<Visibility>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    name: String,
    group: Option<String>,
    test: Option<String>,
    tests: Option<Vec<String>>,
    banner: Option<String>,
    quality: Option<Quality>,
    points: f64,
    #[serde(default)]
    extra_credit: bool,
    visibility: Option<Visibility>,
    sim_seeds: Option<usize>,
}

impl Rubric {
    /// Reads and checks a rubric file.
    pub fn load(path: &Path) -> Result<Rubric, RubricError> {
        let text = std::fs::read_to_string(path).map_err(|e| RubricError {
            path: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        Rubric::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a rubric's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Rubric, RubricError> {
        let error = |message: String| RubricError {
            path: path.to_string(),
            message,
        };
        let raw: RawRubric =
            toml::from_str(text).map_err(|e| error(e.to_string().trim_end().to_string()))?;
        let visibility = raw.run.visibility.unwrap_or(Visibility::Visible);
        let run = RunSettings {
            runs: raw.run.runs.unwrap_or(1),
            policy: raw.run.policy.unwrap_or(Policy::All),
            timeout_secs: raw.run.timeout_secs.unwrap_or(150),
            memory_mb: raw.run.memory_mb.unwrap_or(8192),
            output_kb: raw.run.output_kb.unwrap_or(64),
            build_timeout_secs: raw.run.build_timeout_secs.unwrap_or(1800),
            require_passed_line: raw.run.require_passed_line.unwrap_or(true),
        };
        if run.runs == 0 {
            return Err(error("[run] runs must be at least 1".into()));
        }
        if run.timeout_secs == 0 || run.memory_mb == 0 || run.output_kb == 0 {
            return Err(error(
                "[run] timeout_secs, memory_mb and output_kb must be positive".into(),
            ));
        }
        if raw.parts.is_empty() {
            return Err(error(
                "parts is empty: name the manifest parts students write".into(),
            ));
        }
        let mut items = Vec::new();
        let mut names = BTreeSet::new();
        for raw_item in raw.item {
            let item = Rubric::item(raw_item, visibility).map_err(&error)?;
            if !names.insert(item.name.clone()) {
                return Err(error(format!("two items are named {:?}", item.name)));
            }
            items.push(item);
        }
        if items.is_empty() {
            return Err(error("no [[item]]: a rubric grades something".into()));
        }
        Ok(Rubric {
            name: raw.name,
            parts: raw.parts,
            provide: raw.provide,
            files: raw.files,
            run,
            items,
        })
    }

    fn item(raw: RawItem, default_visibility: Visibility) -> Result<Item, String> {
        let name = raw.name;
        let test_id = |text: &str| {
            TestId::parse(text).ok_or_else(|| {
                format!("item {name:?}: {text:?} is not a test of the form package/binary::test")
            })
        };
        let check = match (raw.test, raw.tests, raw.banner, raw.quality) {
            (Some(test), None, None, None) => Check::Tests(vec![test_id(&test)?]),
            (None, Some(tests), None, None) if !tests.is_empty() => {
                Check::Tests(tests.iter().map(|t| test_id(t)).collect::<Result<_, _>>()?)
            }
            (Some(test), None, Some(banner), None) if !banner.trim().is_empty() => Check::Banner {
                test: test_id(&test)?,
                banner: banner.trim().to_string(),
            },
            (None, None, None, Some(quality)) => Check::Quality(quality),
            _ => {
                return Err(format!(
                    "item {name:?}: give exactly one of `test`, `tests` (non-empty), `test` with `banner`, or `quality`"
                ));
            }
        };
        let sim_seeds = raw.sim_seeds.unwrap_or(0);
        if sim_seeds > 0 && matches!(check, Check::Quality(_)) {
            return Err(format!(
                "item {name:?}: sim_seeds needs tests to run, not a quality check"
            ));
        }
        if sim_seeds > MAX_SIM_SEEDS {
            return Err(format!(
                "item {name:?}: sim_seeds is at most {MAX_SIM_SEEDS}"
            ));
        }
        if !(raw.points.is_finite() && raw.points >= 0.0) {
            return Err(format!(
                "item {name:?}: points must be a number of at least 0"
            ));
        }
        Ok(Item {
            name,
            group: raw.group,
            check,
            points: raw.points,
            extra_credit: raw.extra_credit,
            visibility: raw.visibility.unwrap_or(default_visibility),
            sim_seeds,
        })
    }

    /// How many simulated seeds `test` gets: the most any item using it asks.
    pub fn sim_seeds(&self, test: &TestId) -> usize {
        self.items
            .iter()
            .filter(|item| match &item.check {
                Check::Tests(tests) => tests.contains(test),
                Check::Banner { test: t, .. } => t == test,
                Check::Quality(_) => false,
            })
            .map(|item| item.sim_seeds)
            .max()
            .unwrap_or(0)
    }

    /// Every test some item needs, each once, in first-use order.
    pub fn tests(&self) -> Vec<TestId> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for item in &self.items {
            let tests: Vec<&TestId> = match &item.check {
                Check::Tests(tests) => tests.iter().collect(),
                Check::Banner { test, .. } => vec![test],
                Check::Quality(_) => vec![],
            };
            for test in tests {
                if seen.insert(test.clone()) {
                    out.push(test.clone());
                }
            }
        }
        out
    }

    /// The most a submission can score without extra credit.
    pub fn max_points(&self) -> f64 {
        self.items
            .iter()
            .filter(|i| !i.extra_credit)
            .map(|i| i.points)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
name = "small"
parts = ["raft"]
files = ["raft/src/lib.rs"]
[run]
runs = 3
policy = "majority"
[[item]]
name = "election"
test = "raft/raft_test::initial_election_3a"
points = 5
[[item]]
name = "majority check"
test = "kvraft/classic_test::one_partition_3a"
banner = "Test: progress in majority (3A)"
points = 5
visibility = "hidden"
[[item]]
name = "both"
tests = ["raft/raft_test::initial_election_3a", "raft/raft_test::re_election_3a"]
points = 2.5
extra_credit = true
[[item]]
name = "style"
quality = "fmt"
points = 1
"#;

    #[test]
    fn a_rubric_parses_with_defaults_and_overrides() {
        let rubric = Rubric::parse(SMALL, "small.toml").unwrap();
        assert_eq!(rubric.run.runs, 3);
        assert_eq!(rubric.run.policy, Policy::Majority);
        assert_eq!(rubric.run.timeout_secs, 150);
        assert_eq!(rubric.items.len(), 4);
        assert_eq!(rubric.items[1].visibility, Visibility::Hidden);
        assert_eq!(rubric.max_points(), 11.0);
        let tests: Vec<String> = rubric.tests().iter().map(|t| t.to_string()).collect();
        assert_eq!(
            tests,
            [
                "raft/raft_test::initial_election_3a",
                "kvraft/classic_test::one_partition_3a",
                "raft/raft_test::re_election_3a"
            ]
        );
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                SMALL.replace(
                    "points = 5\n[[item]]\nname = \"majority",
                    "points = -1\n[[item]]\nname = \"majority",
                ),
                "points must be",
            ),
            (
                SMALL.replace(
                    "raft/raft_test::initial_election_3a\"\npoints",
                    "initial_election_3a\"\npoints",
                ),
                "package/binary::test",
            ),
            (
                SMALL.replace("name = \"both\"", "name = \"election\""),
                "two items are named",
            ),
            (
                SMALL.replace("quality = \"fmt\"", "quality = \"lint\""),
                "unknown variant",
            ),
            (SMALL.replace("runs = 3", "runs = 0"), "at least 1"),
            (
                SMALL.replace("policy = \"majority\"", "polcy = \"majority\""),
                "unknown field",
            ),
            (
                SMALL.replace(
                    "quality = \"fmt\"",
                    "quality = \"fmt\"\ntest = \"raft/raft_test::x\"",
                ),
                "exactly one of",
            ),
            (
                SMALL.replace("quality = \"fmt\"", "quality = \"fmt\"\nsim_seeds = 3"),
                "sim_seeds needs tests",
            ),
            (
                SMALL.replace("points = 5\n", "points = 5\nsim_seeds = 5000\n"),
                "sim_seeds is at most",
            ),
        ];
        for (text, expected) in cases {
            let error = Rubric::parse(&text, "r.toml").unwrap_err().to_string();
            assert!(
                error.contains(expected),
                "{error:?} should say {expected:?}"
            );
            assert!(error.starts_with("rubric r.toml: "), "{error}");
        }
    }

    #[test]
    fn simulated_seeds_go_to_the_items_tests() {
        let text = SMALL.replace("points = 5\n", "points = 5\nsim_seeds = 4\n");
        let rubric = Rubric::parse(&text, "r.toml").unwrap();
        let with: Vec<usize> = rubric.tests().iter().map(|t| rubric.sim_seeds(t)).collect();
        assert!(with.contains(&4), "{with:?}");
        assert!(with.contains(&0), "tests of other items get none: {with:?}");
        let plain = Rubric::parse(SMALL, "r.toml").unwrap();
        assert!(plain.tests().iter().all(|t| plain.sim_seeds(t) == 0));
    }

    #[test]
    fn policies_decide_as_named() {
        assert!(Policy::All.passes(3, 3) && !Policy::All.passes(2, 3));
        assert!(Policy::Majority.passes(2, 3) && !Policy::Majority.passes(1, 2));
        assert!(Policy::Best.passes(1, 5) && !Policy::Best.passes(0, 5));
    }

    /// Every shipped rubric parses, and every test it names is a test
    /// function of that package's test target in this workspace (a renamed
    /// test would otherwise score 0 for everyone).
    #[test]
    fn shipped_rubrics_name_tests_that_exist() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = root.join("labtools/rubrics");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let rubric = Rubric::load(&path).unwrap_or_else(|e| panic!("{e}"));
            for id in rubric.tests() {
                let source = root
                    .join(&id.package)
                    .join("tests")
                    .join(format!("{}.rs", id.binary));
                let text = std::fs::read_to_string(&source)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", path.display(), source.display()));
                assert!(
                    text.contains(&format!("fn {}()", id.test)),
                    "{}: no test {} in {}",
                    path.display(),
                    id.test,
                    source.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 50, "checked only {checked} tests");
    }
}
