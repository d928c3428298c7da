//! The test's timeline of faults and checks, drawn beside the history in the
//! porcupine visualisation of a failing test (spec/tester.md §8).
//!
//! The group's operations record their own faults (crashes, restarts,
//! partitions, connection changes); tests add points of their own with
//! [`annotate`] and bracket checks with [`checker_begin`] and
//! [`checker_success`] / [`checker_failure`]. Times are nanoseconds since the
//! Unix epoch ([`timestamp`]), the clock histories are recorded with.
//!
//! When a test fails, the Config writes the timeline as an HTML file (unless a
//! linearizability check already wrote one with its history): `VIS_ENABLE=never`
//! turns this off, `VIS_ENABLE=always` writes it for passing tests too, and
//! `VIS_FILE` names the file (default: a fresh `porcupine-*.html` in the
//! temporary directory).

// Process-wide state behind plain locks, never held across a runtime
// operation: shared by the worlds of a simulated process, and no scheduling
// point (logging and annotating must not change a simulated run).
#![allow(clippy::disallowed_types)]

// Process-wide, so not a runtime lock (shared by the worlds of a simulated
// process, never held across a runtime operation).
use parking_lot::Mutex;
use porcupine::Annotation;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Row of the fault band.
pub const TAG_FAILURE: &str = "$ Failure";
/// Row of checker spans.
pub const TAG_CHECKER: &str = "$ Checker";
/// Row of test information.
pub const TAG_INFO: &str = "$ Test Info";

const COLOR_INFO: &str = "#FAFAFA";
const COLOR_NEUTRAL: &str = "#FFECB3";
const COLOR_SUCCESS: &str = "#C8E6C9";
const COLOR_FAILURE: &str = "#FFCDD2";
const COLOR_FAULT: &str = "#B3E5FC";
const COLOR_USER: &str = "#FFF176";

struct Open {
    start: i64,
    description: String,
    details: String,
    color: &'static str,
}

#[derive(Default)]
struct Timeline {
    annotations: Vec<Annotation>,
    open: BTreeMap<String, Open>,
    checker_start: Option<i64>,
    connected: Vec<bool>,
    crashed: Vec<bool>,
    partition: Option<(Vec<usize>, Vec<usize>)>,
    finalized: bool,
}

static TIMELINE: Mutex<Option<Timeline>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Timeline) -> R) -> R {
    let mut guard = TIMELINE.lock();
    f(guard.get_or_insert_with(Timeline::default))
}

/// Nanoseconds since the Unix epoch: the clock of annotations and histories.
pub fn timestamp() -> i64 {
    labrt::time::history_stamp()
}

fn point(tag: &str, description: &str, details: &str, color: &str) -> Annotation {
    let now = timestamp();
    Annotation {
        client_id: None,
        tag: tag.to_string(),
        start: now,
        end: now,
        description: description.to_string(),
        details: details.to_string(),
        text_color: String::new(),
        background_color: color.to_string(),
    }
}

fn span(tag: &str, start: i64, description: &str, details: &str, color: &str) -> Annotation {
    Annotation {
        start,
        ..point(tag, description, details, color)
    }
}

/// Starts a new timeline for test `name` on `servers` servers, all connected
/// and none crashed.
pub fn test(name: &str, servers: usize) {
    *TIMELINE.lock() = Some(Timeline {
        connected: vec![true; servers],
        crashed: vec![false; servers],
        ..Timeline::default()
    });
    info(&format!("{name} ({servers} servers)"), "");
}

/// A point of the test's own on row `tag`.
pub fn annotate(tag: &str, description: &str, details: &str) {
    with(|t| {
        t.annotations
            .push(point(tag, description, details, COLOR_USER))
    });
}

/// An interval of the test's own on row `tag`, from `start` until now.
pub fn interval(tag: &str, start: i64, description: &str, details: &str) {
    with(|t| {
        t.annotations
            .push(span(tag, start, description, details, COLOR_USER))
    });
}

fn open_continuous(
    t: &mut Timeline,
    tag: &str,
    description: String,
    details: String,
    color: &'static str,
) {
    close_continuous(t, tag);
    t.open.insert(
        tag.to_string(),
        Open {
            start: timestamp(),
            description,
            details,
            color,
        },
    );
}

fn close_continuous(t: &mut Timeline, tag: &str) {
    if let Some(open) = t.open.remove(tag) {
        t.annotations.push(span(
            tag,
            open.start,
            &open.description,
            &open.details,
            open.color,
        ));
    }
}

/// Opens an interval on row `tag` that lasts until the next call for the
/// same tag, or [`continuous_end`].
pub fn continuous(tag: &str, description: &str, details: &str) {
    with(|t| open_continuous(t, tag, description.into(), details.into(), COLOR_USER));
}

/// Closes the open interval on row `tag`, if any.
pub fn continuous_end(tag: &str) {
    with(|t| close_continuous(t, tag));
}

/// A point of test information.
pub fn info(description: &str, details: &str) {
    with(|t| {
        t.annotations
            .push(point(TAG_INFO, description, details, COLOR_INFO))
    });
}

