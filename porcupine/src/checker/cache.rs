//! The search's memory: every distinct model state once (numbered), and the memo cache of
//! (set of linearized operations, state number) pairs already explored (Lowe's
//! memoisation), both as compact open-addressing tables.
//!
//! Numbering states means the cache compares and stores integers instead of states, a
//! state owned by millions of cache entries is stored (and freed) once, and "same state"
//! is an integer comparison. Memory (by vector capacity, so growth slack counts) is
//! charged against a budget shared by every partition of a check; a search that needs
//! more gives up, leaving its partition undecided.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::{CancelToken, Model};

/// Bytes reserved from the shared budget at a time, so partitions rarely touch the atomic.
const BUDGET_CHUNK: usize = 1 << 20;

/// A slot holds `(upper 32 bits of the hash) << 32 | (entry + 1)`; 0 is empty. The
/// fingerprint lets a probe reject most entries without touching the arenas (the probe is
/// the search's main cache miss).
const EMPTY: u64 = 0;
const FINGERPRINT: u64 = 0xffff_ffff_0000_0000;
const MAX_ENTRIES: usize = u32::MAX as usize - 1;

/// A memory budget shared by all partitions of one check.
#[derive(Debug)]
pub(crate) struct Budget {
    remaining: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(bytes: usize) -> Budget {
        Budget {
            remaining: AtomicUsize::new(bytes),
        }
    }

    /// Takes up to `want` bytes; returns how many were granted.
    fn take(&self, want: usize) -> usize {
        let mut current = self.remaining.load(Ordering::Relaxed);
        loop {
            let grant = want.min(current);
            if grant == 0 {
                return 0;
            }
            match self.remaining.compare_exchange_weak(
                current,
                current - grant,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return grant,
                Err(actual) => current = actual,
            }
        }
    }
}

/// The budgets of one check: the state table and cache share most of the limit; the
/// step memo gets an eighth of it so it can never starve the cache (the cache is what
/// keeps the search polynomial; the memo only saves step calls).
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) search: Budget,
    pub(crate) memo: Budget,
}

impl Memory {
    pub(crate) fn new(limit: usize) -> Memory {
        Memory {
            search: Budget::new(limit - limit / 8),
            memo: Budget::new(limit / 8),
        }
    }
}

/// Bytes granted by the [`Budget`] to one partition and not yet used.
#[derive(Debug, Default)]
pub(crate) struct Allowance {
    bytes: usize,
}

impl Allowance {
    /// Spends `cost` bytes, drawing from the budget if needed; false if it is exhausted.
    pub(crate) fn spend(&mut self, cost: usize, budget: &Budget) -> bool {
        if self.bytes < cost {
            self.bytes += budget.take(BUDGET_CHUNK.max(cost));
            if self.bytes < cost {
                return false;
            }
        }
        self.bytes -= cost;
        true
    }
}

/// Makes room for `additional` more elements, charging the capacity it adds (vectors
/// double, so charging by length would undercount by up to half); false if the budget is
/// spent (nothing is reserved then).
pub(crate) fn reserve<T>(
    vector: &mut Vec<T>,
    additional: usize,
    allowance: &mut Allowance,
    budget: &Budget,
) -> bool {
    if vector.len() + additional <= vector.capacity() {
        return true;
    }
    let capacity = (vector.capacity() * 2)
        .max(vector.len() + additional)
        .max(64);
    if !allowance.spend(
        (capacity - vector.capacity()) * std::mem::size_of::<T>(),
        budget,
    ) {
        return false;
    }
    vector.reserve_exact(capacity - vector.len());
    true
}

/// Open-addressing index of entry numbers with hash fingerprints.
struct Slots {
    slots: Vec<u64>,
    mask: usize,
}

impl Slots {
    fn new() -> Slots {
        let capacity = 1024;
        Slots {
            slots: vec![EMPTY; capacity],
            mask: capacity - 1,
        }
    }

    /// The entry numbers whose fingerprint matches `hash`, then the free slot found.
    #[inline]
    fn probe(&self, hash: u64, mut matches: impl FnMut(usize) -> bool) -> Result<usize, usize> {
        let fingerprint = hash & FINGERPRINT;
        let mut slot = (hash as usize) & self.mask;
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY {
                return Err(slot);
            }
            if entry & FINGERPRINT == fingerprint {
                let index = (entry as u32 as usize) - 1;
                if matches(index) {
                    return Ok(index);
                }
            }
            slot = (slot + 1) & self.mask;
        }
    }

    fn fill(&mut self, slot: usize, hash: u64, index: usize) {
        self.slots[slot] = (hash & FINGERPRINT) | (index as u64 + 1);
    }

    /// Bytes the table will take on when it holds `entries` (it doubles past half full).
    fn growth_cost(&self, entries: usize) -> usize {
        if entries * 2 <= self.slots.len() {
            0
        } else {
            self.slots.len() * 2 * std::mem::size_of::<u64>()
        }
    }

    /// Doubles the table if `entries` passed half its size. Stops half-way if the check is
    /// cancelled meanwhile (the table is then unusable, but its search is ending).
    fn grow_if_needed(&mut self, entries: usize, hashes: &[u64], cancel: &CancelToken) {
        if entries * 2 <= self.slots.len() {
            return;
        }
        let capacity = self.slots.len() * 2;
        self.slots = vec![EMPTY; capacity];
        self.mask = capacity - 1;
        for (index, &hash) in hashes.iter().enumerate() {
            if index % 65536 == 65535 && cancel.is_cancelled() {
                return;
            }
            let mut slot = (hash as usize) & self.mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & self.mask;
            }
            self.fill(slot, hash, index);
        }
    }
}

