//! The depth-first search of one partition (Wing & Gong, with Lowe's memo cache),
//! written as a resumable state machine so a worker can run it in slices.

use crate::hashing::mix64;
use crate::model::{CancelToken, Model};
use crate::operation::Operation;

use super::cache::{Allowance, Budget, Cache, Memory, StateTable};
use super::linearized::LinearizedSet;
use super::memo::StepMemo;
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
    /// Gave up: the check's memory budget is spent.
    OutOfMemory,
}

/// The search's memory budget is spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OutOfMemory;

struct Frame {
    call_entry: u32,
    previous: u32,
    /// For an operation that never returned: the boundary of the config it was tried in.
    boundary: u32,
    /// The operation was read-only from the state it was placed in (see
    /// [`Model::read_only`]): placing it at once is never worse than placing it later, so
    /// if the configuration it led to fails, so does the one below it.
    forced: bool,
}

/// What trying a candidate operation came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    /// It was linearized.
    Pushed,
    /// Not here (illegal, explored before, or pointless): try the next candidate.
    Refused,
    /// It is read-only and legal here, and placing it leads to a configuration that
    /// failed before: the current configuration fails too.
    Dominated,
}

/// Which candidates the walk is trying at the current configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Calls of returned operations, in time order, up to the first return entry.
    Returned,
    /// Then calls of operations that never returned, made before `boundary` (that first
    /// return entry): they rarely matter, so they are tried last.
    Pending { boundary: u32 },
}

