//! The KV state machine every replica applies: versioned keys.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::rpc::{GetArgs, GetReply, KvError, PutArgs, PutReply, Version};

/// One request as it travels through the Raft log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key (reads go through the log, so a minority never answers).
    Get(GetArgs),
    /// Write a key if its version matches.
    Put(PutArgs),
}

/// What applying a [`KvOp`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOutput {
    /// The result of a Get.
    Get(GetReply),
    /// The result of a Put.
    Put(PutReply),
}

/// The replicated map: key -> (value, version).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    map: HashMap<String, (String, Version)>,
}

impl KvStore {
    /// An empty store.
    pub fn new() -> KvStore {
        KvStore::default()
    }

    /// The value and version of `key`, or `NoKey`.
    pub fn get(&self, key: &str) -> GetReply {
        self.map.get(key).cloned().ok_or(KvError::NoKey)
    }

    /// Writes `value` if `key` is at `version`, moving it to `version + 1`; a
    /// missing key counts as version 0.
    pub fn put(&mut self, args: PutArgs) -> PutReply {
        match self.map.get_mut(&args.key) {
            Some((value, version)) if *version == args.version => {
                *value = args.value;
                *version += 1;
                Ok(())
            }
            Some(_) => Err(KvError::Version),
            None if args.version == 0 => {
                self.map.insert(args.key, (args.value, 1));
                Ok(())
            }
            None => Err(KvError::NoKey),
        }
    }

    /// How many keys exist.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if no key exists.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl rsm::StateMachine for KvStore {
    type Op = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: KvOp) -> KvOutput {
        match op {
            KvOp::Get(args) => KvOutput::Get(self.get(&args.key)),
            KvOp::Put(args) => KvOutput::Put(self.put(args)),
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        labgob::encode(self)
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        *self = labgob::decode(snapshot)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsm::StateMachine;

    fn put(key: &str, value: &str, version: Version) -> PutArgs {
        PutArgs {
            key: key.into(),
            value: value.into(),
            version,
        }
    }

    /// Put follows the 2025 rules: create at 0, update at the current version, else ErrVersion/ErrNoKey.
    #[test]
    fn put_rules() {
        let mut kv = KvStore::new();
        assert_eq!(kv.get("k"), Err(KvError::NoKey));
        assert_eq!(kv.put(put("k", "a", 1)), Err(KvError::NoKey));
        assert_eq!(kv.put(put("k", "a", 0)), Ok(()));
        assert_eq!(kv.get("k"), Ok(("a".into(), 1)));
        assert_eq!(kv.put(put("k", "b", 0)), Err(KvError::Version));
        assert_eq!(kv.put(put("k", "b", 2)), Err(KvError::Version));
        assert_eq!(kv.put(put("k", "b", 1)), Ok(()));
        assert_eq!(kv.get("k"), Ok(("b".into(), 2)));
    }

    /// A snapshot restores the same map, and garbage fails to restore.
    #[test]
    fn snapshot_round_trip() {
        let mut kv = KvStore::new();
        kv.put(put("x", "1", 0)).unwrap();
        kv.put(put("y", "2", 0)).unwrap();
        kv.put(put("x", "3", 1)).unwrap();
        let bytes = kv.snapshot();
        let mut other = KvStore::new();
        other.restore(&bytes).unwrap();
        assert_eq!(other, kv);
        assert!(other.restore(&[0xff, 0xff, 0xff]).is_err());
    }

    /// One key's snapshot stays far below TestSnapshotSize4C's 500-byte bound.
    #[test]
    fn one_key_snapshot_is_small() {
        let mut kv = KvStore::new();
        for v in 0..400 {
            kv.put(put("x", if v % 2 == 0 { "0" } else { "1" }, v))
                .unwrap();
        }
        assert!(kv.snapshot().len() < 20, "{} bytes", kv.snapshot().len());
    }
}