/// Every distinct state the search reached, numbered in order of discovery.
pub(crate) struct StateTable<S> {
    states: Vec<S>,
    hashes: Vec<u64>,
    slots: Slots,
}

impl<S> StateTable<S> {
    pub(crate) fn new() -> StateTable<S> {
        StateTable {
            states: Vec::new(),
            hashes: Vec::new(),
            slots: Slots::new(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: u32) -> &S {
        &self.states[id as usize]
    }

    /// The number of `state`, adding it if new; `None` if the memory budget is spent
    /// (the search then gives up: it cannot go on without its states).
    #[inline]
    pub(crate) fn intern<M: Model<State = S>>(
        &mut self,
        model: &M,
        state: S,
        allowance: &mut Allowance,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Option<u32> {
        let hash = crate::hashing::mix64(model.state_hash(&state));
        let slot = match self
            .slots
            .probe(hash, |index| model.equal(&self.states[index], &state))
        {
            Ok(index) => return Some(index as u32),
            Err(slot) => slot,
        };
        // The state's own heap, plus the allocator's bookkeeping for it.
        let heap = model.state_heap_bytes(&state);
        let fits = self.states.len() < MAX_ENTRIES
            && reserve(&mut self.states, 1, allowance, budget)
            && reserve(&mut self.hashes, 1, allowance, budget)
            && allowance.spend(self.slots.growth_cost(self.states.len() + 1), budget)
            && allowance.spend(if heap > 0 { heap + 16 } else { 0 }, budget);
        if !fits {
            return None;
        }
        let index = self.states.len();
        self.slots.fill(slot, hash, index);
        self.states.push(state);
        self.hashes.push(hash);
        // An interrupted grow leaves the table unusable, but the search is being cancelled.
        self.slots
            .grow_if_needed(self.states.len(), &self.hashes, cancel);
        Some(index as u32)
    }

    /// Number of distinct states.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }
}

/// The (linearized set, state number) pairs already explored. Sets are kept in the
/// compact form of [`super::linearized::LinearizedSet`]: the number of leading full
/// words and the words after them, so an entry costs a few words, not one bit per
/// operation of the partition.
pub(crate) struct Cache {
    /// Every entry's tail words, one after another.
    tails: Vec<u64>,
    /// Per entry: where its tail starts in `tails` (it ends where the next one starts).
    starts: Vec<usize>,
    /// Per entry: its number of leading full words.
    fulls: Vec<u32>,
    states: Vec<u32>,
    hashes: Vec<u64>,
    slots: Slots,
}

impl Cache {
    pub(crate) fn new() -> Cache {
        Cache {
            tails: Vec::new(),
            starts: Vec::new(),
            fulls: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            slots: Slots::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Entry `index`'s tail words.
    #[inline]
    fn tail(&self, index: usize) -> &[u64] {
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.tails.len());
        &self.tails[self.starts[index]..end]
    }

    /// Inserts (set, state) unless present: `Some(true)` if it was absent, `Some(false)`
    /// if present, `None` if it is absent and the memory budget is spent. `set` is the
    /// compact form (full words, tail) and `set_hash` its Zobrist hash.
    #[inline]
    pub(crate) fn insert_if_absent(
        &mut self,
        (full, tail): (usize, &[u64]),
        set_hash: u64,
        state: u32,
        allowance: &mut Allowance,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Option<bool> {
        let hash = set_hash ^ crate::hashing::mix64(u64::from(state));
        let found = self.slots.probe(hash, |index| {
            self.states[index] == state
                && self.fulls[index] as usize == full
                && same_words(self.tail(index), tail)
        });
        let slot = match found {
            Ok(_) => return Some(false),
            Err(slot) => slot,
        };
        let fits = self.states.len() < MAX_ENTRIES
            && reserve(&mut self.tails, tail.len(), allowance, budget)
            && reserve(&mut self.starts, 1, allowance, budget)
            && reserve(&mut self.fulls, 1, allowance, budget)
            && reserve(&mut self.states, 1, allowance, budget)
            && reserve(&mut self.hashes, 1, allowance, budget)
            && allowance.spend(self.slots.growth_cost(self.states.len() + 1), budget);
        if !fits {
            return None;
        }
        let index = self.states.len();
        self.slots.fill(slot, hash, index);
        self.starts.push(self.tails.len());
        self.tails.extend_from_slice(tail);
        self.fulls.push(full as u32);
        self.states.push(state);
        self.hashes.push(hash);
        // An interrupted grow leaves the table unusable, but the search is being cancelled.
        self.slots
            .grow_if_needed(self.states.len(), &self.hashes, cancel);
        Some(true)
    }
}

/// Word-wise equality; bitsets are a handful of words, so this beats a `memcmp` call.
#[inline]
fn same_words(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}
