//! grade: grades submissions against a course's rubric.
//!
//! ```text
//! cargo run -p labtools --bin grade -- --rubric 6.5840-2025 --submission alice.tar.gz
//! cargo run -p labtools --bin grade -- --rubric gmu-cs475-lab3 --batch submissions/ --jobs 4
//! cargo run -p labtools --bin grade -- gradescope-bundle --rubric 6.5840-2025 --out autograder.zip
//! ```
//!
//! A fresh handout is made for every submission and only its student-owned
//! files are laid over it; every rubric test runs in its own process under a
//! wall-clock limit, a memory limit and an output cap. docs/GRADING.md is the
//! guide.
//!
//! Exit status: 0 graded (whatever the score), 2 bad flags, a bad rubric, or
//! the grader could not work (no cargo, no workspace).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use labtools::grade::format::{self, Format};
use labtools::grade::rubric::Rubric;
use labtools::grade::workdir::Pristine;
use labtools::grade::{self, Config, batch, bundle, limits};
use labtools::manifest::MANIFEST_PATH;

/// Where the shipped rubrics are, in the workspace.
const RUBRICS_DIR: &str = "labtools/rubrics";

#[derive(Parser)]
#[command(
    name = "grade",
    version,
    about = "Grade submissions against a course's rubric: the student's files over a pristine handout, each test in its own limited process",
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(clap::Args)]
struct GradeArgs {
    /// The rubric: a TOML file, or the name of a shipped one (e.g. 6.5840-2025).
    #[arg(long, value_name = "RUBRIC")]
    rubric: Option<String>,
    /// One submission: a folder, or a .tar, .tar.gz, .tgz or .zip archive.
    #[arg(long, value_name = "PATH", conflicts_with = "batch")]
    submission: Option<PathBuf>,
    /// A folder of submissions (one folder or archive each), graded J at a time.
    #[arg(long, value_name = "DIR")]
    batch: Option<PathBuf>,
    /// Runs per test, instead of the rubric's (its policy decides).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    runs: Option<u32>,
    /// Test processes at once (with --batch: submissions at once).
    #[arg(long, value_name = "J", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "grade-out")]
    out: PathBuf,
    /// Comma-separated outputs: table, json, gradescope, autolab, junit.
    #[arg(
        long,
        value_name = "LIST",
        default_value = "table",
        value_delimiter = ','
    )]
    format: Vec<Format>,
    /// A pristine handout to grade over (default: one generated from the workspace).
    #[arg(long, value_name = "DIR", conflicts_with = "workspace")]
    pristine: Option<PathBuf>,
    /// The course workspace (default: the nearest folder upwards holding handout/manifest.toml).
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// A cargo target folder kept between gradings (dependencies build once).
    /// Default: DIR/target with --work-dir, else a temporary one.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// A folder to grade in, kept between gradings: the tree goes to DIR/tree
    /// (DIR/slot-N in a batch) and is removed after, and the build cache
    /// stays in DIR/target, so the next grading rebuilds only the student's
    /// crates. Default: temporary folders (with --batch, one for the batch).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Build without the network (dependencies fetched beforehand).
    #[arg(long)]
    offline: bool,
    /// No progress lines on standard error.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Write a Gradescope autograder zip for a rubric.
    GradescopeBundle {
        /// The rubric: a TOML file, or the name of a shipped one.
        #[arg(long, value_name = "RUBRIC")]
        rubric: String,
        /// The zip to write.
        #[arg(long, value_name = "ZIP")]
        out: PathBuf,
        /// The course workspace (default: found upwards from here).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    if raw.get(1).map(String::as_str) == Some(limits::TRAMPOLINE) {
        let message = match limits::parse_trampoline(&raw[2..]) {
            Ok((bytes, program, args)) => limits::exec_limited(bytes, &program, &args),
            Err(message) => message,
        };
        eprintln!("grade: {message}");
        return ExitCode::from(125);
    }
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("grade: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    if let Some(Command::GradescopeBundle {
        rubric,
        out,
        workspace,
    }) = args.command
    {
        let root = match workspace {
            Some(dir) => dir,
            None => find_workspace()?,
        };
        let path = rubric_path(&rubric, Some(&root))?;
        let loaded = Rubric::load(&path).map_err(|e| e.to_string())?;
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let made = bundle::gradescope_bundle(&root, &loaded, &text, &out)?;
        println!(
            "grade: wrote {} ({} files, the pristine handout's {} among them) for {}",
            out.display(),
            made.files,
            made.pristine_files,
            loaded.name
        );
        return Ok(());
    }
    let args = args.grade;
    let Some(rubric) = &args.rubric else {
        return Err("give --rubric (a file, or a shipped rubric's name)".into());
    };
    let pristine = match (&args.pristine, &args.workspace) {
        (Some(dir), _) => Pristine::Handout(dir.clone()),
        (None, Some(dir)) => Pristine::Workspace(dir.clone()),
        (None, None) => Pristine::Workspace(find_workspace()?),
    };
    let root = match &pristine {
        Pristine::Workspace(root) | Pristine::Handout(root) => root.clone(),
    };
    if !root.join(MANIFEST_PATH).is_file() {
        return Err(format!("{}: no {MANIFEST_PATH} there", root.display()));
    }
    let rubric = Rubric::load(&rubric_path(rubric, Some(&root))?).map_err(|e| e.to_string())?;
    let trampoline =
        std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let batch_work = match (&args.work_dir, &args.batch) {
        (None, Some(_)) => Some(
            tempfile::Builder::new()
                .prefix("grade-batch-")
                .tempdir()
                .map_err(|e| format!("cannot make a temporary folder: {e}"))?,
        ),
        _ => None,
    };
    let work = args
        .work_dir
        .clone()
        .or_else(|| batch_work.as_ref().map(|d| d.path().to_path_buf()));
    let target_dir = args
        .target_dir
        .clone()
        .or_else(|| work.as_ref().map(|w| w.join("target")));
    let tree_at = work.as_ref().map(|w| {
        if args.batch.is_some() {
            w.clone()
        } else {
            w.join("tree")
        }
    });
    let config = Config {
        pristine,
        rubric,
        jobs: args.jobs as usize,
        runs: args.runs.map(|n| n as usize),
        target_dir,
        offline: args.offline,
        trampoline,
        progress: !args.quiet,
        tree_at,
    };
    match (&args.submission, &args.batch) {
        (Some(submission), None) => {
            let report = grade::grade(&config, submission)?;
            let stdout = format::write(&report, &args.format, &args.out)?;
            print!("{stdout}");
            Ok(())
        }
        (None, Some(dir)) => {
            let rows = batch::batch(&config, dir, args.jobs as usize, &args.format, &args.out)?;
            for (name, result) in &rows {
                match result {
                    Ok(report) => println!("{name}: {} / {}", report.score, report.max_score),
                    Err(e) => println!("{name}: grader error: {e}"),
                }
            }
            println!("grade: wrote {}", args.out.join("grades.csv").display());
            Ok(())
        }
        _ => Err("give --submission PATH or --batch DIR".into()),
    }
}

