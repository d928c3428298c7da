//! The 2025 KV service's RPC vocabulary: versioned `Put` and `Get`.

use serde::{Deserialize, Serialize};

/// A key's version: 0 for a key that does not exist, then +1 per successful
/// Put (Go's `Tversion`).
pub type Version = u64;

/// The RPC method that reads a key.
pub const GET: &str = "KVServer.Get";
/// The RPC method that writes a key conditionally on its version.
pub const PUT: &str = "KVServer.Put";

/// Why a Get or Put did not succeed. Success is the `Ok` arm of the reply (Go's
/// `rpc.OK`); each variant displays as Go's error string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum KvError {
    /// Get of a missing key, or Put with version > 0 of a missing key.
    #[error("ErrNoKey")]
    NoKey,
    /// Put whose version differs from the key's current version: it did not
    /// happen.
    #[error("ErrVersion")]
    Version,
    /// Clerk only: a resent Put got `ErrVersion`, so an earlier attempt may or
    /// may not have happened.
    #[error("ErrMaybe")]
    Maybe,
    /// Server only: this server is not the leader (or lost leadership) and did
    /// not complete the request; try another.
    #[error("ErrWrongLeader")]
    WrongLeader,
    /// Reserved for sharded services: the key belongs to another group.
    #[error("ErrWrongGroup")]
    WrongGroup,
}

/// Go's error string of a reply: `"OK"` for success, else the error's.
pub fn err_string<T>(result: &Result<T, KvError>) -> String {
    match result {
        Ok(_) => "OK".to_string(),
        Err(e) => e.to_string(),
    }
}

/// Arguments of [`GET`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    /// The key to read.
    pub key: String,
}

/// Reply of [`GET`]: the value and its version, or `NoKey` / `WrongLeader`.
pub type GetReply = Result<(String, Version), KvError>;

/// Arguments of [`PUT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutArgs {
    /// The key to write.
    pub key: String,
    /// The new value.
    pub value: String,
    /// The version the key must have for the Put to happen (0: must not exist).
    pub version: Version,
}

/// Reply of [`PUT`]: `Ok(())`, or `Version` / `NoKey` / `WrongLeader`.
pub type PutReply = Result<(), KvError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors print exactly as Go's `rpc.Err` strings, which the porcupine model compares.
    #[test]
    fn errors_print_go_strings() {
        assert_eq!(err_string::<()>(&Ok(())), "OK");
        assert_eq!(KvError::NoKey.to_string(), "ErrNoKey");
        assert_eq!(KvError::Version.to_string(), "ErrVersion");
        assert_eq!(KvError::Maybe.to_string(), "ErrMaybe");
        assert_eq!(KvError::WrongLeader.to_string(), "ErrWrongLeader");
        assert_eq!(KvError::WrongGroup.to_string(), "ErrWrongGroup");
    }
}
