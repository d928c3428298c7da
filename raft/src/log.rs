//! The replicated log with its compacted prefix.

use serde::{Deserialize, Serialize};

use crate::types::{LogIndex, Term};

/// The kept entries' encodings, back to back, so a persist copies bytes
/// instead of re-encoding the whole log (each entry is encoded once, when it
/// is appended).
#[derive(Clone, Debug, Default)]
struct EncodedEntries {
    bytes: Vec<u8>,
    /// `ends[i]` is where entry `i`'s bytes end.
    ends: Vec<usize>,
}

impl EncodedEntries {
    fn push<C: Serialize>(&mut self, entry: &Entry<C>) {
        self.bytes.extend_from_slice(&labgob::encode(entry));
        self.ends.push(self.bytes.len());
    }

    fn truncate(&mut self, keep: usize) {
        let cut = if keep == 0 { 0 } else { self.ends[keep - 1] };
        self.bytes.truncate(cut);
        self.ends.truncate(keep);
    }

    fn drop_front(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        let cut = self.ends[count - 1];
        self.bytes.drain(..cut);
        self.ends.drain(..count);
        for end in &mut self.ends {
            *end -= cut;
        }
    }
}

/// One log entry: a command and the term in which a leader received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry<C> {
    pub(crate) term: Term,
    pub(crate) command: C,
}

/// The log after its snapshot: entries `snapshot_index + 1 ..= last_index()`.
/// The snapshot's last index and term stand in for the compacted prefix, so the
/// consistency check still works at the boundary.
#[derive(Clone, Debug)]
pub(crate) struct Log<C> {
    snapshot_index: LogIndex,
    snapshot_term: Term,
    entries: Vec<Entry<C>>,
    encoded: EncodedEntries,
}

impl<C: Clone + Serialize> Log<C> {
    /// An empty log with no snapshot.
    pub(crate) fn new() -> Self {
        Log {
            snapshot_index: LogIndex(0),
            snapshot_term: Term(0),
            entries: Vec::new(),
            encoded: EncodedEntries::default(),
        }
    }

    /// A log rebuilt from persisted parts.
    pub(crate) fn from_parts(
        snapshot_index: LogIndex,
        snapshot_term: Term,
        entries: Vec<Entry<C>>,
    ) -> Self {
        let mut encoded = EncodedEntries::default();
        for entry in &entries {
            encoded.push(entry);
        }
        Log {
            snapshot_index,
            snapshot_term,
            entries,
            encoded,
        }
    }

    /// The kept entries' encodings, back to back: with a length prefix in front
    /// they are the encoding of [`Self::entries`] as a sequence.
    pub(crate) fn encoded_entries(&self) -> &[u8] {
        &self.encoded.bytes
    }

    /// Last index covered by the snapshot (0 if none).
    pub(crate) fn snapshot_index(&self) -> LogIndex {
        self.snapshot_index
    }

    /// Term of the entry at [`Self::snapshot_index`].
    pub(crate) fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// Index of the last entry (the snapshot's index if the log is empty).
    pub(crate) fn last_index(&self) -> LogIndex {
        self.snapshot_index.plus(self.entries.len())
    }

    /// Term of the last entry.
    pub(crate) fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The entries kept after the snapshot, in order.
    pub(crate) fn entries(&self) -> &[Entry<C>] {
        &self.entries
    }

    fn offset(&self, index: LogIndex) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        Some((index.0 - self.snapshot_index.0 - 1) as usize)
    }

    /// Term at `index`, if known: for the snapshot's own index and every kept entry.
    pub(crate) fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.offset(index).map(|i| self.entries[i].term)
    }

    /// The entry at `index`, if it is kept (not compacted, not past the end).
    pub(crate) fn get(&self, index: LogIndex) -> Option<&Entry<C>> {
        self.offset(index).map(|i| &self.entries[i])
    }

    /// Up to `max` entries starting at `from` (empty if `from` is past the end).
    /// `from` must be after the snapshot.
    pub(crate) fn slice_from(&self, from: LogIndex, max: usize) -> &[Entry<C>] {
        debug_assert!(from > self.snapshot_index);
        match self.offset(from) {
            Some(start) => {
                let end = self.entries.len().min(start + max);
                &self.entries[start..end]
            }
            None => &[],
        }
    }

    /// Appends one entry and returns its index.
    pub(crate) fn append(&mut self, entry: Entry<C>) -> LogIndex {
        self.encoded.push(&entry);
        self.entries.push(entry);
        self.last_index()
    }

    /// Drops `index` and everything after it. `index` must be after the snapshot.
    pub(crate) fn truncate_from(&mut self, index: LogIndex) {
        if let Some(i) = self.offset(index) {
            self.entries.truncate(i);
            self.encoded.truncate(i);
        }
    }

    /// The first kept index of the run of entries with `term` that contains
    /// `index` (never below the first kept entry).
    pub(crate) fn first_index_of_term_run(&self, index: LogIndex) -> LogIndex {
        let Some(term) = self.term_at(index) else {
            return index;
        };
        let mut first = index;
        while first.prev() > self.snapshot_index && self.term_at(first.prev()) == Some(term) {
            first = first.prev();
        }
        first
    }

    /// The last index holding an entry of `term`, searching from the end back to
    /// the snapshot boundary.
    pub(crate) fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        let mut index = self.last_index();
        while index >= self.snapshot_index {
            match self.term_at(index) {
                Some(t) if t == term => return Some(index),
                Some(t) if t < term => return None,
                _ => {}
            }
            if index == self.snapshot_index {
                break;
            }
            index = index.prev();
        }
        None
    }

    /// Forgets every entry through `index`, whose term is `term`: the snapshot now
    /// covers them. If `index` is past the end, the whole log is discarded.
    pub(crate) fn compact_through(&mut self, index: LogIndex, term: Term) {
        if index <= self.snapshot_index {
            return;
        }
        if index >= self.last_index() {
            self.entries.clear();
            self.encoded = EncodedEntries::default();
        } else {
            let keep_from = (index.0 - self.snapshot_index.0) as usize;
            self.entries.drain(..keep_from);
            self.encoded.drop_front(keep_from);
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }
}
