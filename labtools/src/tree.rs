//! Listing and copying the files of a workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a tree could not be listed or written.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// `git ls-files` could not run or refused (not a git checkout).
    #[error("cannot list the files of {root}: {message}")]
    List {
        /// The workspace root.
        root: String,
        /// What git said.
        message: String,
    },
    /// A file could not be read, written or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Wraps an I/O error with the path it concerns.
pub fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TreeError + '_ {
    move |source| TreeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The workspace's files as `/`-separated relative paths, sorted: those git
/// tracks and the untracked ones it does not ignore, as they are in the work
/// tree (files deleted from the work tree are left out).
pub fn workspace_files(root: &Path) -> Result<Vec<String>, TreeError> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .map_err(|error| TreeError::List {
            root: root.display().to_string(),
            message: format!("cannot run git: {error}"),
        })?;
    if !output.status.success() {
        return Err(TreeError::List {
            root: root.display().to_string(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    let mut files: Vec<String> = output
        .stdout
        .split(|&b| b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .filter(|name| root.join(name).is_file())
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Every file below `dir`, as sorted `/`-separated paths relative to it (none
/// if `dir` does not exist).
pub fn files_below(dir: &Path) -> Result<Vec<String>, TreeError> {
    let mut files = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn walk(base: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), TreeError> {
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            walk(base, &path, files)?;
        } else if kind.is_file() {
            let relative = path.strip_prefix(base).expect("below its base");
            files.push(to_slashes(relative));
        }
    }
    Ok(())
}

/// A relative path with `/` separators.
pub fn to_slashes(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Copies `from` to `to`, creating `to`'s folders; keeps the permission bits
/// (so scripts stay executable) and the modification time.
pub fn copy_file(from: &Path, to: &Path) -> Result<(), TreeError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::copy(from, to).map_err(io_error(from))?;
    // Keep the modification time too: cargo decides what to rebuild by it, so
    // a tree copied to the same place again rebuilds only what changed.
    let modified = std::fs::metadata(from)
        .and_then(|m| m.modified())
        .map_err(io_error(from))?;
    std::fs::File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_modified(modified))
        .map_err(io_error(to))?;
    Ok(())
}

/// `root` joined with a `/`-separated relative path.
pub fn join(root: &Path, relative: &str) -> PathBuf {
    relative
        .split('/')
        .fold(root.to_path_buf(), |p, c| p.join(c))
}