/// A rubric argument as a file: the path itself if it exists, else the
/// shipped rubric of that name.
fn rubric_path(rubric: &str, root: Option<&Path>) -> Result<PathBuf, String> {
    let path = PathBuf::from(rubric);
    if path.is_file() {
        return Ok(path);
    }
    if let Some(root) = root {
        let shipped = root.join(RUBRICS_DIR).join(format!("{rubric}.toml"));
        if shipped.is_file() {
            return Ok(shipped);
        }
        let known: Vec<String> = std::fs::read_dir(root.join(RUBRICS_DIR))
            .map(|entries| {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()?
                            .strip_suffix(".toml")
                            .map(str::to_string)
                    })
                    .collect();
                names.sort();
                names
            })
            .unwrap_or_default();
        return Err(format!(
            "--rubric {rubric}: no such file, and no shipped rubric of that name (shipped: {})",
            known.join(", ")
        ));
    }
    Err(format!("--rubric {rubric}: no such file"))
}

/// The nearest folder, from the current one upwards, that holds the manifest.
fn find_workspace() -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| format!("no current folder: {e}"))?;
    here.ancestors()
        .find(|dir| dir.join(MANIFEST_PATH).is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "no {MANIFEST_PATH} in {} or above it: run inside the course workspace or give --workspace",
                here.display()
            )
        })
}
