//! The set of operations a search has linearized, as a bitset that knows its own
//! compact form.
//!
//! Bits are numbered so the search fills them from the low end: returned operations in
//! call order first, then operations that never returned. A search works near a
//! frontier, so every set it reaches is a run of full words, then a few words with
//! holes, then zeros. The memo cache keys on that form — the number of full words and
//! the words after them up to the last non-zero one — which is canonical (two sets are
//! equal exactly when their forms are) and a handful of words long however long the
//! history is. Storing the whole bitset instead costs O(n) per configuration, O(n²)
//! over a search: 10 KB per entry for an 80,000-operation partition.

/// The linearized operations of one partition's search.
pub(crate) struct LinearizedSet {
    words: Vec<u64>,
    /// Per local operation: its bit.
    bit_of: Vec<u32>,
    /// `words[..full]` are all ones and `words[full]` (if any) is not.
    full: usize,
    /// `words[end..]` are all zeros and `words[end - 1]` (if any) is not.
    end: usize,
}

impl LinearizedSet {
    /// An empty set over `bit_of.len()` operations, with operation `op` at bit
    /// `bit_of[op]` (a permutation of `0..bit_of.len()`).
    pub(crate) fn new(bit_of: Vec<u32>) -> LinearizedSet {
        let words = bit_of.len().div_ceil(64).max(1);
        LinearizedSet {
            words: vec![0; words],
            bit_of,
            full: 0,
            end: 0,
        }
    }

    /// Adds operation `op` (not in the set).
    #[inline]
    pub(crate) fn insert(&mut self, op: usize) {
        let bit = self.bit_of[op] as usize;
        let word = bit / 64;
        self.words[word] |= 1 << (bit % 64);
        self.end = self.end.max(word + 1);
        while self.full < self.words.len() && self.words[self.full] == u64::MAX {
            self.full += 1;
        }
    }

    /// Removes operation `op` (in the set).
    #[inline]
    pub(crate) fn remove(&mut self, op: usize) {
        let bit = self.bit_of[op] as usize;
        let word = bit / 64;
        self.words[word] &= !(1 << (bit % 64));
        self.full = self.full.min(word);
        while self.end > 0 && self.words[self.end - 1] == 0 {
            self.end -= 1;
        }
    }

    /// The compact form: the number of leading full words, and the words after them up
    /// to the last non-zero one.
    #[inline]
    pub(crate) fn compact(&self) -> (usize, &[u64]) {
        let tail_end = self.end.max(self.full);
        (self.full, &self.words[self.full..tail_end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole bitset back from the compact form.
    fn expand(set: &LinearizedSet) -> Vec<u64> {
        let (full, tail) = set.compact();
        let mut words = vec![u64::MAX; full];
        words.extend_from_slice(tail);
        words.resize(set.words.len(), 0);
        words
    }

    #[test]
    fn compact_form_tracks_inserts_and_removes() {
        let ops = 200;
        // A scrambled numbering, so bits are not set in order.
        let bit_of: Vec<u32> = (0..ops).map(|op| (op * 77 % ops) as u32).collect();
        let mut set = LinearizedSet::new(bit_of.clone());
        let mut reference = vec![0u64; 4];
        let mut members = Vec::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let op = (rng % ops as u64) as usize;
            let bit = bit_of[op] as usize;
            if let Some(position) = members.iter().position(|&m| m == op) {
                members.swap_remove(position);
                set.remove(op);
                reference[bit / 64] &= !(1 << (bit % 64));
            } else {
                members.push(op);
                set.insert(op);
                reference[bit / 64] |= 1 << (bit % 64);
            }
            assert_eq!(expand(&set), reference);
            let (full, tail) = set.compact();
            assert!(tail.first().is_none_or(|&w| w != u64::MAX));
            assert!(tail.last().is_none_or(|&w| w != 0));
            assert!(reference[..full].iter().all(|&w| w == u64::MAX));
        }
    }

    #[test]
    fn filling_in_order_keeps_the_form_short() {
        let ops = 10_000;
        let mut set = LinearizedSet::new((0..ops as u32).collect());
        for op in 0..ops {
            set.insert(op);
            let (full, tail) = set.compact();
            assert_eq!(full, (op + 1) / 64);
            assert!(tail.len() <= 1);
        }
    }
}
