//! The two forms of history: timed operations and ordered call/return events.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `return_time` of an operation that never returned (an unknown outcome).
///
/// Such an operation may take effect at any point after its call, or not at all; the
/// model is stepped with the operation's `output`, which should be the model's
/// "unknown" output (for the etcd model, [`crate::models::etcd::EtcdOutput::Unknown`]).
pub const NEVER: i64 = i64::MAX;

/// One completed (or abandoned) client operation with its real-time interval.
///
/// The interval `[call, return_time]` is closed: two operations whose intervals merely
/// touch are concurrent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation<I, O> {
    /// The client that issued the operation; only used by the visualisation (may be -1).
    pub client_id: i64,
    /// What the client asked for.
    pub input: I,
    /// Invocation time (any monotonic unit, e.g. nanoseconds).
    pub call: i64,
    /// What the client got back.
    pub output: O,
    /// Response time, or [`NEVER`] (JSON `null`) if the operation never returned.
    #[serde(
        serialize_with = "serialize_return_time",
        deserialize_with = "deserialize_return_time",
        default = "never"
    )]
    pub return_time: i64,
}

impl<I, O> Operation<I, O> {
    /// Whether the operation never returned (its outcome is unknown).
    pub fn is_pending(&self) -> bool {
        self.return_time == NEVER
    }
}

fn never() -> i64 {
    NEVER
}

fn serialize_return_time<S: Serializer>(time: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    if *time == NEVER {
        serializer.serialize_none()
    } else {
        serializer.serialize_some(time)
    }
}

fn deserialize_return_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(deserializer)?.unwrap_or(NEVER))
}

/// Whether an [`Event`] is an invocation or a response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind<I, O> {
    /// The client invoked the operation with this input.
    Call(I),
    /// The operation returned this output.
    Return(O),
}

/// One invocation or response; in an event history, list order is time order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event<I, O> {
    /// The client that issued the operation (visualisation only).
    pub client_id: i64,
    /// Call or return, with its value.
    pub kind: EventKind<I, O>,
    /// Pairs a return with its call: both carry the same id, unique per operation.
    pub id: usize,
    /// Free text shown with the operation in the visualisation; a return's metadata
    /// wins over its call's.
    #[serde(default)]
    pub metadata: Option<String>,
}

impl<I, O> Event<I, O> {
    /// A call event without metadata.
    pub fn call(client_id: i64, id: usize, input: I) -> Event<I, O> {
        Event {
            client_id,
            kind: EventKind::Call(input),
            id,
            metadata: None,
        }
    }

    /// A return event without metadata.
    pub fn ret(client_id: i64, id: usize, output: O) -> Event<I, O> {
        Event {
            client_id,
            kind: EventKind::Return(output),
            id,
            metadata: None,
        }
    }
}

/// Why an event history could not be turned into operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A return event whose id matches no earlier call.
    #[error("event {index}: return of operation {id} has no earlier call")]
    ReturnWithoutCall {
        /// Position of the event in the list.
        index: usize,
        /// The operation id.
        id: usize,
    },
    /// Two calls (or two returns) carry the same id.
    #[error("event {index}: operation {id} appears twice")]
    DuplicateId {
        /// Position of the event in the list.
        index: usize,
        /// The operation id.
        id: usize,
    },
    /// A call never returned and the model has no "unknown" output to stand for its result.
    #[error(
        "event {index}: operation {id} never returns and the model has no unknown output (Model::unknown_output)"
    )]
    NoReturn {
        /// Position of the call event in the list.
        index: usize,
        /// The operation id.
        id: usize,
    },
}

/// Turns an event list into operations, using each event's position as its time.
///
/// Operations come out in call order. A call without a return becomes an operation that
/// never returned ([`NEVER`]) whose output is `unknown_output(&input)`; if that gives
/// `None` the history is rejected.
pub fn events_to_operations<I, O>(
    events: Vec<Event<I, O>>,
    unknown_output: impl Fn(&I) -> Option<O>,
) -> Result<Vec<Operation<I, O>>, EventError> {
    Ok(events_to_operations_with_metadata(events, unknown_output)?.0)
}

/// Operations with the metadata of each (the return's if it has one, else the call's).
pub(crate) type WithMetadata<I, O> = (Vec<Operation<I, O>>, Vec<Option<String>>);

/// [`events_to_operations`], also returning each operation's metadata.
pub(crate) fn events_to_operations_with_metadata<I, O>(
    events: Vec<Event<I, O>>,
    unknown_output: impl Fn(&I) -> Option<O>,
) -> Result<WithMetadata<I, O>, EventError> {
    use std::collections::HashMap;
    let mut slot_of_id: HashMap<usize, usize> = HashMap::new();
    struct Call<I> {
        client_id: i64,
        input: I,
        time: i64,
        index: usize,
        id: usize,
        metadata: Option<String>,
    }
    let mut calls: Vec<Call<I>> = Vec::new();
    let mut outputs: Vec<Option<(O, i64, Option<String>)>> = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        let time = index as i64;
        match event.kind {
            EventKind::Call(input) => {
                if slot_of_id.insert(event.id, calls.len()).is_some() {
                    return Err(EventError::DuplicateId {
                        index,
                        id: event.id,
                    });
                }
                calls.push(Call {
                    client_id: event.client_id,
                    input,
                    time,
                    index,
                    id: event.id,
                    metadata: event.metadata,
                });
                outputs.push(None);
            }
            EventKind::Return(output) => {
                let Some(&slot) = slot_of_id.get(&event.id) else {
                    return Err(EventError::ReturnWithoutCall {
                        index,
                        id: event.id,
                    });
                };
                if outputs[slot].is_some() {
                    return Err(EventError::DuplicateId {
                        index,
                        id: event.id,
                    });
                }
                outputs[slot] = Some((output, time, event.metadata));
            }
        }
    }
    let mut operations = Vec::with_capacity(calls.len());
    let mut metadata = Vec::with_capacity(calls.len());
    for (call, output) in calls.into_iter().zip(outputs) {
        let (output, return_time, return_metadata) = match output {
            Some(returned) => returned,
            None => match unknown_output(&call.input) {
                Some(output) => (output, NEVER, None),
                None => {
                    return Err(EventError::NoReturn {
                        index: call.index,
                        id: call.id,
                    });
                }
            },
        };
        metadata.push(return_metadata.or(call.metadata));
        operations.push(Operation {
            client_id: call.client_id,
            input: call.input,
            call: call.time,
            output,
            return_time,
        });
    }
    Ok((operations, metadata))
}
