//! handout: writes the student handout of this workspace.
//!
//! ```text
//! cargo run -p labtools --bin handout -- --out DIR [--provide raft] [--with-solution]
//! ```
//!
//! The handout is a standalone cargo workspace: the framework byte for byte,
//! starter code in place of every student-owned file (handout/manifest.toml),
//! and the student README. `--provide PART` hands a part out complete (a course
//! that gives students a working Raft for the KV lab). `--with-solution` lays
//! this workspace's own student-owned files back over the result: the staff
//! check that the handout's suites pass with a complete solution.
//!
//! Exit status: 0 written, 2 bad flags or the handout could not be written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use labtools::handout::{self, Options};
use labtools::manifest::{MANIFEST_PATH, Manifest};
use labtools::tree;

#[derive(Parser)]
#[command(
    name = "handout",
    version,
    about = "Write the student handout: the framework, with starter code in place of the files students write"
)]
struct Args {
    /// The folder to write (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Hand this part out complete, as given code (repeatable; e.g. `raft`).
    #[arg(long, value_name = "PART")]
    provide: Vec<String>,
    /// Lay this workspace's own student-owned files over the handout (a staff
    /// check: every suite should then pass).
    #[arg(long)]
    with_solution: bool,
    /// The workspace to read (default: the nearest folder upwards holding
    /// handout/manifest.toml).
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("handout: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let root = match &args.workspace {
        Some(dir) => dir.clone(),
        None => find_workspace()?,
    };
    let options = Options {
        provide: args.provide.clone(),
    };
    let plan = handout::generate(&root, &args.out, &options).map_err(|e| e.to_string())?;
    println!(
        "handout: wrote {}: {} framework files, {} starter files, {} replaced; left out {} student-owned and {} omitted files",
        args.out.display(),
        plan.framework.len(),
        plan.starter.len(),
        plan.replaced.len(),
        plan.left_out.len(),
        plan.omitted.len()
    );
    if !options.provide.is_empty() {
        println!("handout: given complete: {}", options.provide.join(", "));
    }
    if args.with_solution {
        let manifest = Manifest::load(&root).map_err(|e| e.to_string())?;
        let files = tree::workspace_files(&root).map_err(|e| e.to_string())?;
        let (laid, _) = handout::overlay(&manifest, &options, &args.out, &root, &files)
            .map_err(|e| e.to_string())?;
        println!(
            "handout: laid this workspace's {} student-owned files over it",
            laid.len()
        );
    }
    Ok(())
}

/// The nearest folder, from the current one upwards, that holds the manifest.
fn find_workspace() -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| format!("no current folder: {e}"))?;
    let mut dir: Option<&Path> = Some(&here);
    while let Some(candidate) = dir {
        if candidate.join(MANIFEST_PATH).is_file() {
            return Ok(candidate.to_path_buf());
        }
        dir = candidate.parent();
    }
    Err(format!(
        "no {MANIFEST_PATH} in {} or above it: run inside the course workspace or give --workspace",
        here.display()
    ))
}
