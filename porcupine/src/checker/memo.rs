//! Remembers model step results per (state number, operation): steps are pure, and the
//! search retries the same operation in the same state many times (after backtracking,
//! and at every depth for operations that never returned).

use super::cache::{Allowance, Budget, reserve};

/// Cell values: not yet computed, illegal, or `2 + next state number`.
const UNKNOWN: u32 = 0;
const ILLEGAL: u32 = 1;

/// `row_of` values besides row numbers.
const NO_ROW: u32 = u32::MAX;
const STEPPED_ONCE: u32 = u32::MAX - 1;

pub(crate) struct StepMemo {
    ops: usize,
    /// All rows, one after another: `ops` cells per row.
    cells: Vec<u32>,
    /// Per state number: its row, `NO_ROW`, or `STEPPED_ONCE` if one step from it was
    /// computed. Rows are made on a state's second computed step, so states seen once
    /// (most states of a key-value history) cost no row.
    row_of: Vec<u32>,
    /// Set when the memory budget ran out: new rows are no longer made.
    full: bool,
}

impl StepMemo {
    pub(crate) fn new(ops: usize) -> StepMemo {
        StepMemo {
            ops,
            cells: Vec::new(),
            row_of: Vec::new(),
            full: false,
        }
    }

    /// The remembered result: `None` if unknown, `Some(None)` if illegal, else the next state.
    #[inline]
    pub(crate) fn get(&self, state: u32, op: usize) -> Option<Option<u32>> {
        let row = *self.row_of.get(state as usize)?;
        if row >= STEPPED_ONCE {
            return None;
        }
        match self.cells[row as usize * self.ops + op] {
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
        if self.row_of.len() <= index {
            let missing = index + 1 - self.row_of.len();
            if !reserve(&mut self.row_of, missing, allowance, budget) {
                self.full = true;
                return;
            }
            self.row_of.resize(index + 1, NO_ROW);
        }
        let mut row = self.row_of[index];
        if row == NO_ROW {
            self.row_of[index] = STEPPED_ONCE;
            return;
        }
        if row == STEPPED_ONCE {
            let rows = self.cells.len() / self.ops.max(1);
            if self.full
                || rows >= STEPPED_ONCE as usize
                || !reserve(&mut self.cells, self.ops, allowance, budget)
            {
                self.full = true;
                return;
            }
            row = rows as u32;
            self.cells.resize(self.cells.len() + self.ops, UNKNOWN);
            self.row_of[index] = row;
        }
        let cell = match next {
            None => ILLEGAL,
            Some(next) if next < u32::MAX - 2 => next + 2,
            Some(_) => return,
        };
        self.cells[row as usize * self.ops + op] = cell;
    }
}
