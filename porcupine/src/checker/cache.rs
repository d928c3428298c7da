//! The memo cache of (set of linearized operations, model state) pairs already explored
//! (Lowe's memoisation), as a compact open-addressing table.
//!
//! Entries live in flat arenas (bitset words, states, hashes) and the table holds entry
//! numbers, so an entry costs a few words plus its state. Memory is charged against a
//! budget shared by every partition of a check; once it is spent the cache stops
//! growing, which keeps the search correct (the cache only prunes) but unbounded in time
//! — the timeout then ends the check.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::Model;

/// Bytes reserved from the shared budget at a time, so partitions rarely touch the atomic.
const BUDGET_CHUNK: usize = 1 << 20;
const EMPTY: u32 = u32::MAX;

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

pub(crate) struct Cache<S> {
    words: usize,
    bits: Vec<u64>,
    states: Vec<S>,
    hashes: Vec<u64>,
    slots: Vec<u32>,
    mask: usize,
    /// Bytes granted from the budget and not yet used.
    allowance: usize,
    full: bool,
}

impl<S: Clone> Cache<S> {
    pub(crate) fn new(words: usize) -> Cache<S> {
        let capacity = 1024;
        Cache {
            words,
            bits: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            slots: vec![EMPTY; capacity],
            mask: capacity - 1,
            allowance: 0,
            full: false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// Inserts (bits, state) unless an equal pair is present; true if it was absent.
    ///
    /// Once the memory budget is spent, nothing is stored and every pair counts as new.
    #[inline]
    pub(crate) fn insert_if_absent<M: Model<State = S>>(
        &mut self,
        model: &M,
        bits: &[u64],
        hash: u64,
        state: &S,
        budget: &Budget,
    ) -> bool {
        let mut slot = (hash as usize) & self.mask;
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY {
                break;
            }
            let index = entry as usize;
            if self.hashes[index] == hash
                && self.bits[index * self.words..(index + 1) * self.words] == *bits
                && model.equal(&self.states[index], state)
            {
                return false;
            }
            slot = (slot + 1) & self.mask;
        }
        if self.full {
            return true;
        }
        let cost = self.words * 8
            + std::mem::size_of::<S>()
            + 8
            + 2 * std::mem::size_of::<u32>()
            + model.state_heap_bytes(state);
        if self.allowance < cost {
            self.allowance += budget.take(BUDGET_CHUNK.max(cost));
            if self.allowance < cost || self.states.len() >= (EMPTY - 1) as usize {
                self.full = true;
                return true;
            }
        }
        self.allowance -= cost;
        let index = self.states.len();
        self.slots[slot] = index as u32;
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.hashes.push(hash);
        if self.states.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let capacity = self.slots.len() * 2;
        self.slots = vec![EMPTY; capacity];
        self.mask = capacity - 1;
        for (index, &hash) in self.hashes.iter().enumerate() {
            let mut slot = (hash as usize) & self.mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & self.mask;
            }
            self.slots[slot] = index as u32;
        }
    }
}
