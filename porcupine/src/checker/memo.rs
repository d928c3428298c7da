//! Remembers model step results per (state number, operation): steps are pure, and the
//! search retries the same operation in the same state many times (after backtracking,
//! and at every depth for operations that never returned).

use super::cache::{Allowance, Budget};

/// Cell values: not yet computed, illegal, or `2 + next state number`.
const UNKNOWN: u32 = 0;
const ILLEGAL: u32 = 1;

pub(crate) struct StepMemo {
    ops: usize,
    /// Per state number, a row with one cell per operation (allocated on first use).
    rows: Vec<Option<Box<[u32]>>>,
    /// Per state number: whether a step from it was computed before without a row. Rows
    /// are made on a state's second computed step, so states seen once (most states of a
    /// key-value history) cost no row.
    stepped_once: Vec<bool>,
    /// Set when the memory budget ran out: new rows are no longer made.
    full: bool,
}

impl StepMemo {
    pub(crate) fn new(ops: usize) -> StepMemo {
        StepMemo {
            ops,
            rows: Vec::new(),
            stepped_once: Vec::new(),
            full: false,
        }
    }

    /// The remembered result: `None` if unknown, `Some(None)` if illegal, else the next state.
    #[inline]
    pub(crate) fn get(&self, state: u32, op: usize) -> Option<Option<u32>> {
        let row = self.rows.get(state as usize)?.as_ref()?;
        match row[op] {
            UNKNOWN => None,
            ILLEGAL => Some(None),
            cell => Some(Some(cell - 2)),
        }
    }

    #[inline]
    pub(crate) fn set(
        &mut self,
        state: u32,
        op: usize,
        next: Option<u32>,
        allowance: &mut Allowance,
        budget: &Budget,
    ) {
        let index = state as usize;
        if self.rows.len() <= index {
            self.rows.resize_with(index + 1, || None);
            self.stepped_once.resize(index + 1, false);
        }
        if self.rows[index].is_none() {
            if !self.stepped_once[index] {
                self.stepped_once[index] = true;
                return;
            }
            if self.full || !allowance.spend(self.ops * 4 + 16, budget) {
                self.full = true;
                return;
            }
            self.rows[index] = Some(vec![UNKNOWN; self.ops].into_boxed_slice());
        }
        let cell = match next {
            None => ILLEGAL,
            Some(next) if next < u32::MAX - 2 => next + 2,
            Some(_) => return,
        };
        if let Some(row) = &mut self.rows[index] {
            row[op] = cell;
        }
    }
}
