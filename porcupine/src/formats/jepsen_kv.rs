//! The MIT KV logs: one EDN map per line,
//! `{:process 0, :type :invoke, :f :get, :key "3", :value nil}`; file order = time order.
//!
//! `:invoke` opens an operation for its process and the next `:ok` (or `:fail`) of that
//! process returns it. An operation left open (`:info`, or the end of the file) never
//! returns: a Put/Append may then take effect anywhere after its call or not at all, and a
//! Get is dropped (it has no effect and nothing was observed).

use std::collections::HashMap;

use super::FormatError;
use crate::models::kv::{KvInput, KvOp, KvOutput};
use crate::operation::{Event, EventKind};

#[derive(Debug, PartialEq)]
enum Value {
    Nil,
    Keyword(String),
    Str(String),
    Int(i64),
}

/// Parses one `{:k v, :k v}` map with keyword keys and nil/keyword/string/integer values.
fn parse_map(text: &str, line: usize) -> Result<Vec<(String, Value)>, FormatError> {
    let err = |message: String| FormatError::new(line, message);
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .ok_or_else(|| err("expected an EDN map {...}".to_string()))?;
    let chars: Vec<char> = body.chars().collect();
    let mut at = 0;
    let mut fields = Vec::new();
    let skip = |at: &mut usize| {
        while *at < chars.len() && (chars[*at].is_whitespace() || chars[*at] == ',') {
            *at += 1;
        }
    };
    let word = |at: &mut usize| {
        let start = *at;
        while *at < chars.len() && !chars[*at].is_whitespace() && chars[*at] != ',' {
            *at += 1;
        }
        chars[start..*at].iter().collect::<String>()
    };
    loop {
        skip(&mut at);
        if at >= chars.len() {
            return Ok(fields);
        }
        let key = word(&mut at);
        let Some(key) = key.strip_prefix(':').map(str::to_string) else {
            return Err(err(format!("expected a :keyword key, found {key:?}")));
        };
        skip(&mut at);
        if at >= chars.len() {
            return Err(err(format!("key :{key} has no value")));
        }
        let value = if chars[at] == '"' {
            at += 1;
            let mut string = String::new();
            loop {
                match chars.get(at) {
                    None => return Err(err("unterminated string".to_string())),
                    Some('"') => {
                        at += 1;
                        break;
                    }
                    Some('\\') => {
                        let escaped = chars
                            .get(at + 1)
                            .ok_or_else(|| err("unterminated string".to_string()))?;
                        string.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => *other,
                        });
                        at += 2;
                    }
                    Some(&c) => {
                        string.push(c);
                        at += 1;
                    }
                }
            }
            Value::Str(string)
        } else {
            let token = word(&mut at);
            if token == "nil" {
                Value::Nil
            } else if let Some(keyword) = token.strip_prefix(':') {
                Value::Keyword(keyword.to_string())
            } else if let Ok(number) = token.parse() {
                Value::Int(number)
            } else {
                return Err(err(format!("cannot read value {token:?} of :{key}")));
            }
        };
        fields.push((key, value));
    }
}

struct Record {
    process: i64,
    kind: String,
    function: String,
    key: String,
    value: Option<String>,
}

fn record(text: &str, line: usize) -> Result<Record, FormatError> {
    let fields = parse_map(text, line)?;
    let find = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    };
    let missing = |name: &str| FormatError::new(line, format!("missing :{name}"));
    let process = match find("process").ok_or_else(|| missing("process"))? {
        Value::Int(process) => *process,
        other => {
            return Err(FormatError::new(
                line,
                format!(":process must be an integer, found {other:?}"),
            ));
        }
    };
    let keyword = |name: &str| match find(name) {
        Some(Value::Keyword(keyword)) => Ok(keyword.clone()),
        Some(other) => Err(FormatError::new(
            line,
            format!(":{name} must be a keyword, found {other:?}"),
        )),
        None => Err(missing(name)),
    };
    let kind = keyword("type")?;
    let function = keyword("f")?;
    let key = match find("key").ok_or_else(|| missing("key"))? {
        Value::Str(key) => key.clone(),
        Value::Int(key) => key.to_string(),
        other => {
            return Err(FormatError::new(
                line,
                format!(":key must be a string, found {other:?}"),
            ));
        }
    };
    let value = match find("value") {
        None | Some(Value::Nil) => None,
        Some(Value::Str(value)) => Some(value.clone()),
        Some(Value::Int(value)) => Some(value.to_string()),
        Some(other) => {
            return Err(FormatError::new(
                line,
                format!(":value must be a string or nil, found {other:?}"),
            ));
        }
    };
    Ok(Record {
        process,
        kind,
        function,
        key,
        value,
    })
}

/// Parses a whole KV log into events (client id = process).
pub fn parse(text: &str) -> Result<Vec<Event<KvInput, KvOutput>>, FormatError> {
    let mut events: Vec<Event<KvInput, KvOutput>> = Vec::new();
    // process -> (operation id, index of its call event)
    let mut open: HashMap<i64, (usize, usize, KvOp)> = HashMap::new();
    let mut dropped_calls: Vec<usize> = Vec::new();
    let mut next_id = 0usize;
    for (number, raw) in text.lines().enumerate() {
        let line = number + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let record = record(raw, line)?;
        let op = match record.function.as_str() {
            "get" => KvOp::Get,
            "put" => KvOp::Put,
            "append" => KvOp::Append,
            other => return Err(FormatError::new(line, format!("unknown function :{other}"))),
        };
        match record.kind.as_str() {
            "invoke" => {
                if open.contains_key(&record.process) {
                    return Err(FormatError::new(
                        line,
                        format!(
                            "process {} invokes while its previous operation is still open",
                            record.process
                        ),
                    ));
                }
                let value = if op == KvOp::Get {
                    String::new()
                } else {
                    record.value.unwrap_or_default()
                };
                open.insert(record.process, (next_id, events.len(), op));
                events.push(Event::call(
                    record.process,
                    next_id,
                    KvInput {
                        op,
                        key: record.key,
                        value,
                    },
                ));
                next_id += 1;
            }
            "ok" | "fail" => {
                let Some((id, call_index, invoked)) = open.remove(&record.process) else {
                    return Err(FormatError::new(
                        line,
                        format!(
                            "process {} returns without an open operation",
                            record.process
                        ),
                    ));
                };
                if invoked != op {
                    return Err(FormatError::new(
                        line,
                        format!(
                            "process {} invoked {invoked:?} but returns {op:?}",
                            record.process
                        ),
                    ));
                }
                if record.kind == "fail" {
                    // A definite failure had no effect: drop the operation altogether.
                    dropped_calls.push(call_index);
                    continue;
                }
                let value = if op == KvOp::Get {
                    record.value.unwrap_or_default()
                } else {
                    String::new()
                };
                events.push(Event::ret(record.process, id, KvOutput { value }));
            }
            "info" => {
                if let Some((_, call_index, _)) = open.remove(&record.process)
                    && op == KvOp::Get
                {
                    dropped_calls.push(call_index);
                }
            }
            other => {
                return Err(FormatError::new(
                    line,
                    format!("unknown record type :{other}"),
                ));
            }
        }
    }
    for (_, (_, call_index, _)) in open {
        if matches!(&events[call_index].kind, EventKind::Call(input) if input.op == KvOp::Get) {
            dropped_calls.push(call_index);
        }
    }
    dropped_calls.sort_unstable();
    for call_index in dropped_calls.into_iter().rev() {
        events.remove(call_index);
    }
    Ok(events)
}
