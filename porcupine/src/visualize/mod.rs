//! The HTML visualisation: one self-contained file per history (no external scripts).
//!
//! It shows a row per client with each operation as a bar, the partitions and their
//! verdicts, the longest partial linearizations (linearization points joined in order,
//! the state after each step on hover), the first operation that cannot be placed in an
//! illegal partition, and annotations (faults, checker spans, notes) on their own rows.
//! Times are drawn by rank (every distinct timestamp one step apart) so dense and sparse
//! stretches are equally readable; real times show on hover.

mod data;

use std::io::Write;
use std::path::Path;

use crate::annotation::Annotation;
use crate::info::LinearizationInfo;
use crate::model::Model;

const TEMPLATE: &str = include_str!("template.html");
const DATA_MARKER: &str = "/*DATA*/null";

/// Limits that keep the file small enough for a browser to open.
#[derive(Clone, Copy, Debug)]
pub struct VisualizeLimits {
    /// Operations drawn at most (illegal and undecided partitions first).
    pub max_operations: usize,
    /// Partial linearizations kept per partition (longest first).
    pub max_partials_per_partition: usize,
    /// Characters kept of each operation or state description.
    pub max_text: usize,
}

impl Default for VisualizeLimits {
    fn default() -> VisualizeLimits {
        VisualizeLimits {
            max_operations: 20_000,
            max_partials_per_partition: 40,
            max_text: 300,
        }
    }
}

/// Writes the visualisation of a verbose check's result plus annotations as HTML.
pub fn visualize<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    annotations: &[Annotation],
    writer: impl Write,
) -> std::io::Result<()> {
    visualize_with_limits(model, info, annotations, VisualizeLimits::default(), writer)
}

/// [`visualize`] with explicit size limits.
pub fn visualize_with_limits<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    annotations: &[Annotation],
    limits: VisualizeLimits,
    writer: impl Write,
) -> std::io::Result<()> {
    let data = data::build(model, info, annotations, limits);
    write_html(&data, writer)
}

/// Writes the visualisation to a file (created or truncated).
pub fn visualize_path<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    annotations: &[Annotation],
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    visualize(model, info, annotations, std::io::BufWriter::new(file))
}

/// Writes a visualisation holding annotations only (no history), e.g. for a failed test
/// that never ran the checker.
pub fn visualize_annotations(
    annotations: &[Annotation],
    writer: impl Write,
) -> std::io::Result<()> {
    let data = data::annotations_only(annotations, VisualizeLimits::default());
    write_html(&data, writer)
}

/// [`visualize_annotations`] to a file (created or truncated).
pub fn visualize_annotations_path(
    annotations: &[Annotation],
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    visualize_annotations(annotations, std::io::BufWriter::new(file))
}

fn write_html(data: &serde_json::Value, mut writer: impl Write) -> std::io::Result<()> {
    let json = serde_json::to_string(data).map_err(std::io::Error::other)?;
    // Keep "</script>" and friends inside strings from closing the script element.
    let json = json.replace("</", "<\\/").replace("<!--", "<\\!--");
    let (before, after) = TEMPLATE
        .split_once(DATA_MARKER)
        .expect("the template holds the data marker");
    writer.write_all(before.as_bytes())?;
    writer.write_all(json.as_bytes())?;
    writer.write_all(after.as_bytes())?;
    writer.flush()
}
