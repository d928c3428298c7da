//! The grader: a submission's student-owned files over a pristine handout,
//! the rubric's tests each in its own limited process, and the scores.
//!
//! [`grade`] does one submission; `batch` does a folder of them; `format`
//! writes the reports (a table, JSON, Gradescope's results.json, Autolab's
//! scores line, JUnit XML); `bundle` writes a Gradescope autograder.
//! docs/GRADING.md is the guide.

pub mod batch;
pub mod bundle;
pub mod compile;
pub mod format;
pub mod limits;
pub mod quality;
pub mod rubric;
pub mod submission;
pub mod verdict;
pub mod workdir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::manifest::Manifest;
use rubric::{Check, Quality, Rubric, TestId};
use verdict::RunStatus;
use workdir::Pristine;

/// How to grade.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the pristine tree comes from.
    pub pristine: Pristine,
    /// The rubric.
    pub rubric: Rubric,
    /// Test processes at once.
    pub jobs: usize,
    /// Runs per test, instead of the rubric's.
    pub runs: Option<usize>,
    /// A cargo target folder kept between submissions (dependencies build
    /// once); default: one inside the grading tree, removed with it.
    pub target_dir: Option<PathBuf>,
    /// Build without the network (dependencies fetched beforehand).
    pub offline: bool,
    /// The executable that applies the limits (`grade` itself).
    pub trampoline: PathBuf,
    /// Print a line per finished run on standard error.
    pub progress: bool,
    /// Where to make the grading tree (a fixed path, emptied first and
    /// removed after), so that with a kept `target_dir` only what the
    /// submission changes is rebuilt; default: a new temporary folder.
    pub tree_at: Option<PathBuf>,
}

/// One run of one test.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How it ended.
    pub status: RunStatus,
    /// Its exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Its output, capped.
    pub output: String,
    /// Its standard-output lines, for the banner checks.
    #[serde(skip)]
    pub lines: Vec<String>,
}

/// The runs of one test.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// `package/binary::test`.
    pub test: String,
    /// Whether the runs pass under the rubric's policy (and every simulated
    /// run passes).
    pub passed: bool,
    /// Each run.
    pub runs: Vec<RunReport>,
    /// Each simulated run (`LAB_SIM=1`), with its seed.
    pub simulated: Vec<SimRun>,
}

/// One simulated run of a test, replayable exactly from its seed.
#[derive(Debug, Clone, Serialize)]
pub struct SimRun {
    /// The `LAB_SEED` it ran with.
    pub seed: u64,
    /// The command that replays it exactly.
    pub replay: String,
    /// The run.
    pub run: RunReport,
}

/// One rubric item's result.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// The item's name.
    pub name: String,
    /// Its group (part), if any.
    pub group: Option<String>,
    /// Points earned.
    pub score: f64,
    /// Points it is worth.
    pub max_score: f64,
    /// Extra credit.
    pub extra_credit: bool,
    /// Whether it passed.
    pub passed: bool,
    /// Gradescope visibility.
    pub visibility: rubric::Visibility,
    /// Why it passed or failed, and the output that shows it.
    pub output: String,
}

/// A graded submission.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The rubric's name.
    pub rubric: String,
    /// The submission, as given.
    pub submission: String,
    /// Total points, extra credit included.
    pub score: f64,
    /// The maximum without extra credit.
    pub max_score: f64,
    /// Wall-clock seconds for the whole grading.
    pub seconds: f64,
    /// Why the submission could not be graded at all (unreadable archive),
    /// if so.
    pub error: Option<String>,
    /// How the submission's paths were read, when not as they are.
    pub mapping: Option<String>,
    /// Workspace paths taken from the submission.
    pub laid: Vec<String>,
    /// Submission files not taken: not student-owned under this rubric (a
    /// changed test, Cargo.toml, a build script...).
    pub ignored: Vec<String>,
    /// Archive entries not read (links, unsafe paths, build output).
    pub skipped: Vec<String>,
    /// The build.
    pub build: compile::Build,
    /// Each item.
    pub items: Vec<ItemReport>,
    /// Each test's runs.
    pub tests: Vec<TestReport>,
}

impl Report {
    fn empty(config: &Config, submission: &Path) -> Report {
        Report {
            rubric: config.rubric.name.clone(),
            submission: submission.display().to_string(),
            score: 0.0,
            max_score: config.rubric.max_points(),
            seconds: 0.0,
            error: None,
            mapping: None,
            laid: Vec::new(),
            ignored: Vec::new(),
            skipped: Vec::new(),
            build: compile::Build::default(),
            items: Vec::new(),
            tests: Vec::new(),
        }
    }
}

