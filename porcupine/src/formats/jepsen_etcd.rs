//! Jepsen etcd logs: `INFO  jepsen.util - <process>\t<type>\t<f>\t<value>`, one record
//! per line, file order = time order.
//!
//! `:invoke` opens an operation for its process; the next `:ok`/`:fail` of that process
//! returns it. `:info` records (indeterminate outcome) leave the operation open, so it
//! never returns: it may take effect anywhere after its call, or not at all. A timed-out
//! read (`:fail :read :timed-out`) returns with an unknown output.

use std::collections::HashMap;

use super::FormatError;
use crate::models::etcd::{EtcdInput, EtcdOutput};
use crate::operation::Event;

const PREFIX: &str = "jepsen.util";

/// Whether a line is a `jepsen.util` record.
pub(crate) fn is_record(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("INFO") && words.next() == Some(PREFIX) && words.next() == Some("-")
}

fn integer(text: &str, line: usize) -> Result<i64, FormatError> {
    text.parse()
        .map_err(|_| FormatError::new(line, format!("expected an integer, found {text:?}")))
}

fn pair(text: &str, line: usize) -> Result<(i64, i64), FormatError> {
    let inner = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| FormatError::new(line, format!("expected [from to], found {text:?}")))?;
    let mut numbers = inner.split_whitespace();
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(from), Some(to), None) => Ok((integer(from, line)?, integer(to, line)?)),
        _ => Err(FormatError::new(
            line,
            format!("expected [from to], found {text:?}"),
        )),
    }
}

/// Parses a whole log into events (client id = process).
pub fn parse(text: &str) -> Result<Vec<Event<EtcdInput, EtcdOutput>>, FormatError> {
    let mut events = Vec::new();
    let mut open: HashMap<i64, (usize, String)> = HashMap::new();
    let mut next_id = 0usize;
    for (number, raw) in text.lines().enumerate() {
        let line = number + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if !is_record(raw) {
            return Err(FormatError::new(
                line,
                "not a `INFO  jepsen.util - ...` record",
            ));
        }
        let fields: Vec<&str> = raw.split_whitespace().skip(3).collect();
        if fields.len() < 4 {
            return Err(FormatError::new(
                line,
                "expected <process> <type> <f> <value>",
            ));
        }
        let process = integer(fields[0], line)?;
        let (kind, function) = (fields[1], fields[2]);
        let value = fields[3..].join(" ");
        let value = value.as_str();
        match kind {
            ":invoke" => {
                let input = match function {
                    ":read" => EtcdInput::Read,
                    ":write" => EtcdInput::Write(integer(value, line)?),
                    ":cas" => {
                        let (from, to) = pair(value, line)?;
                        EtcdInput::Cas { from, to }
                    }
                    other => {
                        return Err(FormatError::new(line, format!("unknown function {other}")));
                    }
                };
                if open
                    .insert(process, (next_id, function.to_string()))
                    .is_some()
                {
                    return Err(FormatError::new(
                        line,
                        format!(
                            "process {process} invokes while its previous operation is still open"
                        ),
                    ));
                }
                events.push(Event::call(process, next_id, input));
                next_id += 1;
            }
            ":ok" | ":fail" => {
                let output = match (kind, function) {
                    (":ok", ":read") if value == "nil" => EtcdOutput::Read(None),
                    (":ok", ":read") => EtcdOutput::Read(Some(integer(value, line)?)),
                    (":ok", ":write") => {
                        integer(value, line)?;
                        EtcdOutput::Written
                    }
                    (":ok", ":cas") => {
                        pair(value, line)?;
                        EtcdOutput::Cas(true)
                    }
                    (":fail", ":cas") => {
                        pair(value, line)?;
                        EtcdOutput::Cas(false)
                    }
                    (":fail", ":read") if value == ":timed-out" => EtcdOutput::Unknown,
                    _ => {
                        return Err(FormatError::new(
                            line,
                            format!("unsupported record {kind} {function} {value}"),
                        ));
                    }
                };
                let Some((id, invoked)) = open.remove(&process) else {
                    return Err(FormatError::new(
                        line,
                        format!("process {process} returns without an open operation"),
                    ));
                };
                if invoked != function {
                    return Err(FormatError::new(
                        line,
                        format!("process {process} invoked {invoked} but returns {function}"),
                    ));
                }
                events.push(Event::ret(process, id, output));
            }
            // Indeterminate: the operation never returns (the process is not reused upstream,
            // but if it is, its next invocation starts a fresh operation).
            ":info" => {
                open.remove(&process);
            }
            other => {
                return Err(FormatError::new(
                    line,
                    format!("unknown record type {other}"),
                ));
            }
        }
    }
    Ok(events)
}
