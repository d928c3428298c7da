//! dstest: run chosen tests many times, in parallel, each run with a fresh
//! `LAB_SEED`, and keep the logs of the failing runs only.
//!
//! ```text
//! cargo run -p tester --release --bin dstest -- -p raft 3a -n 100 -j 2
//! ```
//!
//! It builds the test binaries once (`cargo test --no-run`), lists their tests,
//! runs each chosen test N times as `<binary> --exact <name> --nocapture
//! --test-threads 1` in the crate's directory, J runs at once, with a live
//! progress bar; then prints a table per test (runs, failures, mean and max
//! time), the failing runs with their seed and replay command, and an optional
//! score table, and writes `results.json` and `junit.xml`. Exit status 0 if
//! every run passed, 1 if any failed, 2 if the tests could not be set up.
//! See docs/DEBUGGING.md.

mod cargo;
mod cli;
mod junit;
mod points;
mod progress;
mod results;
mod run;
mod select;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use rand::Rng;

use crate::cargo::Workspace;
use crate::cli::Args;
use crate::points::Points;
use crate::progress::Progress;
use crate::results::{Report, Score};
use crate::run::{Event, RunResult, RunSettings, RunSpec};
use crate::select::{NameFilter, Test};

fn main() -> ExitCode {
    let args = Args::parse();
    match dstest(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("dstest: error: {err}");
            ExitCode::from(2)
        }
    }
}

/// Does everything; `Ok(true)` if every run passed.
fn dstest(args: &Args) -> Result<bool, String> {
    let points = args.points.as_deref().map(Points::load).transpose()?;
    let workspace = Workspace::load(args.manifest_path.as_deref()).map_err(|e| e.to_string())?;
    let packages = match &points {
        Some(points) if args.packages.is_empty() && !args.workspace => points.packages(),
        _ => args.packages.clone(),
    };
    let (tests, build_complete) = find_tests(args, &packages, &workspace, points.as_ref())?;
    if !build_complete {
        eprintln!(
            "dstest: warning: some test targets did not compile (--keep-going); \
             their tests are missing and the exit status will be 1"
        );
    }
    if args.list {
        for test in &tests {
            println!("{}", test.label());
        }
        return Ok(true);
    }

    let output = match &args.output {
        Some(dir) => dir.clone(),
        None => fresh_dir(&workspace.workspace_root.join("out").join("dstest"))?,
    };
    let settings = RunSettings {
        scratch: args
            .log_dir
            .clone()
            .unwrap_or_else(|| output.join("scratch")),
        failures: output.join("failures"),
        debug_log: !args.no_debug_log,
        timeout: Duration::from_secs(args.timeout),
        release: args.release,
    };
    std::fs::create_dir_all(&output)
        .map_err(|e| format!("cannot create {}: {e}", output.display()))?;

    let plan = plan(tests.len(), args.iterations, args.seed);
    let planned = plan.len();
    eprintln!(
        "dstest: {} test{} x {} run{}, {} at once; output in {}",
        tests.len(),
        plural(tests.len()),
        args.iterations,
        plural(args.iterations as usize),
        args.jobs,
        output.display()
    );
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let start = Instant::now();
    let results = execute(args, &tests, plan, &settings);
    let elapsed_secs = start.elapsed().as_secs_f64();
    // Only succeeds if nothing was left in it (it is ours when defaulted).
    let _ = std::fs::remove_dir(&settings.scratch);

    let stats = results::stats(&tests, &results);
    let failures = results.iter().filter(|r| r.outcome.is_failure()).count();
    println!("{}", results::stats_table(&tests, &stats));
    if failures > 0 {
        println!("{}", results::failure_list(&tests, &results));
    }
    if results.len() < planned {
        println!(
            "stopped after the first failure: {} of {planned} runs done\n",
            results.len()
        );
    }
    let score_lines = points.as_ref().map(|p| p.score(&stats));
    if let Some(lines) = &score_lines {
        println!("{}", points::score_table(lines));
    }

    let report = Report {
        command: std::env::args().collect(),
        started_unix,
        elapsed_secs,
        iterations: args.iterations,
        jobs: args.jobs,
        seed: args.seed,
        release: args.release,
        build_complete,
        runs: results.len() as u32,
        failures: failures as u32,
        tests: results::test_reports(&stats, &results),
        score: score_lines.as_deref().map(|lines| {
            let (possible, earned) = points::totals(lines);
            Score {
                lines,
                possible,
                earned,
            }
        }),
    };
    let json_path = output.join("results.json");
    results::write_json(&json_path, &report)?;
    let junit_path = output.join("junit.xml");
    std::fs::write(&junit_path, junit::junit(&tests, &results, elapsed_secs))
        .map_err(|e| format!("cannot write {}: {e}", junit_path.display()))?;
    println!(
        "{} of {} runs failed in {elapsed_secs:.1}s; wrote {} and {}",
        failures,
        results.len(),
        json_path.display(),
        junit_path.display()
    );
    if !build_complete {
        println!("some test targets did not compile: their tests are missing from these results");
    }
    Ok(failures == 0 && build_complete)
}

