//! Nondeterministic models and their conversion to ordinary models by the power-set
//! construction: the converted state is the set of states the object may be in.

use std::fmt::Debug;
use std::hash::{BuildHasher, Hash};

use crate::hashing::FixedState;
use crate::model::Model;
use crate::operation::Operation;

/// A model whose operations may lead to several states.
pub trait NondeterministicModel: Sync {
    /// An operation's input.
    type Input: Debug + Sync;
    /// An operation's output.
    type Output: Debug + Sync;
    /// One possible state of the object.
    type State: Clone + Eq + Hash + Debug + Send + Sync + 'static;

    /// The possible initial states.
    fn init(&self) -> Vec<Self::State>;

    /// Every state `state` may move to when `input` produces `output` (empty: illegal).
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Vec<Self::State>;

    /// As [`Model::partition`].
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// As [`Model::describe_operation`].
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String {
        format!("{input:?} -> {output:?}")
    }

    /// As [`Model::describe_state`].
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// A set of possible states: equality ignores order, and so does the hash.
#[derive(Clone, Debug)]
pub struct StateSet<S> {
    states: Vec<S>,
    hash: u64,
}

impl<S: Eq + Hash> StateSet<S> {
    /// The set of the given states (duplicates dropped).
    pub fn new(states: impl IntoIterator<Item = S>) -> StateSet<S> {
        let mut unique: Vec<S> = Vec::new();
        let mut hash = 0u64;
        for state in states {
            if !unique.contains(&state) {
                // A commutative combination (sum of element hashes) makes the hash order-free.
                hash = hash.wrapping_add(FixedState.hash_one(&state));
                unique.push(state);
            }
        }
        StateSet {
            states: unique,
            hash,
        }
    }

    /// The states, in no particular order.
    pub fn states(&self) -> &[S] {
        &self.states
    }
}

impl<S: Eq> PartialEq for StateSet<S> {
    fn eq(&self, other: &StateSet<S>) -> bool {
        self.hash == other.hash
            && self.states.len() == other.states.len()
            && self.states.iter().all(|state| other.states.contains(state))
    }
}

impl<S: Eq> Eq for StateSet<S> {}

impl<S> Hash for StateSet<S> {
    fn hash<H: std::hash::Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.hash);
    }
}

/// The deterministic model of a [`NondeterministicModel`] (power-set construction).
#[derive(Clone, Copy, Debug, Default)]
pub struct PowerSet<N>(pub N);

impl<N: NondeterministicModel> Model for PowerSet<N> {
    type Input = N::Input;
    type Output = N::Output;
    type State = StateSet<N::State>;

    fn init(&self) -> Self::State {
        StateSet::new(self.0.init())
    }

    fn step(
        &self,
        state: &Self::State,
        input: &N::Input,
        output: &N::Output,
    ) -> Option<Self::State> {
        let next = StateSet::new(
            state
                .states
                .iter()
                .flat_map(|state| self.0.step(state, input, output)),
        );
        (!next.states.is_empty()).then_some(next)
    }

    fn partition(&self, history: &[Operation<N::Input, N::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    fn state_hash(&self, state: &Self::State) -> u64 {
        state.hash
    }

    fn describe_operation(&self, input: &N::Input, output: &N::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let parts: Vec<String> = state
            .states
            .iter()
            .map(|state| self.0.describe_state(state))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}
