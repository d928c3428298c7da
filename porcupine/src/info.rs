//! What a verbose check found: per partition, the longest partial linearizations.

use crate::operation::Operation;

/// How one partition's search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PartitionVerdict {
    /// A linearization of the partition exists.
    Linearizable,
    /// The partition has no linearization.
    Illegal,
    /// The search was stopped (timeout, or another partition was illegal) before deciding.
    Unknown,
}

/// One partition of a verbose check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Indices into the history of the partition's operations.
    pub operations: Vec<usize>,
    /// Distinct longest partial linearizations, longest first; each lists history indices
    /// in linearization order. For a linearizable partition the first is complete (apart
    /// from never-returned operations the model rejects at the end).
    pub partial_linearizations: Vec<Vec<usize>>,
    /// For each entry of `operations`: the index (into `partial_linearizations`) of the
    /// longest partial linearization containing it, or `None` if it was never placed.
    pub largest: Vec<Option<usize>>,
    /// How the partition's search ended.
    pub verdict: PartitionVerdict,
}

impl PartitionInfo {
    /// The operation whose return could not be preceded by a linearization point: among
    /// the operations missing from the longest partial linearization, the one that returns
    /// first (a history index). `None` if the partition is not illegal.
    pub fn first_unplaceable<I, O>(&self, history: &[Operation<I, O>]) -> Option<usize> {
        if self.verdict != PartitionVerdict::Illegal {
            return None;
        }
        let longest = self
            .partial_linearizations
            .first()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        self.operations
            .iter()
            .copied()
            .filter(|op| !longest.contains(op))
            .min_by_key(|&op| (history[op].return_time, history[op].call, op))
    }
}

/// The history and the partial linearizations a verbose check found; feed it to
/// [`crate::visualize`] to draw it.
#[derive(Clone, Debug)]
pub struct LinearizationInfo<I, O> {
    pub(crate) history: Vec<Operation<I, O>>,
    pub(crate) partitions: Vec<PartitionInfo>,
    /// Per history operation: free text for the visualisation (empty: none).
    pub(crate) metadata: Vec<Option<String>>,
}

impl<I, O> LinearizationInfo<I, O> {
    /// An empty history with no partitions (to visualise annotations alone).
    pub fn empty() -> LinearizationInfo<I, O> {
        LinearizationInfo {
            history: Vec::new(),
            partitions: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// The metadata of history operation `index` ("" if it has none).
    pub fn metadata(&self, index: usize) -> &str {
        self.metadata
            .get(index)
            .and_then(Option::as_deref)
            .unwrap_or("")
    }

    /// Attaches metadata to the operations (`metadata[i]` belongs to history operation `i`).
    pub fn set_metadata(&mut self, metadata: Vec<Option<String>>) {
        self.metadata = metadata;
    }

    /// The checked history.
    pub fn history(&self) -> &[Operation<I, O>] {
        &self.history
    }

    /// One entry per partition, in the model's partition order.
    pub fn partitions(&self) -> &[PartitionInfo] {
        &self.partitions
    }

    /// Per partition, the distinct partial linearizations (history indices), longest first.
    pub fn partial_linearizations(&self) -> Vec<Vec<Vec<usize>>> {
        self.partitions
            .iter()
            .map(|partition| partition.partial_linearizations.clone())
            .collect()
    }
}
