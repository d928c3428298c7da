//! The classic (2020–2024 labs) Put/Append/Get key-value model.
//!
//! [`KvModel`] partitions the history by key and models one key's string;
//! [`KvNoPartitionModel`] models the whole map at once (same verdicts, far slower: it is
//! there to show what P-compositionality buys).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::hashing::FixedState;
use crate::model::Model;
use crate::operation::Operation;
use std::hash::BuildHasher;

/// The operation kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key (a missing key reads as "").
    Get,
    /// Replace a key's value.
    Put,
    /// Append to a key's value.
    Append,
}

/// A client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvInput {
    /// Get, Put or Append.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value written or appended ("" for Get).
    #[serde(default)]
    pub value: String,
}

impl KvInput {
    /// A Get of `key`.
    pub fn get(key: impl Into<String>) -> KvInput {
        KvInput {
            op: KvOp::Get,
            key: key.into(),
            value: String::new(),
        }
    }
    /// A Put of `value` at `key`.
    pub fn put(key: impl Into<String>, value: impl Into<String>) -> KvInput {
        KvInput {
            op: KvOp::Put,
            key: key.into(),
            value: value.into(),
        }
    }
    /// An Append of `value` to `key`.
    pub fn append(key: impl Into<String>, value: impl Into<String>) -> KvInput {
        KvInput {
            op: KvOp::Append,
            key: key.into(),
            value: value.into(),
        }
    }
}

/// What the client got back: the value read (unused for Put and Append).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvOutput {
    /// The value a Get returned.
    #[serde(default)]
    pub value: String,
}

impl KvOutput {
    /// An output carrying `value`.
    pub fn new(value: impl Into<String>) -> KvOutput {
        KvOutput {
            value: value.into(),
        }
    }
}

/// One key's value (shared, so cloning a state is cheap).
pub type KvState = Arc<str>;

fn describe(input: &KvInput, output: &KvOutput) -> String {
    match input.op {
        KvOp::Get => format!("get('{}') -> '{}'", input.key, output.value),
        KvOp::Put => format!("put('{}', '{}')", input.key, input.value),
        KvOp::Append => format!("append('{}', '{}')", input.key, input.value),
    }
}

fn concat(state: &str, suffix: &str) -> Arc<str> {
    let mut joined = String::with_capacity(state.len() + suffix.len());
    joined.push_str(state);
    joined.push_str(suffix);
    Arc::from(joined)
}

/// The partitioned model: one partition per key (ascending), state = that key's string.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvState;

    fn init(&self) -> KvState {
        Arc::from("")
    }

    fn step(&self, state: &KvState, input: &KvInput, output: &KvOutput) -> Option<KvState> {
        match input.op {
            KvOp::Get => (output.value.as_str() == &**state).then(|| state.clone()),
            KvOp::Put => Some(Arc::from(input.value.as_str())),
            KvOp::Append => Some(concat(state, &input.value)),
        }
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        super::partition_by_key(history.iter(), |operation| operation.input.key.as_str())
    }

    fn state_hash(&self, state: &KvState) -> u64 {
        FixedState.hash_one(state.as_bytes())
    }

    fn state_heap_bytes(&self, state: &KvState) -> usize {
        state.len() + 16
    }

    fn unknown_output(&self, input: &KvInput) -> Option<KvOutput> {
        // A Put/Append's output is not used; a Get's unknown result cannot be expressed.
        (input.op != KvOp::Get).then(KvOutput::default)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &KvState) -> String {
        state.to_string()
    }
}

/// The whole map as one state: entries sorted by key, keys with value "" left out (they
/// read exactly like missing keys), plus an order-independent hash kept up to date.
#[derive(Clone, Debug, Default)]
pub struct KvMapState {
    entries: Arc<[(Arc<str>, Arc<str>)]>,
    hash: u64,
}

impl KvMapState {
    /// The value of `key` ("" if absent).
    pub fn get(&self, key: &str) -> &str {
        match self.entries.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(position) => &self.entries[position].1,
            Err(_) => "",
        }
    }

    /// The (key, value) pairs with a non-empty value, by key.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (&**k, &**v))
    }

    fn entry_hash(key: &str, value: &str) -> u64 {
        FixedState.hash_one((key, value))
    }

    fn with(&self, key: &str, value: Arc<str>) -> KvMapState {
        let mut entries: Vec<(Arc<str>, Arc<str>)> = Vec::with_capacity(self.entries.len() + 1);
        let mut hash = self.hash;
        let position = self.entries.binary_search_by(|(k, _)| (**k).cmp(key));
        let (before, after, old_key) = match position {
            Ok(found) => {
                let (old_key, old_value) = &self.entries[found];
                hash ^= Self::entry_hash(old_key, old_value);
                (
                    &self.entries[..found],
                    &self.entries[found + 1..],
                    Some(old_key.clone()),
                )
            }
            Err(insert) => (&self.entries[..insert], &self.entries[insert..], None),
        };
        entries.extend_from_slice(before);
        if !value.is_empty() {
            hash ^= Self::entry_hash(key, &value);
            entries.push((old_key.unwrap_or_else(|| Arc::from(key)), value));
        }
        entries.extend_from_slice(after);
        KvMapState {
            entries: entries.into(),
            hash,
        }
    }
}

impl PartialEq for KvMapState {
    fn eq(&self, other: &KvMapState) -> bool {
        self.hash == other.hash
            && (Arc::ptr_eq(&self.entries, &other.entries)
                || self.entries.len() == other.entries.len()
                    && self
                        .entries
                        .iter()
                        .zip(other.entries.iter())
                        .all(|(a, b)| (Arc::ptr_eq(&a.1, &b.1) || a.1 == b.1) && a.0 == b.0))
    }
}

impl Eq for KvMapState {}

impl std::hash::Hash for KvMapState {
    fn hash<H: std::hash::Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.hash);
    }
}

/// The unpartitioned model: one state for the whole map.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvNoPartitionModel;

impl Model for KvNoPartitionModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvMapState;

    fn init(&self) -> KvMapState {
        KvMapState::default()
    }

    fn step(&self, state: &KvMapState, input: &KvInput, output: &KvOutput) -> Option<KvMapState> {
        match input.op {
            KvOp::Get => (state.get(&input.key) == output.value).then(|| state.clone()),
            KvOp::Put => Some(state.with(&input.key, Arc::from(input.value.as_str()))),
            KvOp::Append => {
                let old = state.get(&input.key);
                Some(state.with(&input.key, concat(old, &input.value)))
            }
        }
    }

    fn state_hash(&self, state: &KvMapState) -> u64 {
        state.hash
    }

    fn state_heap_bytes(&self, state: &KvMapState) -> usize {
        16 + state.entries.len() * 32
    }

    fn unknown_output(&self, input: &KvInput) -> Option<KvOutput> {
        (input.op != KvOp::Get).then(KvOutput::default)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &KvMapState) -> String {
        let fields: Vec<String> = state
            .entries()
            .map(|(key, value)| format!("'{key}': '{value}'"))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}