/// Builds, lists and chooses the tests; also says whether every target built.
fn find_tests(
    args: &Args,
    packages: &[String],
    workspace: &Workspace,
    points: Option<&Points>,
) -> Result<(Vec<Test>, bool), String> {
    let built = cargo::build_tests(args, packages, workspace).map_err(|e| e.to_string())?;
    let mut listed = Vec::new();
    for binary in built.binaries {
        let binary = Arc::new(binary);
        for (name, ignored) in cargo::list_tests(&binary).map_err(|e| e.to_string())? {
            listed.push(Test {
                binary: binary.clone(),
                name,
                ignored,
            });
        }
    }
    let filter = NameFilter {
        patterns: args.filters.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
    };
    let only_points = |package: &str, test: &str| points.is_some_and(|p| p.contains(package, test));
    let restrict: Option<select::Only> =
        (points.is_some() && args.filters.is_empty()).then_some(&only_points);
    let tests = select::choose(listed, &filter, args.include_ignored, restrict);
    if tests.is_empty() {
        return Err("no tests match the crates and filters given (try --list)".to_string());
    }
    Ok((tests, built.complete))
}

/// Every run, repetition-major so that stopping early still covers every test.
fn plan(tests: usize, iterations: u32, fixed_seed: Option<u64>) -> Vec<RunSpec> {
    let mut rng = rand::rng();
    let mut plan = Vec::new();
    for iteration in 0..iterations {
        for test in 0..tests {
            // Below 2^62, like the Go tester's seeds.
            let seed = fixed_seed.unwrap_or_else(|| rng.random_range(0..1u64 << 62));
            plan.push(RunSpec {
                test,
                iteration,
                seed,
                id: plan.len(),
            });
        }
    }
    plan
}

/// Runs the plan with a progress bar; returns the results in finishing order.
fn execute(
    args: &Args,
    tests: &[Test],
    plan: Vec<RunSpec>,
    settings: &RunSettings,
) -> Vec<RunResult> {
    let mut progress = Progress::new(plan.len() as u64);
    let stop = AtomicBool::new(false);
    let (events_tx, events_rx) = crossbeam::channel::unbounded();
    let mut results = Vec::new();
    std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            run::run_all(tests, plan, args.jobs as usize, settings, events_tx, stop)
        });
        for event in events_rx.iter() {
            match event {
                Event::Started(spec) => progress.started(spec.id, tests[spec.test].label()),
                Event::Finished(result) => {
                    let failure = result.outcome.is_failure().then(|| {
                        format!(
                            "FAIL {} (seed {}): {}{}",
                            tests[result.test].label(),
                            result.seed,
                            result.reason.as_deref().unwrap_or("failed"),
                            result
                                .kept
                                .as_ref()
                                .map(|k| format!("; logs in {}", k.display()))
                                .unwrap_or_default()
                        )
                    });
                    if failure.is_some() && args.fail_fast {
                        stop.store(true, Ordering::Release);
                    }
                    progress.finished(run_id(&result, tests.len()), failure);
                    results.push(result);
                }
            }
        }
    });
    progress.finish();
    results
}

/// The id `plan` gave this run.
fn run_id(result: &RunResult, tests: usize) -> usize {
    result.iteration as usize * tests + result.test
}

/// A new directory under `parent` named after the current UTC time.
fn fresh_dir(parent: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(secs);
    for attempt in 1.. {
        let name = if attempt == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{attempt}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
    unreachable!("the loop returns")
}

/// `YYYYMMDD-HHMMSS` (UTC) for seconds since the Unix epoch.
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps_match_known_dates() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_767_225_599), "20251231-235959");
        assert_eq!(utc_stamp(1_709_210_096), "20240229-123456");
    }

    #[test]
    fn plan_is_repetition_major_with_ids_in_order() {
        let plan = plan(2, 3, Some(9));
        let order: Vec<(u32, usize, usize)> =
            plan.iter().map(|s| (s.iteration, s.test, s.id)).collect();
        assert_eq!(
            order,
            [
                (0, 0, 0),
                (0, 1, 1),
                (1, 0, 2),
                (1, 1, 3),
                (2, 0, 4),
                (2, 1, 5)
            ]
        );
        assert!(plan.iter().all(|s| s.seed == 9));
        let results: Vec<RunResult> = plan
            .iter()
            .map(|s| crate::results::tests::result(s.test, s.iteration, run::Outcome::Passed, 1.0))
            .collect();
        for (spec, result) in plan.iter().zip(&results) {
            assert_eq!(run_id(result, 2), spec.id);
        }
    }

    #[test]
    fn random_seeds_are_below_two_to_the_62() {
        let plan = plan(5, 20, None);
        assert!(plan.iter().all(|s| s.seed < 1 << 62));
        let distinct: std::collections::HashSet<u64> = plan.iter().map(|s| s.seed).collect();
        assert!(distinct.len() > 90, "seeds repeat: {}", distinct.len());
    }
}
