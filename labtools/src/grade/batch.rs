//! Grading a folder of submissions, J at a time, into one CSV and a report
//! folder per submission.

use std::path::{Path, PathBuf};

use crate::grade::format::{self, Format};
use crate::grade::{Config, Report, grade};

/// One batch row: the submission's name and its report (or the grader's
/// trouble with it).
pub type Row = (String, Result<Report, String>);

/// Whether a folder entry is a submission: a folder, or an archive the grader
/// reads. Hidden entries are not.
fn is_submission(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    path.is_dir()
        || [".tar", ".tar.gz", ".tgz", ".zip"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// A submission's name in the CSV and its report folder: the entry's name
/// without an archive extension.
pub fn submission_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".tar.gz", ".tgz", ".tar", ".zip"] {
        if name.to_lowercase().ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name
}

/// The submissions in `dir`, sorted.
pub fn submissions(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_submission(p))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!(
            "{}: no submissions (folders or .tar, .tar.gz, .tgz, .zip archives)",
            dir.display()
        ));
    }
    Ok(out)
}

/// One CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The CSV of a batch: a header, then a row per submission (its name, total,
/// seconds, an error if it could not be graded, and each item's points).
pub fn csv(config: &Config, rows: &[Row]) -> String {
    let mut header = vec![
        "submission".to_string(),
        "total".into(),
        "max".into(),
        "seconds".into(),
        "error".into(),
    ];
    header.extend(config.rubric.items.iter().map(|i| i.name.clone()));
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for (name, result) in rows {
        let mut row = vec![csv_field(name)];
        match result {
            Ok(report) => {
                row.push(report.score.to_string());
                row.push(report.max_score.to_string());
                row.push(format!("{:.0}", report.seconds));
                let error = report
                    .error
                    .clone()
                    .or_else(|| (!report.build.ok).then(|| "does not compile".to_string()));
                row.push(csv_field(error.as_deref().unwrap_or("")));
                row.extend(report.items.iter().map(|i| i.score.to_string()));
            }
            Err(error) => {
                row.extend([
                    "0".into(),
                    config.rubric.max_points().to_string(),
                    "0".into(),
                ]);
                row.push(csv_field(&format!("grader error: {error}")));
                row.extend(config.rubric.items.iter().map(|_| "0".to_string()));
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Grades every submission in `dir`, `jobs` at a time (each runs its tests
/// one at a time), writing `out/<name>/` per submission and `out/grades.csv`.
/// Returns the rows, in the folder's order.
pub fn batch(
    config: &Config,
    dir: &Path,
    jobs: usize,
    formats: &[Format],
    out: &Path,
) -> Result<Vec<Row>, String> {
    let paths = submissions(dir)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let single = Config {
        jobs: 1,
        ..config.clone()
    };
    let (tx, rx) = crossbeam::channel::unbounded();
    for (index, path) in paths.iter().enumerate() {
        tx.send((index, path.clone())).expect("open");
    }
    drop(tx);
    let rows = parking_lot::Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|scope| {
        for slot in 0..jobs.max(1) {
            let (rx, rows, single) = (&rx, &rows, &single);
            scope.spawn(move || {
                // Each worker grades in its own fixed folder and builds into
                // its own target folder, so its builds reuse each other (see
                // Config::tree_at) and never overwrite another worker's.
                let mine = Config {
                    tree_at: single
                        .tree_at
                        .as_ref()
                        .map(|at| at.join(format!("slot-{slot}"))),
                    target_dir: single
                        .target_dir
                        .as_ref()
                        .map(|t| t.join(format!("slot-{slot}"))),
                    ..single.clone()
                };
                while let Ok((index, path)) = rx.recv() {
                    let name = submission_name(&path);
                    let result = grade(&mine, &path);
                    if let Ok(report) = &result {
                        let folder = out.join(&name);
                        if let Err(e) = format::write(report, formats, &folder) {
                            eprintln!("grade: {name}: cannot write its report: {e}");
                        }
                        eprintln!(
                            "grade: {name}: {} / {} ({:.0} s)",
                            report.score, report.max_score, report.seconds
                        );
                    } else if let Err(e) = &result {
                        eprintln!("grade: {name}: grader error: {e}");
                    }
                    rows.lock()[index] = Some((name, result));
                }
            });
        }
    });
    let rows: Vec<_> = rows
        .into_inner()
        .into_iter()
        .map(|r| r.expect("every submission graded"))
        .collect();
    let path = out.join("grades.csv");
    std::fs::write(&path, csv(config, &rows)).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_archive_extensions() {
        assert_eq!(submission_name(Path::new("/x/alice.tar.gz")), "alice");
        assert_eq!(submission_name(Path::new("/x/bob.ZIP")), "bob");
        assert_eq!(submission_name(Path::new("/x/carol")), "carol");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
