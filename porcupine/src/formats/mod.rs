//! Readers for the Jepsen log formats: etcd register logs and the MIT KV logs (EDN maps).

pub mod jepsen_etcd;
pub mod jepsen_kv;

/// A line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FormatError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl FormatError {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> FormatError {
        FormatError {
            line,
            message: message.into(),
        }
    }
}

/// Which format a text looks like, judged from its first non-blank line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `INFO  jepsen.util - ...` etcd register log.
    JepsenEtcd,
    /// `{:process 0, :type :invoke, ...}` KV log.
    JepsenKv,
    /// Our JSON history ([`crate::history`]).
    Json,
    /// Nothing but whitespace (an empty history of any format).
    Empty,
}

/// Guesses the format; `None` if the text is none of the known ones.
pub fn detect(text: &str) -> Option<Format> {
    let Some(first) = text.lines().map(str::trim).find(|line| !line.is_empty()) else {
        return Some(Format::Empty);
    };
    if first.starts_with("{:") {
        Some(Format::JepsenKv)
    } else if first.starts_with('{') {
        Some(Format::Json)
    } else if jepsen_etcd::is_record(first) {
        Some(Format::JepsenEtcd)
    } else {
        None
    }
}
