//! The live progress bar: runs done, failures so far, and what is running.

use std::collections::BTreeMap;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Progress of all runs, drawn on stderr (hidden when stderr is not a terminal).
pub struct Progress {
    bar: ProgressBar,
    running: BTreeMap<usize, String>,
    failures: usize,
}

impl Progress {
    /// A bar for `total` runs.
    pub fn new(total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} runs (eta {eta}) {wide_msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        // Redraw once a second so the clock moves while long runs go on.
        bar.enable_steady_tick(Duration::from_secs(1));
        let progress = Progress {
            bar,
            running: BTreeMap::new(),
            failures: 0,
        };
        progress.update_message();
        progress
    }

    /// Run `id` (of test `label`) started.
    pub fn started(&mut self, id: usize, label: String) {
        self.running.insert(id, label);
        self.update_message();
    }

    /// Run `id` finished; a failure is printed above the bar at once.
    pub fn finished(&mut self, id: usize, failure: Option<String>) {
        self.running.remove(&id);
        if let Some(line) = failure {
            self.failures += 1;
            // suspend() also prints when the bar is hidden (println would not).
            self.bar.suspend(|| eprintln!("{line}"));
        }
        self.bar.inc(1);
        self.update_message();
    }

    /// Removes the bar from the screen.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }

    fn update_message(&self) {
        let mut running: Vec<&str> = self.running.values().map(String::as_str).collect();
        running.dedup();
        let failed = match self.failures {
            0 => "no failures".to_string(),
            1 => "1 FAILED".to_string(),
            n => format!("{n} FAILED"),
        };
        self.bar
            .set_message(format!("{failed}; running {}", running.join(", ")));
    }
}
