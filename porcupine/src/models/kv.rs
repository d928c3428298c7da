//! The classic (2020–2024 labs) Put/Append/Get key-value model.
//!
//! [`KvModel`] partitions the history by key and models one key's string;
//! [`KvNoPartitionModel`] models the whole map at once (same verdicts, far slower: it is
//! there to show what P-compositionality buys).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

    fn read_only(&self, _state: &KvState, input: &KvInput, _output: &KvOutput) -> bool {
        // A Get never changes the value.
        input.op == KvOp::Get
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

/// The whole map as one state: per key (numbered by the model), the id of its value;
/// id 0 is "" (a missing key reads as ""), and trailing zeros are trimmed so equal maps
/// have equal arrays. The hash is computed once, when the state is made.
#[derive(Clone, Debug, Default)]
pub struct KvMapState {
    values: Arc<[u32]>,
    hash: u64,
}

impl KvMapState {
    fn new(mut values: Vec<u32>) -> KvMapState {
        while values.last() == Some(&0) {
            values.pop();
        }
        let hash = FixedState.hash_one(&values[..]);
        KvMapState {
            values: values.into(),
            hash,
        }
    }

    fn value_id(&self, slot: usize) -> u32 {
        self.values.get(slot).copied().unwrap_or(0)
    }

    fn with(&self, slot: usize, value: u32) -> KvMapState {
        let mut values = self.values.to_vec();
        if values.len() <= slot {
            values.resize(slot + 1, 0);
        }
        values[slot] = value;
        KvMapState::new(values)
    }
}

impl PartialEq for KvMapState {
    fn eq(&self, other: &KvMapState) -> bool {
        self.hash == other.hash && self.values == other.values
    }
}

impl Eq for KvMapState {}

impl std::hash::Hash for KvMapState {
    fn hash<H: std::hash::Hasher>(&self, hasher: &mut H) {
        hasher.write_u64(self.hash);
    }
}

/// Numbers for key and value strings, so map states are small arrays of integers.
#[derive(Debug)]
struct Strings {
    key_slots: HashMap<Arc<str>, u32, FixedState>,
    keys: Vec<Arc<str>>,
    value_ids: HashMap<Arc<str>, u32, FixedState>,
    values: Vec<Arc<str>>,
}

impl Default for Strings {
    fn default() -> Strings {
        let empty: Arc<str> = Arc::from("");
        let mut value_ids = HashMap::with_hasher(FixedState);
        value_ids.insert(empty.clone(), 0);
        Strings {
            key_slots: HashMap::with_hasher(FixedState),
            keys: Vec::new(),
            value_ids,
            values: vec![empty],
        }
    }
}

impl Strings {
    fn key_slot(&mut self, key: &str) -> usize {
        if let Some(&slot) = self.key_slots.get(key) {
            return slot as usize;
        }
        let slot = self.keys.len();
        let key: Arc<str> = Arc::from(key);
        self.keys.push(key.clone());
        self.key_slots.insert(key, slot as u32);
        slot
    }

    fn value_id(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.value_ids.get(value) {
            return id;
        }
        self.insert_value(Arc::from(value))
    }

    fn insert_value(&mut self, value: Arc<str>) -> u32 {
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.value_ids.insert(value, id);
        id
    }
}

/// The unpartitioned model: one state for the whole map (same verdicts as [`KvModel`],
/// far slower: it shows what P-compositionality buys). It numbers the strings it meets
/// so that states are cheap to copy, compare and hash; one instance can check any number
/// of histories.
#[derive(Debug, Default)]
pub struct KvNoPartitionModel {
    strings: Mutex<Strings>,
}

impl KvNoPartitionModel {
    /// A model with no strings numbered yet.
    pub fn new() -> KvNoPartitionModel {
        KvNoPartitionModel::default()
    }

    fn strings(&self) -> std::sync::MutexGuard<'_, Strings> {
        self.strings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value `state` holds at `key` ("" if none).
    pub fn value(&self, state: &KvMapState, key: &str) -> String {
        let mut strings = self.strings();
        let slot = strings.key_slot(key);
        strings.values[state.value_id(slot) as usize].to_string()
    }
}

impl Model for KvNoPartitionModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvMapState;

    fn init(&self) -> KvMapState {
        KvMapState::new(Vec::new())
    }

    fn read_only(&self, _state: &KvMapState, input: &KvInput, _output: &KvOutput) -> bool {
        // A Get never changes the map.
        input.op == KvOp::Get
    }

    fn step(&self, state: &KvMapState, input: &KvInput, output: &KvOutput) -> Option<KvMapState> {
        let mut strings = self.strings();
        let slot = strings.key_slot(&input.key);
        let current = state.value_id(slot);
        match input.op {
            KvOp::Get => {
                (*strings.values[current as usize] == *output.value).then(|| state.clone())
            }
            KvOp::Put => {
                let id = strings.value_id(&input.value);
                Some(state.with(slot, id))
            }
            KvOp::Append => {
                if input.value.is_empty() {
                    return Some(state.clone());
                }
                let joined = concat(&strings.values[current as usize], &input.value);
                let id = match strings.value_ids.get(&joined) {
                    Some(&id) => id,
                    None => strings.insert_value(joined),
                };
                Some(state.with(slot, id))
            }
        }
    }

    fn state_hash(&self, state: &KvMapState) -> u64 {
        state.hash
    }

    fn state_heap_bytes(&self, state: &KvMapState) -> usize {
        16 + state.values.len() * 4
    }

    fn unknown_output(&self, input: &KvInput) -> Option<KvOutput> {
        (input.op != KvOp::Get).then(KvOutput::default)
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        describe(input, output)
    }

    fn describe_state(&self, state: &KvMapState) -> String {
        let strings = self.strings();
        let mut fields: Vec<(&str, &str)> = state
            .values
            .iter()
            .enumerate()
            .filter(|(_, id)| **id != 0)
            .map(|(slot, id)| (&*strings.keys[slot], &*strings.values[*id as usize]))
            .collect();
        fields.sort_unstable();
        let fields: Vec<String> = fields
            .into_iter()
            .map(|(key, value)| format!("'{key}': '{value}'"))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
}
