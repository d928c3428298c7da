//! dstest: run chosen tests many times, in parallel, each run with a fresh
//! `LAB_SEED`, and keep the logs of the failing runs only.
//!
//! ```text
//! cargo run -p labtools --release --bin dstest -- -p raft 3a -n 100 -j 2
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

mod caps;
mod cargo;
mod cli;
mod gate;
mod junit;
mod output_dir;
mod points;
mod progress;
mod results;
mod run;
mod schedule;
mod select;
mod shrink;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use crate::cargo::Workspace;
use crate::cli::Args;
use crate::points::Points;
use crate::results::{Report, Score};
use crate::run::RunSettings;
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
        None => output_dir::fresh_dir(&workspace.workspace_root.join("out").join("dstest"))?,
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
        sim: args.sim,
        swarm_config: None,
    };
    std::fs::create_dir_all(&output)
        .map_err(|e| format!("cannot create {}: {e}", output.display()))?;

    let caps = match &args.caps {
        Some(profile) => Some(caps::Caps::load(
            &workspace
                .workspace_root
                .join(".config")
                .join("nextest.toml"),
            profile,
        )?),
        None => None,
    };
    let plan = schedule::plan(tests.len(), args.iterations, args.seed);
    let planned = plan.len();
    let caps_note = match (&args.caps, &caps) {
        (Some(profile), Some(caps)) => {
            let groups: Vec<String> = caps
                .limits
                .iter()
                .map(|(g, n)| format!("{g} {n}"))
                .collect();
            format!(
                " (per suite as nextest profile {profile}: {})",
                groups.join(", ")
            )
        }
        _ => String::new(),
    };
    eprintln!(
        "dstest: {} test{} x {} run{}, {} at once{caps_note}; output in {}",
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
    let results = schedule::execute(args, &tests, plan, caps.as_ref(), &settings);
    let elapsed_secs = start.elapsed().as_secs_f64();
    // Only succeeds if nothing was left in it (it is ours when defaulted).
    let _ = std::fs::remove_dir(&settings.scratch);

    let stats = results::stats(&tests, &results);
    let failures = results.iter().filter(|r| r.outcome.is_failure()).count();
    println!("{}", results::stats_table(&tests, &stats));
    if failures > 0 {
        println!("{}", results::failure_list(&tests, &results));
    }
    if args.sim && args.shrink_runs > 0 && failures > 0 {
        shrink_failures(&tests, &results, &settings, args.shrink_runs, &output);
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
        "{} of {} runs failed in {elapsed_secs:.1}s ({:.0} runs a minute{}); wrote {} and {}",
        failures,
        results.len(),
        results.len() as f64 * 60.0 / elapsed_secs.max(1e-9),
        if args.sim { ", simulated" } else { "" },
        json_path.display(),
        junit_path.display()
    );
    if !build_complete {
        println!("some test targets did not compile: their tests are missing from these results");
    }
    Ok(failures == 0 && build_complete)
}

/// For the first failing run of each failing swarm test (at most three
/// tests), finds the smallest configuration that still fails, prints it with
/// its replay command, and writes them to `<output>/shrunk.txt`.
fn shrink_failures(
    tests: &[Test],
    results: &[run::RunResult],
    settings: &RunSettings,
    budget: u32,
    output: &std::path::Path,
) {
    let mut report = String::new();
    let mut done = Vec::new();
    let mut next_id = 1_000_000;
    for failed in results.iter().filter(|r| r.outcome.is_failure()) {
        if done.contains(&failed.test) || done.len() >= 3 {
            continue;
        }
        done.push(failed.test);
        let test = &tests[failed.test];
        let mut shrink_settings = settings.clone();
        shrink_settings.failures = output.join("shrink");
        let Some(shrunk) = shrink::shrink(test, failed, &shrink_settings, budget, next_id) else {
            continue;
        };
        next_id += budget as usize;
        let text = if shrunk.to == shrunk.from {
            format!(
                "shrinking {} (seed {}): no simpler configuration failed in {} runs: {}\n  replay: {}\n",
                test.label(),
                failed.seed,
                shrunk.runs,
                shrunk.from,
                failed.replay
            )
        } else {
            format!(
                "shrinking {} (seed {}) in {} runs:\n  from: {}\n  to:   {}\n  replay: {}\n",
                test.label(),
                failed.seed,
                shrunk.runs,
                shrunk.from,
                shrunk.to,
                shrink::replay(&failed.replay, failed.seed, &shrunk)
            )
        };
        println!("{text}");
        report.push_str(&text);
    }
    if !report.is_empty() {
        let path = output.join("shrunk.txt");
        if let Err(e) = std::fs::write(&path, report) {
            eprintln!("dstest: cannot write {}: {e}", path.display());
        }
    }
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
