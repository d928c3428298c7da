//! Tracks, for every operation of a partition, the longest partial linearization seen
//! that contains it (what the verbose check reports and the visualisation shows).

use std::sync::Arc;

/// The partial linearizations of one partition.
pub(crate) struct Found {
    /// Distinct sequences of local operation ids, longest first.
    pub(crate) sequences: Vec<Vec<u32>>,
    /// Per local operation: index into `sequences` of the longest containing it.
    pub(crate) largest: Vec<Option<usize>>,
}

pub(crate) struct Partials {
    /// Per operation: length of the longest partial linearization containing it (0 = none).
    best_len: Vec<u32>,
    /// Per operation: that partial linearization, as local operation ids in order.
    best: Vec<Option<Arc<[u32]>>>,
    /// Per stack depth: the smallest `best_len` among the operations on the stack up to it.
    prefix_min: Vec<u32>,
}

impl Partials {
    pub(crate) fn new(ops: usize) -> Partials {
        Partials {
            best_len: vec![0; ops],
            best: vec![None; ops],
            prefix_min: Vec::new(),
        }
    }

    /// Called after `stack` grew by one operation.
    pub(crate) fn pushed(&mut self, stack: &[u32]) {
        let depth = stack.len() as u32;
        let op = stack[stack.len() - 1] as usize;
        let below = self.prefix_min.last().copied().unwrap_or(u32::MAX);
        let min = below.min(self.best_len[op]);
        self.prefix_min.push(min);
        if min < depth {
            self.record(stack);
        }
    }

    /// Called after the stack shrank by one operation.
    pub(crate) fn popped(&mut self) {
        self.prefix_min.pop();
    }

    /// Records `sequence` (the current stack, possibly extended) for all its operations
    /// whose best is shorter.
    pub(crate) fn record(&mut self, sequence: &[u32]) {
        let len = sequence.len() as u32;
        let shared: Arc<[u32]> = Arc::from(sequence);
        for &op in sequence {
            let op = op as usize;
            if self.best_len[op] < len {
                self.best_len[op] = len;
                self.best[op] = Some(shared.clone());
            }
        }
        // Every operation on the stack now has a best of at least the stack depth.
        let mut min = u32::MAX;
        for (depth, &op) in sequence.iter().enumerate().take(self.prefix_min.len()) {
            min = min.min(self.best_len[op as usize]);
            self.prefix_min[depth] = min;
        }
    }

    /// The distinct partial linearizations, longest first, and for each operation the
    /// index of the longest one containing it (`None` if it was never linearized).
    pub(crate) fn finish(self) -> Found {
        let mut distinct: Vec<Arc<[u32]>> = Vec::new();
        for sequence in self.best.iter().flatten() {
            if !distinct.iter().any(|known| Arc::ptr_eq(known, sequence)) {
                distinct.push(sequence.clone());
            }
        }
        // Longest first; among equals, the one recorded first (stable sort).
        distinct.sort_by_key(|sequence| std::cmp::Reverse(sequence.len()));
        let largest = self
            .best
            .iter()
            .map(|best| {
                best.as_ref().map(|sequence| {
                    distinct
                        .iter()
                        .position(|known| Arc::ptr_eq(known, sequence))
                        .expect("every best is among the distinct ones")
                })
            })
            .collect();
        let sequences = distinct.iter().map(|sequence| sequence.to_vec()).collect();
        Found { sequences, largest }
    }
}
