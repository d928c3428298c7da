//! The etcd model: one compare-and-set register, as Jepsen's etcd tests exercise it.

use serde::{Deserialize, Serialize};

use crate::model::Model;

/// An etcd client request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EtcdInput {
    /// Read the register.
    Read,
    /// Overwrite the register with a value.
    Write(i64),
    /// Set the register to `to` if it holds `from`.
    Cas {
        /// Expected current value.
        from: i64,
        /// New value.
        to: i64,
    },
}

/// What an etcd client observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EtcdOutput {
    /// A read returned this value (`None`: the key did not exist).
    Read(Option<i64>),
    /// A write completed.
    Written,
    /// A compare-and-set definitely succeeded (`true`) or definitely failed (`false`).
    Cas(bool),
    /// The outcome is unknown (timed out): any result is acceptable; a write or cas is
    /// applied if it can be.
    Unknown,
}

/// The register model: state `None` (never written) or a value.
#[derive(Clone, Copy, Debug, Default)]
pub struct EtcdModel;

impl Model for EtcdModel {
    type Input = EtcdInput;
    type Output = EtcdOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &EtcdInput,
        output: &EtcdOutput,
    ) -> Option<Option<i64>> {
        match (*input, *output) {
            (EtcdInput::Read, EtcdOutput::Unknown) => Some(*state),
            (EtcdInput::Read, EtcdOutput::Read(value)) => (value == *state).then_some(*state),
            (EtcdInput::Write(value), _) => Some(Some(value)),
            (EtcdInput::Cas { from, to }, output) => {
                let matches = *state == Some(from);
                let next = if matches { Some(to) } else { *state };
                match output {
                    EtcdOutput::Unknown => Some(next),
                    EtcdOutput::Cas(succeeded) if succeeded == matches => Some(next),
                    _ => None,
                }
            }
            (EtcdInput::Read, _) => None,
        }
    }

    fn read_only(&self, _state: &Option<i64>, input: &EtcdInput, output: &EtcdOutput) -> bool {
        // Reads never change the register; a cas reported failed is legal only where it
        // does not match, and then leaves the register as it is.
        matches!(
            (input, output),
            (EtcdInput::Read, _) | (EtcdInput::Cas { .. }, EtcdOutput::Cas(false))
        )
    }

    fn state_hash(&self, state: &Option<i64>) -> u64 {
        state.map_or(u64::MAX, |value| value as u64)
    }

    fn unknown_output(&self, _input: &EtcdInput) -> Option<EtcdOutput> {
        Some(EtcdOutput::Unknown)
    }

    fn describe_operation(&self, input: &EtcdInput, output: &EtcdOutput) -> String {
        match (input, output) {
            (EtcdInput::Read, EtcdOutput::Read(Some(value))) => format!("read() -> {value}"),
            (EtcdInput::Read, EtcdOutput::Read(None)) => "read() -> null".to_string(),
            (EtcdInput::Read, _) => "read() -> unknown".to_string(),
            (EtcdInput::Write(value), _) => format!("write({value})"),
            (EtcdInput::Cas { from, to }, output) => {
                let outcome = match output {
                    EtcdOutput::Cas(true) => "ok",
                    EtcdOutput::Cas(false) => "fail",
                    _ => "unknown",
                };
                format!("cas({from}, {to}) -> {outcome}")
            }
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or_else(|| "null".to_string(), |value| value.to_string())
    }
}
