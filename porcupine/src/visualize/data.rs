//! Builds the JSON the HTML page draws: operations, partitions, partial linearizations
//! with their states, annotations, and the timestamp ranks.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::VisualizeLimits;
use crate::annotation::Annotation;
use crate::info::{LinearizationInfo, PartitionVerdict};
use crate::model::Model;
use crate::operation::NEVER;

fn clip(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut clipped: String = text.chars().take(max).collect();
    clipped.push('…');
    clipped
}

/// Maps timestamps to their rank among all distinct timestamps.
struct Ranks {
    times: Vec<i64>,
}

impl Ranks {
    fn new(times: BTreeSet<i64>) -> Ranks {
        Ranks {
            times: times.into_iter().collect(),
        }
    }
    fn rank(&self, time: i64) -> usize {
        self.times
            .binary_search(&time)
            .unwrap_or_else(|insert| insert)
    }
    fn labels(&self) -> Vec<String> {
        self.times.iter().map(|time| time.to_string()).collect()
    }
}

fn annotation_json(annotation: &Annotation, ranks: &Ranks, limits: VisualizeLimits) -> Value {
    json!({
        "client": annotation.client_id,
        "tag": annotation.tag,
        "start": ranks.rank(annotation.start),
        "end": ranks.rank(annotation.end.max(annotation.start)),
        "point": annotation.is_point(),
        "description": clip(annotation.description.clone(), limits.max_text),
        "details": clip(annotation.details.clone(), limits.max_text * 4),
        "textColor": annotation.text_color,
        "backgroundColor": annotation.background_color,
    })
}

fn annotation_times(annotations: &[Annotation], times: &mut BTreeSet<i64>) {
    for annotation in annotations {
        times.insert(annotation.start);
        times.insert(annotation.end.max(annotation.start));
    }
}

pub(super) fn annotations_only(annotations: &[Annotation], limits: VisualizeLimits) -> Value {
    let mut times = BTreeSet::new();
    annotation_times(annotations, &mut times);
    let ranks = Ranks::new(times);
    json!({
        "ops": [],
        "partitions": [],
        "annotations": annotations.iter().map(|a| annotation_json(a, &ranks, limits)).collect::<Vec<_>>(),
        "times": ranks.labels(),
        "notes": [],
        "result": Value::Null,
    })
}

pub(super) fn build<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    annotations: &[Annotation],
    limits: VisualizeLimits,
) -> Value {
    let history = info.history();
    let mut notes: Vec<String> = Vec::new();

    // Undecided and illegal partitions first, so a cap drops the boring ones.
    let mut order: Vec<usize> = (0..info.partitions().len()).collect();
    order.sort_by_key(|&p| match info.partitions()[p].verdict {
        PartitionVerdict::Illegal => 0,
        PartitionVerdict::Unknown => 1,
        PartitionVerdict::Linearizable => 2,
    });
    let mut kept_partitions = Vec::new();
    let mut drawn = 0usize;
    for &p in &order {
        let size = info.partitions()[p].operations.len();
        if drawn + size > limits.max_operations && !kept_partitions.is_empty() {
            continue;
        }
        drawn += size;
        kept_partitions.push(p);
    }
    kept_partitions.sort_unstable();
    if kept_partitions.len() < info.partitions().len() {
        notes.push(format!(
            "size cap: drawing {} of {} partitions ({} of {} operations)",
            kept_partitions.len(),
            info.partitions().len(),
            drawn,
            history.len()
        ));
    }

    let mut times = BTreeSet::new();
    for &p in &kept_partitions {
        for &op in &info.partitions()[p].operations {
            times.insert(history[op].call);
            if history[op].return_time != NEVER {
                times.insert(history[op].return_time.max(history[op].call));
            }
        }
    }
    annotation_times(annotations, &mut times);
    let ranks = Ranks::new(times);

    let mut ops = Vec::new();
    let mut partitions = Vec::new();
    let mut dropped_partials = 0usize;
    for (drawn_index, &p) in kept_partitions.iter().enumerate() {
        let partition = &info.partitions()[p];
        // History index -> position in the `ops` array of the page.
        let mut page_index = std::collections::HashMap::new();
        for &op in &partition.operations {
            let operation = &history[op];
            page_index.insert(op, ops.len());
            ops.push(json!({
                "client": operation.client_id,
                "start": ranks.rank(operation.call),
                "end": if operation.return_time == NEVER { Value::Null } else { json!(ranks.rank(operation.return_time.max(operation.call))) },
                "description": clip(model.describe_operation(&operation.input, &operation.output), limits.max_text),
                "partition": drawn_index,
                "index": op,
                "metadata": clip(info.metadata(op).to_string(), limits.max_text),
            }));
        }
        let kept = partition
            .partial_linearizations
            .len()
            .min(limits.max_partials_per_partition);
        dropped_partials += partition.partial_linearizations.len() - kept;
        let mut partials = Vec::new();
        for sequence in &partition.partial_linearizations[..kept] {
            let mut state = model.init();
            let mut steps = Vec::new();
            for &op in sequence {
                let operation = &history[op];
                match model.step(&state, &operation.input, &operation.output) {
                    Some(next) => state = next,
                    None => break,
                }
                steps.push(json!([
                    page_index[&op],
                    clip(model.describe_state(&state), limits.max_text)
                ]));
            }
            partials.push(Value::Array(steps));
        }
        let largest: Vec<Value> = partition
            .largest
            .iter()
            .map(|largest| match largest {
                Some(k) if *k < kept => json!(k),
                _ => Value::Null,
            })
            .collect();
        let unplaceable = partition
            .first_unplaceable(history)
            .map(|op| page_index[&op]);
        partitions.push(json!({
            "verdict": format!("{:?}", partition.verdict),
            "ops": partition.operations.iter().map(|op| page_index[op]).collect::<Vec<_>>(),
            "partials": partials,
            "largest": largest,
            "unplaceable": unplaceable,
            "initial": clip(model.describe_state(&model.init()), limits.max_text),
        }));
    }
    if dropped_partials > 0 {
        notes.push(format!(
            "size cap: {dropped_partials} shorter partial linearizations left out"
        ));
    }
    let result = if info
        .partitions()
        .iter()
        .any(|p| p.verdict == PartitionVerdict::Illegal)
    {
        "Illegal"
    } else if info
        .partitions()
        .iter()
        .any(|p| p.verdict == PartitionVerdict::Unknown)
    {
        "Unknown"
    } else {
        "Ok"
    };
    json!({
        "ops": ops,
        "partitions": partitions,
        "annotations": annotations.iter().map(|a| annotation_json(a, &ranks, limits)).collect::<Vec<_>>(),
        "times": ranks.labels(),
        "notes": notes,
        "result": result,
    })
}
