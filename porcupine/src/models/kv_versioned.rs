//! The 2025 labs' versioned key-value model: Put succeeds only at the expected version.
//!
//! One key per partition; the state is the key's value and version.

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::operation::Operation;

/// The operation kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key.
    Get,
    /// Conditionally write a key.
    Put,
}

/// A client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvInput {
    /// Get or Put.
    pub op: KvOp,
    /// The key.
    pub key: String,
    /// The value to write (Put only).
    #[serde(default)]
    pub value: String,
    /// The version the Put expects the key to have (Put only).
    #[serde(default)]
    pub version: u64,
}

impl KvInput {
    /// A Get of `key`.
    pub fn get(key: impl Into<String>) -> KvInput {
        KvInput {
            op: KvOp::Get,
            key: key.into(),
            value: String::new(),
            version: 0,
        }
    }
    /// A Put of `value` at `key`, expecting `version`.
    pub fn put(key: impl Into<String>, value: impl Into<String>, version: u64) -> KvInput {
        KvInput {
            op: KvOp::Put,
            key: key.into(),
            value: value.into(),
            version,
        }
    }
}

/// The error a clerk reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvErr {
    /// Success.
    #[default]
    #[serde(rename = "OK")]
    Ok,
    /// Get of a key that does not exist.
    ErrNoKey,
    /// Put at the wrong version: it had no effect.
    ErrVersion,
    /// A retried Put got ErrVersion: it may or may not have taken effect.
    ErrMaybe,
}

impl KvErr {
    /// The Go spelling (`OK`, `ErrNoKey`, `ErrVersion`, `ErrMaybe`).
    pub fn as_str(self) -> &'static str {
        match self {
            KvErr::Ok => "OK",
            KvErr::ErrNoKey => "ErrNoKey",
            KvErr::ErrVersion => "ErrVersion",
            KvErr::ErrMaybe => "ErrMaybe",
        }
    }
}

impl std::fmt::Display for KvErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client got back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvOutput {
    /// The value a Get returned ("" for Put, and for ErrNoKey).
    #[serde(default)]
    pub value: String,
    /// The version a Get returned (0 for Put).
    #[serde(default)]
    pub version: u64,
    /// The clerk's error.
    #[serde(default)]
    pub err: KvErr,
}

impl KvOutput {
    /// A Get's output.
    pub fn get(value: impl Into<String>, version: u64, err: KvErr) -> KvOutput {
        KvOutput {
            value: value.into(),
            version,
            err,
        }
    }
    /// A Put's output.
    pub fn put(err: KvErr) -> KvOutput {
        KvOutput {
            value: String::new(),
            version: 0,
            err,
        }
    }
}

/// One key's value and version; a never-written key is ("", 0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvState {
    /// The value.
    pub value: String,
    /// The version (number of successful Puts).
    pub version: u64,
}

/// The versioned model, partitioned by key (ascending).
#[derive(Clone, Copy, Debug, Default)]
pub struct KvVersionedModel;

impl Model for KvVersionedModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvState;

    fn init(&self) -> KvState {
        KvState::default()
    }

    fn step(&self, state: &KvState, input: &KvInput, output: &KvOutput) -> Option<KvState> {
        match input.op {
            // Only the value is checked; the version and error a Get returns are not.
            KvOp::Get => (output.value == state.value).then(|| state.clone()),
            KvOp::Put if state.version == input.version => match output.err {
                KvErr::Ok | KvErr::ErrMaybe => Some(KvState {
                    value: input.value.clone(),
                    version: state.version + 1,
                }),
                _ => None,
            },
            KvOp::Put => match output.err {
                KvErr::ErrVersion | KvErr::ErrMaybe => Some(state.clone()),
                _ => None,
            },
        }
    }

    fn read_only(&self, state: &KvState, input: &KvInput, output: &KvOutput) -> bool {
        // Gets and ErrVersion Puts never change the state; versions only grow, so a Put
        // whose version is already passed can never take effect (ErrMaybe included).
        input.op == KvOp::Get || output.err == KvErr::ErrVersion || state.version > input.version
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        super::partition_by_key(history.iter(), |operation| operation.input.key.as_str())
    }

    fn state_heap_bytes(&self, state: &KvState) -> usize {
        state.value.capacity()
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        match input.op {
            KvOp::Get => format!(
                "get('{}') -> ('{}', '{}', '{}')",
                input.key, output.value, output.version, output.err
            ),
            KvOp::Put => format!(
                "put('{}', '{}', '{}') -> ('{}')",
                input.key, input.value, input.version, output.err
            ),
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        format!("{{{} {}}}", state.value, state.version)
    }
}
