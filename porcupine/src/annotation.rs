//! Timeline annotations drawn beside a history (faults, checker spans, notes).

use serde::{Deserialize, Serialize};

/// One mark on the visualisation's timeline: a point (`end == start`) or an interval.
///
/// Times are nanoseconds on the same clock as the history's `call`/`return_time`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The client row to draw on; `None` puts the annotation on its own row named by `tag`.
    #[serde(default)]
    pub client_id: Option<usize>,
    /// Row name for tag-bound annotations (e.g. `$ Failure`, `$ Checker`).
    #[serde(default)]
    pub tag: String,
    /// Start time in nanoseconds.
    pub start: i64,
    /// End time in nanoseconds; equal to `start` for a point in time.
    pub end: i64,
    /// Short text shown on the bar.
    #[serde(default)]
    pub description: String,
    /// Longer text shown on hover.
    #[serde(default)]
    pub details: String,
    /// CSS colour of the text (empty = default).
    #[serde(default)]
    pub text_color: String,
    /// CSS colour of the bar (empty = default).
    #[serde(default)]
    pub background_color: String,
}

impl Annotation {
    /// Whether the annotation marks a single point in time.
    pub fn is_point(&self) -> bool {
        self.end <= self.start
    }
}
