//! Live progress: an indicatif bar on a terminal, a plain line every few
//! seconds otherwise (logs, CI, tests).

use labrt::time::{Duration, Instant};
use std::collections::VecDeque;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cluster::Leader;

/// How often the display is refreshed.
pub const REFRESH: Duration = Duration::from_millis(200);
/// Without a terminal, one plain line this often.
const PLAIN_EVERY: Duration = Duration::from_secs(2);
/// The ops/s figure is the rate over this last stretch of time.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the display shows at one refresh.
pub struct Snapshot<'a> {
    /// Operations completed so far.
    pub completed: u64,
    /// The leader, if one is known.
    pub leader: Option<Leader>,
    /// The fault in force.
    pub fault: &'a str,
}

/// The progress display of a run of `total` length.
pub struct Progress {
    bar: ProgressBar,
    total: Duration,
    started: Instant,
    last_plain: Instant,
    samples: VecDeque<(Instant, u64)>,
}

impl Progress {
    /// A display for a run of `total`, starting now.
    pub fn start(total: Duration) -> Progress {
        let bar = ProgressBar::new(total.as_millis() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.green} {elapsed:>3} [{bar:24.cyan/blue}] {msg}",
            )
            .expect("the progress template is valid")
            .progress_chars("=> "),
        );
        let now = Instant::now();
        Progress {
            bar,
            total,
            started: now,
            last_plain: now,
            samples: VecDeque::from([(now, 0)]),
        }
    }

    /// Shows the state of the run now.
    pub fn update(&mut self, snapshot: &Snapshot<'_>) {
        let now = Instant::now();
        self.samples.push_back((now, snapshot.completed));
        while self
            .samples
            .get(1)
            .is_some_and(|(at, _)| now.duration_since(*at) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
        let line = self.describe(snapshot, now);
        if self.bar.is_hidden() {
            if now.duration_since(self.last_plain) >= PLAIN_EVERY {
                self.last_plain = now;
                eprintln!(
                    "[{:5.1}s/{:.0}s] {line}",
                    now.duration_since(self.started).as_secs_f64(),
                    self.total.as_secs_f64()
                );
            }
        } else {
            let elapsed = now.duration_since(self.started).min(self.total);
            self.bar.set_position(elapsed.as_millis() as u64);
            self.bar.set_message(line);
        }
    }

    fn describe(&self, snapshot: &Snapshot<'_>, now: Instant) -> String {
        let (since, base) = self.samples.front().copied().unwrap_or((now, 0));
        let window = now.duration_since(since).as_secs_f64();
        let rate = if window > 0.0 {
            (snapshot.completed - base) as f64 / window
        } else {
            0.0
        };
        let leader = match snapshot.leader {
            Some(leader) => format!("{} (term {})", leader.server, leader.term),
            None => "none".to_string(),
        };
        format!(
            "ops {}  {:.0} ops/s  leader {leader}  fault: {}",
            snapshot.completed, rate, snapshot.fault
        )
    }

    /// Leaves the display with a final message; the bar stays where it got
    /// to if the run was cut short.
    pub fn finish(&self, message: &str, cut_short: bool) {
        if self.bar.is_hidden() {
            eprintln!("{message}");
        } else if cut_short {
            self.bar.abandon_with_message(message.to_string());
        } else {
            self.bar.finish_with_message(message.to_string());
        }
    }
}
