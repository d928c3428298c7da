//! Gradescope's autograder bundle: a zip holding `setup.sh` (installs the
//! toolchain, fetches the dependencies, builds the grader), `run_autograder`
//! (grades `/autograder/submission` into `/autograder/results/results.json`),
//! the rubric and the pristine handout. Gradescope unpacks it into
//! `/autograder/source` and runs one container per submission.

use std::io::Write;
use std::path::Path;

use crate::grade::rubric::Rubric;
use crate::handout::{self, Options};
use crate::tree;

/// `setup.sh`, as shipped.
pub const SETUP_SH: &str = include_str!("../../gradescope/setup.sh");
/// `run_autograder`, as shipped.
pub const RUN_AUTOGRADER: &str = include_str!("../../gradescope/run_autograder");

/// What a bundle holds.
#[derive(Debug)]
pub struct Bundle {
    /// Files in the zip.
    pub files: usize,
    /// Of which the pristine handout's.
    pub pristine_files: usize,
}

/// Writes the bundle for `rubric` (its text `rubric_text`) of the workspace
/// at `workspace` into the zip file `out`.
pub fn gradescope_bundle(
    workspace: &Path,
    rubric: &Rubric,
    rubric_text: &str,
    out: &Path,
) -> Result<Bundle, String> {
    let pristine = tempfile::Builder::new()
        .prefix("grade-bundle-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let options = Options {
        provide: rubric.provide.clone(),
    };
    handout::generate(workspace, pristine.path(), &options).map_err(|e| e.to_string())?;
    let manifest = crate::manifest::Manifest::load(pristine.path()).map_err(|e| e.to_string())?;
    crate::grade::workdir::check_parts(&manifest, rubric)?;
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let zip_error = |e: zip::result::ZipError| format!("{}: {e}", out.display());
    let io_error = |e: std::io::Error| format!("{}: {e}", out.display());
    let plain = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let executable = plain.unix_permissions(0o755);
    for (name, text, options) in [
        ("setup.sh", SETUP_SH, executable),
        ("run_autograder", RUN_AUTOGRADER, executable),
        ("rubric.toml", rubric_text, plain),
    ] {
        zip.start_file(name, options).map_err(zip_error)?;
        zip.write_all(text.as_bytes()).map_err(io_error)?;
    }
    let files = tree::files_below(pristine.path()).map_err(|e| e.to_string())?;
    for path in &files {
        let full = tree::join(pristine.path(), path);
        let bytes = std::fs::read(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&full)
                .map_err(|e| format!("{}: {e}", full.display()))?
                .permissions(),
        );
        let options = if mode & 0o111 != 0 { executable } else { plain };
        zip.start_file(format!("pristine/{path}"), options)
            .map_err(zip_error)?;
        zip.write_all(&bytes).map_err(io_error)?;
    }
    zip.finish().map_err(zip_error)?;
    Ok(Bundle {
        files: files.len() + 3,
        pristine_files: files.len(),
    })
}
