//! The depth-first search of one partition (Wing & Gong, with Lowe's memo cache),
//! written as a resumable state machine so a worker can run it in slices.

use crate::hashing::mix64;
use crate::model::{CancelToken, Model};
use crate::operation::Operation;

use super::cache::{Budget, Cache};
use super::partials::{Found, Partials};

/// Marks the absence of a return entry (operation that never returned).
const NONE: u32 = u32::MAX;

/// How a partition's search stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Not finished yet.
    Running,
    /// Every returned operation was linearized.
    Linearizable,
    /// No linearization exists.
    Illegal,
    /// Stopped by the cancel token before deciding.
    Cancelled,
}

struct Frame<S> {
    call_entry: u32,
    previous: S,
}

/// One partition's search state.
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    inputs: Vec<&'a M::Input>,
    outputs: Vec<&'a M::Output>,
    /// Entry list (doubly linked): 0 is the head sentinel, `tail` the tail sentinel.
    next: Vec<u32>,
    prev: Vec<u32>,
    tail: u32,
    /// Per entry: the local operation id, with the top bit set on return entries.
    entry: Vec<u32>,
    /// Per operation: its return entry, or `NONE` if it never returned.
    return_entry: Vec<u32>,
    state: M::State,
    linearized: Vec<u64>,
    zobrist: Vec<u64>,
    set_hash: u64,
    stack: Vec<Frame<M::State>>,
    stack_ops: Vec<u32>,
    cache: Cache<M::State>,
    cursor: u32,
    /// Returned operations not yet linearized; the search succeeds when it reaches 0.
    required_left: usize,
    partials: Option<Partials>,
    /// Model step calls so far.
    pub(crate) steps: u64,
    pub(crate) status: Status,
}

const RETURN_BIT: u32 = 1 << 31;