/// The pristine tree's root.
fn pristine_root(pristine: &Pristine) -> &Path {
    match pristine {
        Pristine::Workspace(root) | Pristine::Handout(root) => root,
    }
}

/// Grades one submission. An unreadable or non-compiling submission still
/// gets a report (scoring 0); `Err` is the grader's own trouble (no
/// manifest, no temporary folder, cargo missing).
pub fn grade(config: &Config, submission: &Path) -> Result<Report, String> {
    let started = Instant::now();
    let rubric = &config.rubric;
    let manifest = Manifest::load(pristine_root(&config.pristine)).map_err(|e| e.to_string())?;
    workdir::check_parts(&manifest, rubric)?;
    let mut report = Report::empty(config, submission);
    let owned = |path: &str| workdir::owned_by(&manifest, rubric, path);
    let staged = match submission::stage(submission, &owned, &rubric.files, Default::default()) {
        Ok(staged) => Some(staged),
        Err(e) => {
            report.error = Some(e.to_string());
            None
        }
    };
    if let Some(staged) = &staged {
        report.skipped = staged.skipped.clone();
        report.mapping = staged.mapping.clone();
    }
    let tree = workdir::grading_tree(
        &config.pristine,
        rubric,
        staged.as_ref(),
        config.tree_at.as_deref(),
    )?;
    drop(staged);
    report.laid = tree.laid.clone();
    report.ignored = tree.ignored.clone();
    if report.error.is_none() && report.laid.is_empty() {
        report.error = Some(format!(
            "the submission holds none of the files students write under this rubric (parts: {})",
            rubric.parts.join(", ")
        ));
    }
    if report.error.is_some() {
        score(config, &mut report);
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let target_dir = config
        .target_dir
        .clone()
        .unwrap_or_else(|| tree.root().join("target"));
    let _lock = lock_target(&target_dir, config.progress)?;
    let tests = rubric.tests();
    let mut suites: Vec<(String, String)> = tests
        .iter()
        .map(|t| (t.package.clone(), t.binary.clone()))
        .collect();
    suites.sort();
    suites.dedup();
    if config.progress {
        eprintln!(
            "grade: building {} test binaries of {}",
            suites.len(),
            submission.display()
        );
    }
    let build_timeout = Duration::from_secs(rubric.run.build_timeout_secs);
    report.build = compile::build_tests(
        tree.root(),
        &target_dir,
        &suites,
        build_timeout,
        config.offline,
    )?;
    if report.build.ok {
        report.tests = run_tests(config, &report.build, &tests);
        let any_test_passed = passes_any_test_item(rubric, &report.tests);
        let mut quality = BTreeMap::new();
        for item in &rubric.items {
            if let Check::Quality(kind) = item.check
                && !quality.contains_key(&kind)
            {
                let result = if !any_test_passed {
                    quality::QualityResult {
                        passed: false,
                        output:
                            "not checked: code-quality points need at least one passing test item"
                                .into(),
                    }
                } else {
                    match kind {
                        Quality::Fmt => quality::fmt(tree.root(), &report.laid),
                        Quality::Clippy => quality::clippy(
                            tree.root(),
                            &target_dir,
                            &report.laid,
                            build_timeout,
                            config.offline,
                        ),
                    }
                };
                quality.insert(kind, result);
            }
        }
        score_with(config, &mut report, &quality);
    } else {
        score(config, &mut report);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Takes the target folder for this grading alone. Cargo names build outputs
/// by package, not by folder, so two trees building into one target folder
/// at once would overwrite each other's test binaries, even while they run;
/// gradings that share a target folder therefore wait for each other (a batch
/// gives each of its workers its own).
fn lock_target(target_dir: &Path, progress: bool) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(target_dir).map_err(|e| format!("{}: {e}", target_dir.display()))?;
    let path = target_dir.join(".grade-lock");
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            if progress {
                eprintln!(
                    "grade: waiting for another grading that builds into {}",
                    target_dir.display()
                );
            }
            file.lock()
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(format!("{}: {e}", path.display())),
    }
    Ok(file)
}

/// The environment a test process gets: nothing of the grader's but the
/// basics, and what `cargo test` would set.
fn test_env(package: &str, package_dir: &Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for key in ["PATH", "HOME", "TMPDIR", "LANG"] {
        if let Ok(value) = std::env::var(key) {
            env.push((key.to_string(), value));
        }
    }
    env.push((
        "CARGO_MANIFEST_DIR".into(),
        package_dir.display().to_string(),
    ));
    env.push(("CARGO_PKG_NAME".into(), package.to_string()));
    env
}

/// Runs every test `runs` times, `jobs` processes at a time.
fn run_tests(config: &Config, build: &compile::Build, tests: &[TestId]) -> Vec<TestReport> {
    let rubric = &config.rubric;
    let runs = config.runs.unwrap_or(rubric.run.runs);
    let limits = limits::Limits {
        wall: Duration::from_secs(rubric.run.timeout_secs),
        memory_bytes: rubric.run.memory_mb << 20,
        output_bytes: rubric.run.output_kb << 10,
    };
    let (work_tx, work_rx) = crossbeam::channel::unbounded();
    for _ in 0..runs {
        for index in 0..tests.len() {
            work_tx.send((index, None)).expect("queue is open");
        }
    }
    // Fresh seeds each grading (a student cannot tune to them), named in the
    // report so that the student replays exactly what the grader saw.
    let base: u64 = rand::random();
    let mut total = runs * tests.len();
    for (index, test) in tests.iter().enumerate() {
        for k in 0..rubric.sim_seeds(test) {
            let seed = base
                .wrapping_add((index as u64) << 20)
                .wrapping_add(k as u64);
            work_tx.send((index, Some(seed))).expect("queue is open");
            total += 1;
        }
    }
    drop(work_tx);
    let results = parking_lot::Mutex::new(vec![Vec::new(); tests.len()]);
    let simulated = parking_lot::Mutex::new(vec![Vec::new(); tests.len()]);
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| {
                while let Ok((index, sim_seed)) = work_rx.recv() {
                    let test = &tests[index];
                    let key = format!("{}/{}", test.package, test.binary);
                    let run = match build.executables.get(&key) {
                        None => RunReport {
                            status: RunStatus::Incomplete,
                            exit_code: None,
                            seconds: 0.0,
                            output: format!("no test binary {key} was built"),
                            lines: Vec::new(),
                        },
                        Some(exe) => run_one(config, exe, test, &limits, sim_seed),
                    };
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    if config.progress {
                        eprintln!(
                            "grade: [{n}/{total}] {test}{}: {} ({:.1} s)",
                            sim_seed.map_or(String::new(), |s| format!(" (simulated, seed {s})")),
                            run.status.describe(),
                            run.seconds
                        );
                    }
                    match sim_seed {
                        None => results.lock()[index].push(run),
                        Some(seed) => simulated.lock()[index].push(SimRun {
                            seed,
                            replay: format!(
                                "LAB_SIM=1 LAB_SEED={seed} cargo test -p {} --test {} -- --exact {}",
                                test.package, test.binary, test.test
                            ),
                            run,
                        }),
                    }
                }
            });
        }
    });
    let policy = rubric.run.policy;
    results
        .into_inner()
        .into_iter()
        .zip(simulated.into_inner())
        .zip(tests)
        .map(|((runs, mut simulated), test)| {
            let passed = runs
                .iter()
                .filter(|r| r.status == RunStatus::Passed)
                .count();
            simulated.sort_by_key(|s| s.seed);
            let sim_ok = simulated.iter().all(|s| s.run.status == RunStatus::Passed);
            TestReport {
                test: test.to_string(),
                passed: policy.passes(passed, runs.len()) && sim_ok,
                runs,
                simulated,
            }
        })
        .collect()
}

