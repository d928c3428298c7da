//! What a model of a sequential object must provide, and the power-set conversion for
//! nondeterministic models.

use std::fmt::Debug;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::operation::Operation;

/// A sequential specification the checker linearizes histories against.
///
/// Only [`init`](Model::init) and [`step`](Model::step) are required. `step` must be pure:
/// the checker calls it many times on the same arguments and memoises on its result.
pub trait Model: Sync {
    /// An operation's input (what the client asked for).
    type Input: Debug + Sync;
    /// An operation's output (what the client got back).
    type Output: Debug + Sync;
    /// The object's state. Equal states must hash equally (see [`Model::state_hash`]).
    /// Owned (`'static`) so the checker can free a large search's states off the caller's
    /// thread.
    type State: Clone + Eq + Hash + Debug + Send + 'static;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies one operation: `Some(next state)` if `output` is a legal result of `input`
    /// in `state`, `None` if it is not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Like [`step`](Model::step) but able to notice that the check was cancelled (timeout
    /// or another partition found the history illegal). A step that may block for long must
    /// override this and return promptly once `cancel` fires; the result is then ignored.
    fn step_cancellable(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
        cancel: &CancelToken,
    ) -> Option<Self::State> {
        let _ = cancel;
        self.step(state, input, output)
    }

    /// Splits a history into independent sub-histories (P-compositionality), each given as
    /// indices into `history`. The whole history is linearizable iff every part is. Every
    /// operation must land in exactly one part. Default: one part holding everything.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// Whether `input` with `output` is read-only from `state` on: in `state` and in every
    /// state reachable from it, the operation leaves the state unchanged whenever it is
    /// legal (a read, a refused conditional write). The search then places such an
    /// operation as soon as it is legal and never tries it later instead (moving it
    /// earlier keeps every other operation's state). A wrong `true` can make the checker
    /// miss linearizations. Default: `false` (no assumption).
    fn read_only(&self, state: &Self::State, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (state, input, output);
        false
    }

    /// Whether two states are equal for the memo cache. Default: `==`.
    fn equal(&self, a: &Self::State, b: &Self::State) -> bool {
        a == b
    }

    /// Hash of a state for the memo cache; must agree with [`equal`](Model::equal).
    /// Default: the state's `Hash` through a fast fixed hasher.
    fn state_hash(&self, state: &Self::State) -> u64 {
        crate::hashing::FixedState.hash_one(state)
    }

    /// Heap bytes a state owns, for the memo cache's memory budget. Default: 0.
    fn state_heap_bytes(&self, state: &Self::State) -> usize {
        let _ = state;
        0
    }

    /// The output that stands for "never returned" when an event history has a call with
    /// no return (see [`crate::NEVER`]). Default: `None` (such histories are rejected).
    fn unknown_output(&self, input: &Self::Input) -> Option<Self::Output> {
        let _ = input;
        None
    }

    /// Human-readable text for an operation in the visualisation.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// Human-readable text for a state in the visualisation.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// Tells model steps and searches that the check has been cancelled.
///
/// Set when the timeout fires or, in a non-verbose check, when some partition turned out
/// illegal. Cheap to poll; [`wait`](CancelToken::wait) blocks until it fires.
#[derive(Debug, Default)]
pub struct CancelToken {
    cancelled: AtomicBool,
    lock: Mutex<()>,
    fired: Condvar,
}

impl CancelToken {
    /// A token that has not fired.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Whether the check has been cancelled.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Fires the token, waking every waiter.
    pub fn cancel(&self) {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.cancelled.store(true, Ordering::Relaxed);
        self.fired.notify_all();
    }

    /// Blocks until the token fires.
    pub fn wait(&self) {
        let mut guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while !self.is_cancelled() {
            guard = self
                .fired
                .wait(guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Blocks until the token fires or `timeout` passes; true if it fired.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (_guard, _) = self
            .fired
            .wait_timeout_while(guard, timeout, |_| !self.is_cancelled())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.is_cancelled()
    }
}