impl<'a, M: Model> Search<'a, M> {
    /// Prepares the search of the operations `indices` of `history`.
    pub(crate) fn new(
        model: &'a M,
        history: &'a [Operation<M::Input, M::Output>],
        indices: &[usize],
        verbose: bool,
    ) -> Search<'a, M> {
        let ops = indices.len();
        assert!(ops < (RETURN_BIT as usize) / 2, "partition too large");
        // (time, is_return, op): calls sort before returns at equal times (closed intervals).
        let mut points: Vec<(i64, bool, u32)> = Vec::with_capacity(2 * ops);
        let mut inputs = Vec::with_capacity(ops);
        let mut outputs = Vec::with_capacity(ops);
        let mut required_left = 0;
        for (local, &index) in indices.iter().enumerate() {
            let operation = &history[index];
            inputs.push(&operation.input);
            outputs.push(&operation.output);
            points.push((operation.call, false, local as u32));
            if !operation.is_pending() {
                points.push((
                    operation.return_time.max(operation.call),
                    true,
                    local as u32,
                ));
                required_left += 1;
            }
        }
        points.sort();
        let entries = points.len();
        let tail = entries as u32 + 1;
        let mut entry = Vec::with_capacity(entries + 2);
        let mut return_entry = vec![NONE; ops];
        entry.push(0);
        for (position, &(_, is_return, op)) in points.iter().enumerate() {
            if is_return {
                return_entry[op as usize] = position as u32 + 1;
                entry.push(op | RETURN_BIT);
            } else {
                entry.push(op);
            }
        }
        entry.push(0);
        let next: Vec<u32> = (0..=tail).map(|e| (e + 1).min(tail)).collect();
        let prev: Vec<u32> = (0..=tail).map(|e| e.saturating_sub(1)).collect();
        let words = ops.div_ceil(64).max(1);
        let zobrist = (0..ops as u64).map(mix64).collect();
        let state = model.init();
        Search {
            model,
            inputs,
            outputs,
            next,
            prev,
            tail,
            entry,
            return_entry,
            state,
            linearized: vec![0; words],
            zobrist,
            set_hash: 0,
            stack: Vec::new(),
            stack_ops: Vec::new(),
            cache: Cache::new(words),
            cursor: if entries == 0 { tail } else { 1 },
            required_left,
            partials: verbose.then(|| Partials::new(ops)),
            steps: 0,
            status: Status::Running,
        }
    }

    #[inline]
    fn lift(&mut self, call_entry: u32, op: usize) {
        let (next, prev) = (&mut self.next, &mut self.prev);
        let (p, n) = (prev[call_entry as usize], next[call_entry as usize]);
        next[p as usize] = n;
        prev[n as usize] = p;
        let ret = self.return_entry[op];
        if ret != NONE {
            let (p, n) = (prev[ret as usize], next[ret as usize]);
            next[p as usize] = n;
            prev[n as usize] = p;
        }
    }

    #[inline]
    fn unlift(&mut self, call_entry: u32, op: usize) {
        let (next, prev) = (&mut self.next, &mut self.prev);
        let ret = self.return_entry[op];
        if ret != NONE {
            let (p, n) = (prev[ret as usize], next[ret as usize]);
            next[p as usize] = ret;
            prev[n as usize] = ret;
        }
        let (p, n) = (prev[call_entry as usize], next[call_entry as usize]);
        next[p as usize] = call_entry;
        prev[n as usize] = call_entry;
    }

    /// Runs at most `budget` loop iterations (or until done); returns the new status.
    pub(crate) fn run(&mut self, mut budget: u64, cancel: &CancelToken, memory: &Budget) -> Status {
        if self.status != Status::Running {
            return self.status;
        }
        loop {
            if self.required_left == 0 {
                self.succeed();
                return self.status;
            }
            if budget == 0 {
                return Status::Running;
            }
            budget -= 1;
            if cancel.is_cancelled() {
                self.status = Status::Cancelled;
                return self.status;
            }
            let entry_index = self.cursor;
            debug_assert!(entry_index != self.tail, "a return entry always remains");
            let entry = self.entry[entry_index as usize];
            if entry & RETURN_BIT == 0 {
                let op = entry as usize;
                self.steps += 1;
                let stepped = self.model.step_cancellable(
                    &self.state,
                    self.inputs[op],
                    self.outputs[op],
                    cancel,
                );
                if let Some(next_state) = stepped {
                    let word = op / 64;
                    let bit = 1u64 << (op % 64);
                    self.linearized[word] |= bit;
                    let set_hash = self.set_hash ^ self.zobrist[op];
                    let hash = set_hash
                        ^ self
                            .model
                            .state_hash(&next_state)
                            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    if self.cache.insert_if_absent(
                        self.model,
                        &self.linearized,
                        hash,
                        &next_state,
                        memory,
                    ) {
                        let previous = std::mem::replace(&mut self.state, next_state);
                        self.stack.push(Frame {
                            call_entry: entry_index,
                            previous,
                        });
                        self.stack_ops.push(op as u32);
                        self.set_hash = set_hash;
                        self.lift(entry_index, op);
                        if self.return_entry[op] != NONE {
                            self.required_left -= 1;
                        }
                        if let Some(partials) = &mut self.partials {
                            partials.pushed(&self.stack_ops);
                        }
                        self.cursor = self.next[0];
                        continue;
                    }
                    self.linearized[word] &= !bit;
                }
                self.cursor = self.next[entry_index as usize];
            } else {
                // A return: some operation had to be linearized before it and none could be.
                let Some(frame) = self.stack.pop() else {
                    self.status = Status::Illegal;
                    return self.status;
                };
                let op = self.stack_ops.pop().expect("stacks move together") as usize;
                if let Some(partials) = &mut self.partials {
                    partials.popped();
                }
                self.state = frame.previous;
                self.linearized[op / 64] &= !(1u64 << (op % 64));
                self.set_hash ^= self.zobrist[op];
                self.unlift(frame.call_entry, op);
                if self.return_entry[op] != NONE {
                    self.required_left += 1;
                }
                self.cursor = self.next[frame.call_entry as usize];
            }
        }
    }

    /// Every returned operation is placed. In verbose mode, also place the operations that
    /// never returned wherever the model accepts them at the end, so the reported
    /// linearization covers them too.
    fn succeed(&mut self) {
        self.status = Status::Linearizable;
        let Some(partials) = &mut self.partials else {
            return;
        };
        let mut sequence = self.stack_ops.clone();
        let mut state = self.state.clone();
        let mut entry_index = self.next[0];
        while entry_index != self.tail {
            let entry = self.entry[entry_index as usize];
            if entry & RETURN_BIT == 0 {
                let op = entry as usize;
                if let Some(next_state) = self.model.step(&state, self.inputs[op], self.outputs[op])
                {
                    state = next_state;
                    sequence.push(op as u32);
                }
            }
            entry_index = self.next[entry_index as usize];
        }
        partials.record(&sequence);
    }

    /// Number of (set, state) pairs memoised.
    #[allow(dead_code)]
    pub(crate) fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// The partial linearizations found (verbose mode only): distinct sequences of local
    /// operation ids, longest first, and per operation the index of its longest one.
    pub(crate) fn into_partials(self) -> Option<Found> {
        self.partials.map(Partials::finish)
    }
}
