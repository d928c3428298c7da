//! JUnit XML: one `<testsuite>` per test binary, one `<testcase>` per run.

use std::fmt::Write as _;

use crate::run::RunResult;
use crate::select::Test;
use labtools::xml::escape;

/// The JUnit XML document for these runs.
pub fn junit(tests: &[Test], results: &[RunResult], elapsed_secs: f64) -> String {
    let mut suites: Vec<String> = Vec::new();
    for test in tests {
        let suite = test.binary.suite();
        if !suites.contains(&suite) {
            suites.push(suite);
        }
    }
    let failures = results.iter().filter(|r| r.outcome.is_failure()).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"dstest\" tests=\"{}\" failures=\"{failures}\" time=\"{elapsed_secs:.3}\">",
        results.len()
    );
    for suite in &suites {
        let runs: Vec<&RunResult> = results
            .iter()
            .filter(|r| &tests[r.test].binary.suite() == suite)
            .collect();
        let suite_failures = runs.iter().filter(|r| r.outcome.is_failure()).count();
        let suite_time: f64 = runs.iter().map(|r| r.secs).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" time=\"{suite_time:.3}\">",
            escape(suite),
            runs.len()
        );
        for r in runs {
            let test = &tests[r.test];
            let name = format!("{} #{} (seed {})", test.name, r.iteration, r.seed);
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(suite),
                escape(&name),
                r.secs
            );
            if !r.outcome.is_failure() {
                let _ = writeln!(xml, "{head}/>");
                continue;
            }
            let reason = r.reason.as_deref().unwrap_or("failed");
            let mut body = format!("{reason}\nseed: {}\nreplay: {}\n", r.seed, r.replay);
            if let Some(message) = &r.message {
                let _ = writeln!(body, "message: {message}");
            }
            if let Some(kept) = &r.kept {
                let _ = writeln!(body, "logs: {}", kept.display());
            }
            let message = r.message.as_deref().unwrap_or(reason);
            let _ = writeln!(
                xml,
                "{head}>\n      <failure message=\"{}\" type=\"{:?}\">{}</failure>\n    </testcase>",
                escape(message),
                r.outcome,
                escape(&body)
            );
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::{sample_results, two_tests};

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("\u{1b}[31mred\u{1b}[0m\n"), "[31mred[0m\n");
    }

    #[test]
    fn document_has_one_case_per_run_and_failure_details() {
        let xml = junit(&two_tests(), &sample_results(), 14.0);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dstest\" tests=\"4\" failures=\"1\" time=\"14.000\">\n"));
        assert!(xml.contains(
            "  <testsuite name=\"raft/raft_3a\" tests=\"4\" failures=\"1\" time=\"14.000\">\n"
        ));
        assert_eq!(xml.matches("<testcase ").count(), 4);
        assert!(xml.contains(
            "    <testcase classname=\"raft/raft_3a\" name=\"initial_election_3a #0 (seed 100)\" time=\"2.000\"/>\n"
        ));
        assert!(xml.contains(
            "<failure message=\"Fatal: expected one leader\" type=\"Failed\">failed (exit status: 101)\nseed: 101\nreplay: LAB_SEED=101 cargo test\n"
        ));
        assert!(xml.ends_with("  </testsuite>\n</testsuites>\n"));
        assert_eq!(
            xml.matches("<failure ").count(),
            xml.matches("</failure>").count()
        );
    }
}