/// An interval of test information from `start` until now.
pub fn info_interval(start: i64, description: &str, details: &str) {
    with(|t| {
        t.annotations
            .push(span(TAG_INFO, start, description, details, COLOR_INFO))
    });
}

/// Marks the start of a check.
pub fn checker_begin(details: &str) {
    with(|t| {
        t.checker_start = Some(timestamp());
        if !details.is_empty() {
            t.annotations
                .push(point(TAG_CHECKER, "checker begins", details, COLOR_NEUTRAL));
        }
    });
}

fn checker_end(description: &str, details: &str, color: &str) {
    with(|t| {
        let annotation = match t.checker_start.take() {
            Some(start) => span(TAG_CHECKER, start, description, details, color),
            None => point(TAG_CHECKER, description, details, color),
        };
        t.annotations.push(annotation);
    });
}

/// The check begun last passed.
pub fn checker_success(description: &str, details: &str) {
    checker_end(description, details, COLOR_SUCCESS);
}

/// The check begun last failed.
pub fn checker_failure(description: &str, details: &str) {
    checker_end(description, details, COLOR_FAILURE);
}

/// The check begun last was inconclusive (e.g. it timed out).
pub fn checker_neutral(description: &str, details: &str) {
    checker_end(description, details, COLOR_NEUTRAL);
}

fn render_failure(t: &mut Timeline) {
    let mut parts = Vec::new();
    if let Some((p1, p2)) = &t.partition {
        parts.push(format!("partition = {p1:?} {p2:?}"));
    } else if t.connected.iter().any(|c| !c) {
        let cut: Vec<usize> = (0..t.connected.len())
            .filter(|&i| !t.connected[i])
            .collect();
        parts.push(format!("disconnected = {cut:?}"));
    }
    let crashed: Vec<usize> = (0..t.crashed.len()).filter(|&i| t.crashed[i]).collect();
    if !crashed.is_empty() {
        parts.push(format!("crash = {crashed:?}"));
    }
    if parts.is_empty() {
        close_continuous(t, TAG_FAILURE);
    } else {
        let text = parts.join(" / ");
        let unchanged = t
            .open
            .get(TAG_FAILURE)
            .is_some_and(|o| o.description == text);
        if !unchanged {
            open_continuous(t, TAG_FAILURE, text, String::new(), COLOR_FAULT);
        }
    }
}

/// The servers' connected flags changed.
pub fn connection(connected: &[bool]) {
    with(|t| {
        t.connected = connected.to_vec();
        if connected.iter().all(|&c| c) {
            t.partition = None;
        }
        render_failure(t);
    });
}

/// The servers were split into `p1` and `p2`.
pub fn two_partitions(p1: &[usize], p2: &[usize]) {
    with(|t| {
        t.partition = Some((p1.to_vec(), p2.to_vec()));
        render_failure(t);
    });
}

fn set_crashed(list: &[usize], crashed: bool) {
    with(|t| {
        for &i in list {
            if i >= t.crashed.len() {
                t.crashed.resize(i + 1, false);
            }
            t.crashed[i] = crashed;
        }
        render_failure(t);
    });
}

/// The servers in `list` crashed.
pub fn shutdown(list: &[usize]) {
    set_crashed(list, true);
}

/// The servers in `list` restarted.
pub fn restart(list: &[usize]) {
    set_crashed(list, false);
}

/// Every fault was mended.
pub fn clear_failure() {
    with(|t| {
        t.partition = None;
        t.connected.iter_mut().for_each(|c| *c = true);
        t.crashed.iter_mut().for_each(|c| *c = false);
        close_continuous(t, TAG_FAILURE);
    });
}

/// A linearizability checker already wrote the visualisation (with its
/// history): the Config writes no second one.
pub fn set_finalized() {
    with(|t| t.finalized = true);
}

/// The timeline so far, open intervals closed at the present.
pub fn annotations() -> Vec<Annotation> {
    with(|t| {
        let now = timestamp();
        let mut all = t.annotations.clone();
        for (tag, open) in &t.open {
            all.push(Annotation {
                end: now,
                ..span(
                    tag,
                    open.start,
                    &open.description,
                    &open.details,
                    open.color,
                )
            });
        }
        all
    })
}

/// Where a visualisation of this test goes: `VIS_FILE`, or a fresh file in
/// the temporary directory.
pub fn output_path() -> PathBuf {
    match std::env::var_os("VIS_FILE") {
        Some(path) => PathBuf::from(path),
        None => std::env::temp_dir().join(format!(
            "porcupine-{}-{}.html",
            std::process::id(),
            timestamp()
        )),
    }
}

/// Writes the timeline at the end of a test, as `VIS_ENABLE` says.
pub(crate) fn finish(failed: bool) {
    let mode = std::env::var("VIS_ENABLE").unwrap_or_default();
    let finalized = with(|t| t.finalized);
    let wanted = match mode.as_str() {
        "never" => false,
        "always" => true,
        _ => failed,
    };
    if !wanted || finalized {
        return;
    }
    let path = output_path();
    match porcupine::visualize_annotations_path(&annotations(), &path) {
        Ok(()) => println!("info: wrote visualization to {}", path.display()),
        Err(e) => println!(
            "info: failed to open visualization file {}: {e}",
            path.display()
        ),
    }
}
