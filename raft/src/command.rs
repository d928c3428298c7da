//! What Raft replicates.

/// Anything Raft can replicate: the tests use an enum of ints and strings, rsm
/// its own operation type.
pub trait Command:
    Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
}

impl<T> Command for T where
    T: Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static
{
}