/// One partition's search state.
///
/// Entries are the calls and returns in time order (calls first on ties), numbered from 1.
/// Returned operations' calls and returns form one doubly linked list, the calls of
/// operations that never returned another; linearizing an operation unlinks its entries
/// and backtracking relinks them (dancing links).
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    inputs: Vec<&'a M::Input>,
    outputs: Vec<&'a M::Output>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Sentinels: returned list head/tail, pending list head/tail.
    returned_head: u32,
    returned_tail: u32,
    pending_head: u32,
    pending_tail: u32,
    /// Per entry: the local operation id, with the top bit set on return entries.
    entry: Vec<u32>,
    /// Per operation: its return entry, or `NONE` if it never returned.
    return_entry: Vec<u32>,
    /// Every state reached, numbered; the search works with the numbers.
    states: StateTable<M::State>,
    state: u32,
    linearized: LinearizedSet,
    zobrist: Vec<u64>,
    set_hash: u64,
    stack: Vec<Frame>,
    stack_ops: Vec<u32>,
    cache: Cache,
    memo: StepMemo,
    allowance: Allowance,
    memo_allowance: Allowance,
    cursor: u32,
    phase: Phase,
    /// Returned operations not yet linearized; the search succeeds when it reaches 0.
    required_left: usize,
    partials: Option<Partials>,
    /// Model step calls so far.
    pub(crate) steps: u64,
    /// Candidate operations tried so far (with or without a model step call).
    pub(crate) attempts: u64,
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
        let entries = points.len() as u32;
        let (returned_head, returned_tail) = (0, entries + 1);
        let (pending_head, pending_tail) = (entries + 2, entries + 3);
        let size = entries as usize + 4;
        let mut entry = vec![0; size];
        let mut return_entry = vec![NONE; ops];
        let mut next = vec![0; size];
        let mut prev = vec![0; size];
        let (mut returned_last, mut pending_last) = (returned_head, pending_head);
        let mut link = |last: &mut u32, e: u32| {
            next[*last as usize] = e;
            prev[e as usize] = *last;
            *last = e;
        };
        for (position, &(_, is_return, op)) in points.iter().enumerate() {
            let e = position as u32 + 1;
            if is_return {
                return_entry[op as usize] = e;
                entry[e as usize] = op | RETURN_BIT;
                link(&mut returned_last, e);
            } else {
                entry[e as usize] = op;
                if history[indices[op as usize]].is_pending() {
                    link(&mut pending_last, e);
                } else {
                    link(&mut returned_last, e);
                }
            }
        }
        link(&mut returned_last, returned_tail);
        link(&mut pending_last, pending_tail);
        // Bits in the order the search tends to linearize: returned operations by call
        // time, then the ones that never returned (see `LinearizedSet`).
        let mut bit_of = vec![0u32; ops];
        let mut next_bit = 0u32;
        for pending in [false, true] {
            for &(_, is_return, op) in &points {
                if !is_return && (return_entry[op as usize] == NONE) == pending {
                    bit_of[op as usize] = next_bit;
                    next_bit += 1;
                }
            }
        }
        let zobrist = (0..ops as u64).map(mix64).collect();
        let mut states = StateTable::new();
        let state = states
            .intern(
                model,
                model.init(),
                &mut Allowance::default(),
                &Budget::new(usize::MAX),
                &CancelToken::new(),
            )
            .expect("an unlimited budget");
        let cursor = next[returned_head as usize];
        Search {
            model,
            inputs,
            outputs,
            next,
            prev,
            returned_head,
            returned_tail,
            pending_head,
            pending_tail,
            entry,
            return_entry,
            states,
            state,
            linearized: LinearizedSet::new(bit_of),
            zobrist,
            set_hash: 0,
            stack: Vec::new(),
            stack_ops: Vec::new(),
            cache: Cache::new(),
            memo: StepMemo::new(ops),
            allowance: Allowance::default(),
            memo_allowance: Allowance::default(),
            cursor,
            phase: Phase::Returned,
            required_left,
            partials: verbose.then(|| Partials::new(ops)),
            steps: 0,
            attempts: 0,
            status: Status::Running,
        }
    }

    #[inline]
    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    #[inline]
    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        self.prev[n as usize] = e;
    }

    /// Tries to linearize `op` (call entry `call_entry`) next: true if it did.
    #[inline]
    fn attempt(
        &mut self,
        op: usize,
        call_entry: u32,
        boundary: u32,
        cancel: &CancelToken,
        memory: &Memory,
    ) -> Result<Attempt, OutOfMemory> {
        let Some(next) = self.try_step(op, cancel, memory)? else {
            return Ok(Attempt::Refused);
        };
        // Only returned operations are forced (they must be placed somewhere); the tried
        // call precedes every return entry still unlinked, so everything that must come
        // before it in real time is placed already.
        let forced = self.return_entry[op] != NONE
            && boundary == NONE
            && next == self.state
            && self.model.read_only(
                self.states.get(self.state),
                self.inputs[op],
                self.outputs[op],
            );
        match self.push(op, call_entry, next, boundary, cancel, memory)? {
            true => {
                self.stack.last_mut().expect("just pushed").forced = forced;
                Ok(Attempt::Pushed)
            }
            false if forced => Ok(Attempt::Dominated),
            false => Ok(Attempt::Refused),
        }
    }

    /// The model's verdict on `op` in the current state, as a state number (remembered).
    #[inline]
    fn try_step(
        &mut self,
        op: usize,
        cancel: &CancelToken,
        memory: &Memory,
    ) -> Result<Option<u32>, OutOfMemory> {
        self.attempts += 1;
        if let Some(known) = self.memo.get(self.state, op) {
            return Ok(known);
        }
        self.steps += 1;
        let stepped = self.model.step_cancellable(
            self.states.get(self.state),
            self.inputs[op],
            self.outputs[op],
            cancel,
        );
        let next = match stepped {
            Some(next_state) => Some(
                self.states
                    .intern(
                        self.model,
                        next_state,
                        &mut self.allowance,
                        &memory.search,
                        cancel,
                    )
                    .ok_or(OutOfMemory)?,
            ),
            None => None,
        };
        // A step interrupted by cancellation may have given up: not a result.
        if !cancel.is_cancelled() {
            self.memo
                .set(self.state, op, next, &mut self.memo_allowance, &memory.memo);
        }
        Ok(next)
    }

    /// Linearizes `op` (call entry `call_entry`) into state `next` unless that
    /// configuration was explored before; true if it did.
    #[inline]
    fn push(
        &mut self,
        op: usize,
        call_entry: u32,
        next: u32,
        boundary: u32,
        cancel: &CancelToken,
        memory: &Memory,
    ) -> Result<bool, OutOfMemory> {
        let returned = self.return_entry[op] != NONE;
        // An operation that never returned and leaves the state as it is gains nothing by
        // being linearized here: skipping it (it may never take effect) reaches the same
        // state with more options left. Verbose mode keeps it so partial linearizations
        // stay as long as upstream's.
        if !returned && next == self.state && self.partials.is_none() {
            return Ok(false);
        }
        self.linearized.insert(op);
        let set_hash = self.set_hash ^ self.zobrist[op];
        let absent = self.cache.insert_if_absent(
            self.linearized.compact(),
            set_hash,
            next,
            &mut self.allowance,
            &memory.search,
            cancel,
        );
        if absent != Some(true) {
            self.linearized.remove(op);
            return absent.ok_or(OutOfMemory);
        }
        self.stack.push(Frame {
            call_entry,
            previous: self.state,
            boundary,
            forced: false,
        });
        self.state = next;
        self.stack_ops.push(op as u32);
        self.set_hash = set_hash;
        self.unlink(call_entry);
        if returned {
            self.unlink(self.return_entry[op]);
            self.required_left -= 1;
        }
        if let Some(partials) = &mut self.partials {
            partials.pushed(&self.stack_ops);
        }
        self.cursor = self.next[self.returned_head as usize];
        self.phase = Phase::Returned;
        Ok(true)
    }

    /// The current configuration failed: undoes the last linearization and resumes after
    /// it, or, if that one was forced (the configuration below fails too), keeps undoing
    /// down to the last real choice; false if none is left.
    #[inline]
    fn backtrack(&mut self) -> bool {
        loop {
            let Some(forced) = self.pop() else {
                return false;
            };
            if !forced {
                return true;
            }
        }
    }

    /// Undoes the last linearization and resumes after it; `None` if there is none, else
    /// whether it was forced.
    #[inline]
    fn pop(&mut self) -> Option<bool> {
        let frame = self.stack.pop()?;
        let op = self.stack_ops.pop().expect("stacks move together") as usize;
        if let Some(partials) = &mut self.partials {
            partials.popped();
        }
        self.state = frame.previous;
        self.linearized.remove(op);
        self.set_hash ^= self.zobrist[op];
        let ret = self.return_entry[op];
        if ret != NONE {
            self.relink(ret);
            self.required_left += 1;
            self.phase = Phase::Returned;
        } else {
            self.phase = Phase::Pending {
                boundary: frame.boundary,
            };
        }
        self.relink(frame.call_entry);
        self.cursor = self.next[frame.call_entry as usize];
        Some(frame.forced)
    }

    /// Runs at most `budget` loop iterations (or until done); returns the new status.
    pub(crate) fn run(&mut self, mut budget: u64, cancel: &CancelToken, memory: &Memory) -> Status {
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
            let e = self.cursor;
            match self.phase {
                Phase::Returned => {
                    debug_assert!(e != self.returned_tail, "a return entry always remains");
                    let entry = self.entry[e as usize];
                    if entry & RETURN_BIT != 0 {
                        // No returned operation fits before this return: try the others.
                        self.phase = Phase::Pending { boundary: e };
                        self.cursor = self.next[self.pending_head as usize];
                        continue;
                    }
                    let op = entry as usize;
                    match self.attempt(op, e, NONE, cancel, memory) {
                        Ok(Attempt::Pushed) => continue,
                        Ok(Attempt::Refused) => self.cursor = self.next[e as usize],
                        Ok(Attempt::Dominated) => {
                            if !self.backtrack() {
                                self.status = Status::Illegal;
                                return self.status;
                            }
                        }
                        Err(OutOfMemory) => {
                            self.status = Status::OutOfMemory;
                            return self.status;
                        }
                    }
                }
                Phase::Pending { boundary } => {
                    if e == self.pending_tail || e > boundary {
                        // Some operation had to be linearized before `boundary` and none
                        // could be.
                        if !self.backtrack() {
                            self.status = Status::Illegal;
                            return self.status;
                        }
                        continue;
                    }
                    let op = self.entry[e as usize] as usize;
                    match self.attempt(op, e, boundary, cancel, memory) {
                        Ok(Attempt::Pushed) => continue,
                        Ok(Attempt::Refused | Attempt::Dominated) => {
                            self.cursor = self.next[e as usize]
                        }
                        Err(OutOfMemory) => {
                            self.status = Status::OutOfMemory;
                            return self.status;
                        }
                    }
                }
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
        let mut state = self.states.get(self.state).clone();
        let mut e = self.next[self.pending_head as usize];
        while e != self.pending_tail {
            let op = self.entry[e as usize] as usize;
            if let Some(next_state) = self.model.step(&state, self.inputs[op], self.outputs[op]) {
                state = next_state;
                sequence.push(op as u32);
            }
            e = self.next[e as usize];
        }
        partials.record(&sequence);
    }

    /// Splits the finished search into its partial linearizations (verbose mode only:
    /// distinct sequences of local operation ids, longest first, and per operation the
    /// index of its longest one) and the memory it used.
    pub(crate) fn finish(self) -> (Option<Found>, Leftovers<M::State>) {
        let leftovers = Leftovers {
            weight: self.states.len() + self.cache.len(),
            _states: self.states,
            _cache: self.cache,
            _memo: self.memo,
        };
        (self.partials.map(Partials::finish), leftovers)
    }
}

/// The bulk of a finished search's memory: big ones are freed on a helper thread so the
/// verdict is not held up by millions of deallocations.
/// Held only to be dropped.
pub(crate) struct Leftovers<S> {
    /// Number of states and cache entries: a proxy for the time freeing them takes.
    pub(crate) weight: usize,
    _states: StateTable<S>,
    _cache: Cache,
    _memo: StepMemo,
}
