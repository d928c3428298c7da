//! Writing a report: a table for people, the JSON report, Gradescope's
//! `results.json`, Autolab's scores line and JUnit XML.

use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use serde_json::json;

use crate::grade::Report;
use crate::xml::escape;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table on standard output (and `report.txt`).
    Table,
    /// The whole report as JSON (`report.json`).
    Json,
    /// Gradescope's `results.json`.
    Gradescope,
    /// Autolab's `{"scores": ...}` as the last line of standard output (and
    /// `autolab.json`).
    Autolab,
    /// JUnit XML, a test case per item (`junit.xml`).
    Junit,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "gradescope" => Ok(Format::Gradescope),
            "autolab" => Ok(Format::Autolab),
            "junit" => Ok(Format::Junit),
            other => Err(format!(
                "unknown format {other:?} (known: table, json, gradescope, autolab, junit)"
            )),
        }
    }
}

fn points(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The report as a table for people.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Rubric:     {}", report.rubric);
    let _ = writeln!(out, "Submission: {}", report.submission);
    if let Some(error) = &report.error {
        let _ = writeln!(out, "Not graded: {error}");
    }
    if let Some(mapping) = &report.mapping {
        let _ = writeln!(out, "Paths:      {mapping}");
    }
    let _ = writeln!(out, "Taken:      {} student file(s)", report.laid.len());
    if !report.ignored.is_empty() {
        let _ = writeln!(
            out,
            "Ignored (not student-owned, the pristine copy is used): {}",
            report.ignored.join(", ")
        );
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "Skipped:    {skipped}");
    }
    if report.error.is_none() {
        if report.build.ok {
            let _ = writeln!(out, "Build:      ok ({:.0} s)", report.build.seconds);
        } else {
            let _ = writeln!(
                out,
                "Build:      FAILED ({:.0} s); first errors:",
                report.build.seconds
            );
            for error in &report.build.errors {
                let _ = writeln!(out, "{}", error.trim_end());
            }
        }
    }
    let width = report
        .items
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>5}  result",
        "item", "score", "max"
    );
    for item in &report.items {
        let result = if item.passed { "passed" } else { "FAILED" };
        let extra = if item.extra_credit {
            " (extra credit)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>5}  {result}{extra}",
            item.name,
            points(item.score),
            points(item.max_score)
        );
    }
    let _ = writeln!(
        out,
        "\nTotal: {} / {}   ({:.0} s)",
        points(report.score),
        points(report.max_score),
        report.seconds
    );
    out
}

/// Gradescope's results.json.
pub fn gradescope(report: &Report) -> serde_json::Value {
    let mut summary = String::new();
    if let Some(error) = &report.error {
        let _ = writeln!(summary, "Not graded: {error}");
    }
    if !report.build.ok && report.error.is_none() {
        let _ = writeln!(
            summary,
            "The submission does not compile; first errors:\n{}",
            report.build.errors.join("\n")
        );
    }
    if !report.ignored.is_empty() {
        let _ = writeln!(
            summary,
            "These files of the submission were not used (the course's own copies were): {}",
            report.ignored.join(", ")
        );
    }
    let tests: Vec<_> = report
        .items
        .iter()
        .map(|item| {
            let name = if item.extra_credit {
                format!("{} (extra credit)", item.name)
            } else {
                item.name.clone()
            };
            json!({
                "name": name,
                "score": item.score,
                "max_score": item.max_score,
                "status": if item.passed { "passed" } else { "failed" },
                "output": item.output,
                "visibility": item.visibility.gradescope(),
            })
        })
        .collect();
    json!({
        "score": report.score,
        "execution_time": report.seconds.round() as u64,
        "output": summary,
        "tests": tests,
    })
}

/// Autolab's scores line: `{"scores": {"item": points, ...}}`.
pub fn autolab(report: &Report) -> String {
    let scores: serde_json::Map<String, serde_json::Value> = report
        .items
        .iter()
        .map(|i| (i.name.clone(), json!(i.score)))
        .collect();
    json!({ "scores": scores }).to_string()
}

/// JUnit XML: one test case per item.
pub fn junit(report: &Report) -> String {
    let failures = report.items.iter().filter(|i| !i.passed).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
        escape(&report.rubric),
        report.items.len(),
        report.seconds
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
        escape(&report.submission),
        report.items.len()
    );
    for item in &report.items {
        let class = item.group.as_deref().unwrap_or("rubric");
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\">",
            escape(class),
            escape(&item.name)
        );
        if item.passed {
            let _ = writeln!(xml, "</testcase>");
        } else {
            let _ = writeln!(
                xml,
                "\n      <failure message=\"0 of {} points\">{}</failure>\n    </testcase>",
                points(item.max_score),
                escape(&item.output)
            );
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Writes the chosen formats' files into `out` (created if need be); returns
/// what goes to standard output (the table and the Autolab line, last).
pub fn write(report: &Report, formats: &[Format], out: &Path) -> Result<String, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let put = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut stdout = String::new();
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    put("report.json", &json)?;
    for format in formats {
        match format {
            Format::Table => {
                let text = table(report);
                put("report.txt", &text)?;
                stdout.push_str(&text);
            }
            Format::Json => {}
            Format::Gradescope => put(
                "results.json",
                &serde_json::to_string_pretty(&gradescope(report)).expect("json"),
            )?,
            Format::Junit => put("junit.xml", &junit(report))?,
            Format::Autolab => put("autolab.json", &autolab(report))?,
        }
    }
    if formats.contains(&Format::Autolab) {
        stdout.push_str(&autolab(report));
        stdout.push('\n');
    }
    Ok(stdout)
}