fn run_one(
    config: &Config,
    exe: &compile::Executable,
    test: &TestId,
    limits: &limits::Limits,
    sim_seed: Option<u64>,
) -> RunReport {
    let args: Vec<String> = ["--exact", &test.test, "--nocapture", "--test-threads", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut env = test_env(&test.package, &exe.package_dir);
    if let Some(seed) = sim_seed {
        env.push(("LAB_SIM".into(), "1".into()));
        env.push(("LAB_SEED".into(), seed.to_string()));
    }
    match limits::run(
        &config.trampoline,
        &exe.path,
        &args,
        &exe.package_dir,
        &env,
        limits,
    ) {
        Err(e) => RunReport {
            status: RunStatus::Incomplete,
            exit_code: None,
            seconds: 0.0,
            output: format!("cannot start the test: {e}"),
            lines: Vec::new(),
        },
        Ok(outcome) => {
            let exit_ok = outcome.status.is_some_and(|s| s.success());
            let status = verdict::judge(
                exit_ok,
                outcome.timed_out,
                &outcome.stdout_lines,
                &test.test,
                config.rubric.run.require_passed_line,
            );
            let mut output = outcome.output;
            if outcome.timed_out {
                output.push_str(&format!(
                    "\ngrade: killed after the {} s limit\n",
                    config.rubric.run.timeout_secs
                ));
            }
            RunReport {
                status,
                exit_code: outcome.status.and_then(|s| s.code()),
                seconds: outcome.seconds,
                output,
                lines: outcome.stdout_lines,
            }
        }
    }
}

fn passes_any_test_item(rubric: &Rubric, tests: &[TestReport]) -> bool {
    let by_name: BTreeMap<&str, &TestReport> = tests.iter().map(|t| (t.test.as_str(), t)).collect();
    rubric
        .items
        .iter()
        .any(|item| item_result(item, &by_name, &BTreeMap::new(), rubric).0)
}

/// Whether an item passed, and the text that says why.
fn item_result(
    item: &rubric::Item,
    tests: &BTreeMap<&str, &TestReport>,
    quality: &BTreeMap<Quality, quality::QualityResult>,
    rubric: &Rubric,
) -> (bool, String) {
    match &item.check {
        Check::Tests(ids) => {
            let mut passed = true;
            let mut text = String::new();
            for id in ids {
                let key = id.to_string();
                match tests.get(key.as_str()) {
                    Some(report) => {
                        passed &= report.passed;
                        text.push_str(&describe_runs(report));
                    }
                    None => {
                        passed = false;
                        text.push_str(&format!("{key}: not run\n"));
                    }
                }
            }
            (passed, text)
        }
        Check::Banner { test, banner } => {
            let key = test.to_string();
            let Some(report) = tests.get(key.as_str()) else {
                return (false, format!("{key}: not run\n"));
            };
            let good = report
                .runs
                .iter()
                .filter(|r| verdict::banner_passed(&r.lines, &test.test, banner))
                .count();
            let passed = rubric.run.policy.passes(good, report.runs.len());
            let text = format!(
                "check {banner:?} of {key}: passed in {good} of {} run(s)\n{}",
                report.runs.len(),
                describe_runs(report)
            );
            (passed, text)
        }
        Check::Quality(kind) => match quality.get(kind) {
            Some(result) => (result.passed, result.output.clone()),
            None => (false, "not checked".into()),
        },
    }
}

fn describe_runs(report: &TestReport) -> String {
    let mut text = String::new();
    for (i, run) in report.runs.iter().enumerate() {
        text.push_str(&format!(
            "{} run {}: {} ({:.1} s)\n",
            report.test,
            i + 1,
            run.status.describe(),
            run.seconds
        ));
    }
    for sim in &report.simulated {
        text.push_str(&format!(
            "{} simulated, seed {}: {} ({:.1} s)\n",
            report.test,
            sim.seed,
            sim.run.status.describe(),
            sim.run.seconds
        ));
    }
    if let Some(bad) = report.runs.iter().find(|r| r.status != RunStatus::Passed) {
        text.push_str(&bad.output);
    } else if let Some(bad) = report
        .simulated
        .iter()
        .find(|s| s.run.status != RunStatus::Passed)
    {
        text.push_str(&format!(
            "the simulated run with seed {} failed; replay it exactly with\n  {}\n",
            bad.seed, bad.replay
        ));
        text.push_str(&bad.run.output);
    } else if let Some(good) = report.runs.first() {
        text.push_str(&good.output);
    }
    text
}

fn score(config: &Config, report: &mut Report) {
    score_with(config, report, &BTreeMap::new());
}

fn score_with(
    config: &Config,
    report: &mut Report,
    quality: &BTreeMap<Quality, quality::QualityResult>,
) {
    let rubric = &config.rubric;
    let by_name: BTreeMap<&str, &TestReport> =
        report.tests.iter().map(|t| (t.test.as_str(), t)).collect();
    let reason = report.error.clone().or_else(|| {
        (!report.build.ok).then(|| {
            format!(
                "the submission does not compile:\n{}",
                report.build.errors.join("\n")
            )
        })
    });
    let mut items = Vec::new();
    for item in &rubric.items {
        let (passed, output) = match &reason {
            Some(reason) => (false, reason.clone()),
            None => item_result(item, &by_name, quality, rubric),
        };
        items.push(ItemReport {
            name: item.name.clone(),
            group: item.group.clone(),
            score: if passed { item.points } else { 0.0 },
            max_score: item.points,
            extra_credit: item.extra_credit,
            passed,
            visibility: item.visibility,
            output,
        });
    }
    report.score = items.iter().map(|i| i.score).sum();
    report.items = items;
}
