//! Generating the student handout from this workspace, and laying a set of
//! student-owned files over one.
//!
//! The handout is a standalone cargo workspace: every framework file of this
//! workspace byte for byte (crates, suites, tools, `Cargo.lock`, `.cargo/`,
//! docs), the starter code of `handout/starter/` in place of every
//! student-owned file, and `handout/files/` (the student README) over the
//! workspace's own. Because it is generated, it cannot drift from the solution.

use std::collections::BTreeSet;
use std::path::Path;

use crate::manifest::{FILES_DIR, Manifest, ManifestError, STARTER_DIR};
use crate::tree::{self, TreeError, io_error};

/// Why a handout could not be generated or overlaid.
#[derive(Debug, thiserror::Error)]
pub enum HandoutError {
    /// The manifest is missing or wrong.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Files could not be listed, read or written.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The request or the starter tree does not fit the manifest.
    #[error("{0}")]
    Invalid(String),
}

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Parts (manifest names, e.g. `raft`) handed out complete: their
    /// solution files stay, as given code, instead of starter code.
    pub provide: Vec<String>,
}

/// Where each file of a handout comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Framework files, copied byte for byte from the workspace.
    pub framework: Vec<String>,
    /// Starter files, from `handout/starter/`, at student-owned paths.
    pub starter: Vec<String>,
    /// Files from `handout/files/` that replace or add to the workspace's.
    pub replaced: Vec<String>,
    /// The workspace's student-owned files, left out.
    pub left_out: Vec<String>,
    /// Files the manifest omits.
    pub omitted: Vec<String>,
}

impl Plan {
    /// Decides where every file of the handout of `root` comes from.
    pub fn new(root: &Path, manifest: &Manifest, options: &Options) -> Result<Plan, HandoutError> {
        for name in &options.provide {
            if manifest.part(name).is_none() {
                let known: Vec<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
                return Err(HandoutError::Invalid(format!(
                    "--provide {name}: no such part (the manifest has: {})",
                    known.join(", ")
                )));
            }
        }
        let replaced = tree::files_below(&root.join(FILES_DIR))?;
        let replaced_set: BTreeSet<&str> = replaced.iter().map(String::as_str).collect();
        let mut plan = Plan {
            replaced: replaced.clone(),
            ..Plan::default()
        };
        for path in tree::workspace_files(root)? {
            if manifest.omitted(&path) {
                plan.omitted.push(path);
            } else if student_owned(manifest, &options.provide, &path) {
                plan.left_out.push(path);
            } else if !replaced_set.contains(path.as_str()) {
                plan.framework.push(path);
            }
        }
        let mut starter_parts = BTreeSet::new();
        for path in tree::files_below(&root.join(STARTER_DIR))? {
            match manifest.owner(&path) {
                None => {
                    return Err(HandoutError::Invalid(format!(
                        "{STARTER_DIR}/{path}: not a student-owned path in the manifest"
                    )));
                }
                Some(part) if options.provide.contains(&part.name) => {}
                Some(part) => {
                    starter_parts.insert(part.name.clone());
                    plan.starter.push(path);
                }
            }
        }
        for part in &manifest.parts {
            let handed_out = !options.provide.contains(&part.name);
            if handed_out && !starter_parts.contains(&part.name) {
                return Err(HandoutError::Invalid(format!(
                    "part {:?} has no starter code under {STARTER_DIR}/",
                    part.name
                )));
            }
        }
        Ok(plan)
    }
}

/// Whether `path` is a student's file in a handout whose `provide` parts are
/// given complete.
pub fn student_owned(manifest: &Manifest, provide: &[String], path: &str) -> bool {
    manifest
        .owner(path)
        .is_some_and(|part| !provide.contains(&part.name))
}

/// Writes the handout of the workspace at `root` into `out`, which must not
/// exist or be empty; returns the plan it followed.
pub fn generate(root: &Path, out: &Path, options: &Options) -> Result<Plan, HandoutError> {
    let manifest = Manifest::load(root)?;
    let plan = Plan::new(root, &manifest, options)?;
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(io_error(out))?;
        if entries.next().is_some() {
            return Err(HandoutError::Invalid(format!(
                "{} is not empty: give a new or empty folder",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    for path in &plan.framework {
        tree::copy_file(&tree::join(root, path), &tree::join(out, path))?;
    }
    let starter = root.join(STARTER_DIR);
    for path in &plan.starter {
        tree::copy_file(&tree::join(&starter, path), &tree::join(out, path))?;
    }
    let files = root.join(FILES_DIR);
    for path in &plan.replaced {
        tree::copy_file(&tree::join(&files, path), &tree::join(out, path))?;
    }
    Ok(plan)
}

/// Lays the student-owned files of `from` (a workspace or a submission tree
/// holding files at their workspace paths) over the handout in `handout`, made
/// with `options`: first every student-owned file of the handout is removed (the
/// starter code), then each student-owned file of `from` is copied in. Files of
/// `from` that are not student-owned are not copied; they are returned, so a
/// caller can report them. Returns (files laid, files ignored).
pub fn overlay(
    manifest: &Manifest,
    options: &Options,
    handout: &Path,
    from: &Path,
    from_files: &[String],
) -> Result<(Vec<String>, Vec<String>), HandoutError> {
    for path in tree::files_below(handout)? {
        if path.starts_with("target/") {
            continue;
        }
        if student_owned(manifest, &options.provide, &path) {
            let file = tree::join(handout, &path);
            std::fs::remove_file(&file).map_err(io_error(&file))?;
        }
    }
    let (mut laid, mut ignored) = (Vec::new(), Vec::new());
    for path in from_files {
        if student_owned(manifest, &options.provide, path) {
            tree::copy_file(&tree::join(from, path), &tree::join(handout, path))?;
            laid.push(path.clone());
        } else {
            ignored.push(path.clone());
        }
    }
    Ok((laid, ignored))
}
