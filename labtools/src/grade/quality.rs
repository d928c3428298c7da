//! Code-quality checks over the student-owned files only: `rustfmt --check`
//! and `cargo clippy -- -D warnings` (diagnostics in framework files do not
//! count against a submission).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::grade::compile;

/// The outcome of a quality check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QualityResult {
    /// Whether the check accepted every student file.
    pub passed: bool,
    /// What it said (capped).
    pub output: String,
}

const OUTPUT_CHARS: usize = 8_000;

fn capped(text: String) -> String {
    if text.len() <= OUTPUT_CHARS {
        return text;
    }
    let mut end = OUTPUT_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[... cut ...]", &text[..end])
}

/// `rustfmt --check` over the student's `.rs` files (`laid`) in the tree.
pub fn fmt(root: &Path, laid: &[String]) -> QualityResult {
    let files: Vec<&String> = laid.iter().filter(|p| p.ends_with(".rs")).collect();
    if files.is_empty() {
        return QualityResult {
            passed: false,
            output: "no Rust files were submitted".into(),
        };
    }
    let output = Command::new("rustfmt")
        .args(["--check", "--edition", "2024", "--color", "never"])
        .args(&files)
        .current_dir(root)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            QualityResult {
                passed: output.status.success(),
                output: capped(if output.status.success() {
                    format!("rustfmt accepts all {} files", files.len())
                } else {
                    text
                }),
            }
        }
        Err(e) => QualityResult {
            passed: false,
            output: format!("cannot run rustfmt: {e}"),
        },
    }
}

/// `cargo clippy -- -D warnings` on the libraries holding student files;
/// passes when no diagnostic's main place is a student file.
pub fn clippy(
    root: &Path,
    target_dir: &Path,
    laid: &[String],
    timeout: Duration,
    offline: bool,
) -> QualityResult {
    let student: BTreeSet<&str> = laid.iter().map(String::as_str).collect();
    let packages: BTreeSet<&str> = laid.iter().filter_map(|p| p.split('/').next()).collect();
    if packages.is_empty() {
        return QualityResult {
            passed: false,
            output: "no files were submitted".into(),
        };
    }
    let mut cmd = compile::cargo(root, target_dir, offline);
    cmd.args(["clippy", "--locked", "--message-format=json", "--lib"]);
    for package in &packages {
        cmd.args(["-p", package]);
    }
    cmd.args(["--", "-D", "warnings"]);
    let mut findings = Vec::new();
    let result = compile::run_json(cmd, timeout, |message| {
        let Some(diagnostic) = message.message else {
            return;
        };
        let ours = diagnostic
            .spans
            .iter()
            .any(|s| s.is_primary && student.contains(s.file_name.as_str()));
        if ours && let Some(rendered) = diagnostic.rendered {
            findings.push(rendered);
        }
    });
    match result {
        Err(e) => QualityResult {
            passed: false,
            output: e,
        },
        Ok(_) if findings.is_empty() => QualityResult {
            passed: true,
            output: "clippy reports nothing in the submitted files".into(),
        },
        Ok(_) => QualityResult {
            passed: false,
            output: capped(format!(
                "clippy: {} finding(s) in the submitted files:\n{}",
                findings.len(),
                findings.join("\n")
            )),
        },
    }
}
