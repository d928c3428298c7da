//! The grading tree: a pristine handout in a fresh folder, with the
//! submission's student-owned files, and only those, laid over it.

use std::path::{Path, PathBuf};

use crate::grade::rubric::Rubric;
use crate::grade::submission::Staged;
use crate::handout::{self, Options};
use crate::manifest::Manifest;
use crate::tree;

/// Where the pristine tree comes from.
#[derive(Debug, Clone)]
pub enum Pristine {
    /// This course workspace (staff's, with the solution): a handout is
    /// generated from it for every submission.
    Workspace(PathBuf),
    /// A handout already generated (what a Gradescope bundle ships): copied
    /// for every submission, its `target/` left out.
    Handout(PathBuf),
}

/// A folder the grader owns and removes when done: a fresh temporary one, or
/// a fixed path (emptied first) so that cargo, which keys its build cache by
/// path, reuses the previous submission's build of everything unchanged.
#[derive(Debug)]
pub enum TreeDir {
    /// A new temporary folder.
    Temp(tempfile::TempDir),
    /// A fixed folder, removed on drop.
    Fixed(PathBuf),
}

impl TreeDir {
    /// Makes the folder: at `fixed` (removing what is there) or temporary.
    pub fn new(fixed: Option<&Path>) -> Result<TreeDir, String> {
        match fixed {
            None => tempfile::Builder::new()
                .prefix("grade-tree-")
                .tempdir()
                .map(TreeDir::Temp)
                .map_err(|e| format!("cannot make a temporary folder: {e}")),
            Some(path) => {
                if path.exists() {
                    std::fs::remove_dir_all(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
                std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(TreeDir::Fixed(path.to_path_buf()))
            }
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        match self {
            TreeDir::Temp(dir) => dir.path(),
            TreeDir::Fixed(path) => path,
        }
    }
}

impl Drop for TreeDir {
    fn drop(&mut self) {
        if let TreeDir::Fixed(path) = self {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// The tree a submission is graded in, and what went into it.
#[derive(Debug)]
pub struct GradingTree {
    /// The tree (removed when this is dropped).
    pub dir: TreeDir,
    /// The handout's manifest.
    pub manifest: Manifest,
    /// Workspace paths laid from the submission.
    pub laid: Vec<String>,
    /// Submission files not laid (not student-owned for this rubric), by the
    /// workspace path they would have had.
    pub ignored: Vec<String>,
}

impl GradingTree {
    /// The tree's root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Whether `path` is a file students write under `rubric`.
pub fn owned_by(manifest: &Manifest, rubric: &Rubric, path: &str) -> bool {
    manifest
        .owner(path)
        .is_some_and(|part| rubric.parts.contains(&part.name))
}

/// Checks that the rubric's parts exist in the manifest and do not overlap
/// its provided ones.
pub fn check_parts(manifest: &Manifest, rubric: &Rubric) -> Result<(), String> {
    for name in rubric.parts.iter().chain(&rubric.provide) {
        if manifest.part(name).is_none() {
            let known: Vec<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "the rubric names part {name:?}, which the manifest does not have (it has: {})",
                known.join(", ")
            ));
        }
    }
    if let Some(both) = rubric.parts.iter().find(|p| rubric.provide.contains(p)) {
        return Err(format!("the rubric both grades and provides part {both:?}"));
    }
    Ok(())
}

/// Writes the pristine tree into a fresh folder (at `at`, or temporary).
pub fn pristine_tree(
    pristine: &Pristine,
    rubric: &Rubric,
    at: Option<&Path>,
) -> Result<(TreeDir, Manifest), String> {
    let dir = TreeDir::new(at)?;
    match pristine {
        Pristine::Workspace(root) => {
            let options = Options {
                provide: rubric.provide.clone(),
            };
            handout::generate(root, dir.path(), &options).map_err(|e| e.to_string())?;
        }
        Pristine::Handout(root) => {
            let files = tree::files_below(root).map_err(|e| e.to_string())?;
            for path in files.iter().filter(|p| !p.starts_with("target/")) {
                tree::copy_file(&tree::join(root, path), &tree::join(dir.path(), path))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let manifest = Manifest::load(dir.path()).map_err(|e| e.to_string())?;
    check_parts(&manifest, rubric)?;
    Ok((dir, manifest))
}

/// Makes the grading tree: the pristine tree, with every student-owned file
/// (the starter code) removed and the staged submission's student-owned
/// files laid in; at `at` (a fixed path) or in a temporary folder.
pub fn grading_tree(
    pristine: &Pristine,
    rubric: &Rubric,
    staged: Option<&Staged>,
    at: Option<&Path>,
) -> Result<GradingTree, String> {
    let (dir, manifest) = pristine_tree(pristine, rubric, at)?;
    for path in tree::files_below(dir.path()).map_err(|e| e.to_string())? {
        if owned_by(&manifest, rubric, &path) {
            let file = tree::join(dir.path(), &path);
            std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    let (mut laid, mut ignored) = (Vec::new(), Vec::new());
    if let Some(staged) = staged {
        for (from, to) in &staged.files {
            if owned_by(&manifest, rubric, to) {
                tree::copy_file(
                    &tree::join(staged.dir.path(), from),
                    &tree::join(dir.path(), to),
                )
                .map_err(|e| e.to_string())?;
                laid.push(to.clone());
            } else {
                ignored.push(to.clone());
            }
        }
    }
    laid.sort();
    laid.dedup();
    Ok(GradingTree {
        dir,
        manifest,
        laid,
        ignored,
    })
}
