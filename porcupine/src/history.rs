//! The JSON history format shared by the KV service's exporter and the CLI.
//!
//! ```json
//! {
//!   "model": "kv-versioned",
//!   "operations": [
//!     {"client_id": 0, "call": 1000, "return_time": 2500,
//!      "input": {"op": "Put", "key": "k1", "value": "x", "version": 0},
//!      "output": {"value": "", "version": 0, "err": "OK"}}
//!   ],
//!   "annotations": [
//!     {"client_id": null, "tag": "$ Failure", "start": 1200, "end": 2000,
//!      "description": "partition = [0] [1 2]", "details": "",
//!      "text_color": "", "background_color": "#B3E5FC"}
//!   ]
//! }
//! ```
//!
//! `model` names the model (see [`ModelName`]); `operations` are [`Operation`]s whose
//! `input`/`output` follow that model's serde form; `return_time: null` marks an operation
//! that never returned; `annotations` is optional.

use std::io::{Read, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::annotation::Annotation;
use crate::operation::Operation;

/// A history file: model name, operations and optional annotations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History<I, O> {
    /// Which model checks it: one of [`ModelName`]'s names.
    pub model: String,
    /// The operations, in any order.
    pub operations: Vec<Operation<I, O>>,
    /// Timeline annotations to draw beside the history.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

/// The models the CLI knows, by their names in the `model` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelName {
    /// `etcd`: [`crate::models::etcd::EtcdModel`].
    Etcd,
    /// `kv`: [`crate::models::kv::KvModel`] (partitioned by key).
    Kv,
    /// `kv-unpartitioned`: [`crate::models::kv::KvNoPartitionModel`].
    KvUnpartitioned,
    /// `kv-versioned`: [`crate::models::kv_versioned::KvVersionedModel`].
    KvVersioned,
}

impl ModelName {
    /// Every model name.
    pub const ALL: [ModelName; 4] = [
        ModelName::Etcd,
        ModelName::Kv,
        ModelName::KvUnpartitioned,
        ModelName::KvVersioned,
    ];

    /// The name as written in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::Etcd => "etcd",
            ModelName::Kv => "kv",
            ModelName::KvUnpartitioned => "kv-unpartitioned",
            ModelName::KvVersioned => "kv-versioned",
        }
    }

    /// Parses a model name.
    pub fn parse(name: &str) -> Option<ModelName> {
        ModelName::ALL
            .into_iter()
            .find(|model| model.as_str() == name)
    }
}

impl std::fmt::Display for ModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened, read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The text is not a valid history (position is 1-based).
    #[error("line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl From<serde_json::Error> for HistoryError {
    fn from(error: serde_json::Error) -> HistoryError {
        if error.is_io() {
            return HistoryError::Io(error.into());
        }
        HistoryError::Malformed {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }
}

/// Writes a history as pretty JSON.
pub fn write<I: Serialize, O: Serialize>(
    writer: impl Write,
    history: &History<I, O>,
) -> Result<(), HistoryError> {
    let mut writer = std::io::BufWriter::new(writer);
    serde_json::to_writer_pretty(&mut writer, history)?;
    writer.write_all(b"\n")?;
    writer.flush()?;
    Ok(())
}

/// Writes a history to a file (created or truncated).
pub fn write_path<I: Serialize, O: Serialize>(
    path: impl AsRef<Path>,
    history: &History<I, O>,
) -> Result<(), HistoryError> {
    write(std::fs::File::create(path)?, history)
}

/// Reads a history whose input/output types are known.
pub fn read<I: DeserializeOwned, O: DeserializeOwned>(
    mut reader: impl Read,
) -> Result<History<I, O>, HistoryError> {
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    from_str(&text)
}

/// Parses a history from JSON text.
pub fn from_str<I: DeserializeOwned, O: DeserializeOwned>(
    text: &str,
) -> Result<History<I, O>, HistoryError> {
    Ok(serde_json::from_str(text)?)
}

/// Reads a history file whose input/output types are known.
pub fn read_path<I: DeserializeOwned, O: DeserializeOwned>(
    path: impl AsRef<Path>,
) -> Result<History<I, O>, HistoryError> {
    read(std::fs::File::open(path)?)
}

/// The `model` field of a history, without parsing the operations (to pick the types).
pub fn model_name(text: &str) -> Result<String, HistoryError> {
    #[derive(Deserialize)]
    struct Header {
        model: String,
    }
    let header: Header = serde_json::from_str(text)?;
    Ok(header.model)
}
