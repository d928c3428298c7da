//! The replicated part of the classic service: the key/value map and the
//! duplicate table, changed only by applying [`KvOp`]s in log order.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::rpc::ClientId;

/// One operation in the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// Read a key. Reads change nothing, so a read applied twice is harmless
    /// and needs no duplicate detection.
    Get {
        /// The key to read.
        key: String,
    },
    /// Replace a key's value, at most once per (client, seq).
    Put {
        /// The key to write.
        key: String,
        /// The new value.
        value: String,
        /// The writing Clerk.
        client: ClientId,
        /// The Clerk's sequence number for this write.
        seq: u64,
    },
    /// Concatenate to a key's value, at most once per (client, seq).
    Append {
        /// The key to write.
        key: String,
        /// The text to append.
        value: String,
        /// The writing Clerk.
        client: ClientId,
        /// The Clerk's sequence number for this write.
        seq: u64,
    },
}

/// What applying a [`KvOp`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOutput {
    /// A read's result: `None` when the key has no value.
    Value(Option<String>),
    /// A write is done: applied now, or earlier if this was a duplicate.
    Written,
}

/// The key/value map plus the duplicate table.
///
/// The duplicate table maps each Clerk to the highest write sequence number
/// applied for it. A Clerk has at most one request outstanding and numbers its
/// writes in increasing order, so sending write `n` means every write before
/// `n` was acknowledged: one number per Clerk is all that must be kept, and it
/// is overwritten (the older entry freed) as the Clerk moves on. A write
/// replies nothing but "done", so no earlier reply needs to be stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicKv {
    data: HashMap<String, String>,
    last_applied_seq: HashMap<ClientId, u64>,
}

impl ClassicKv {
    /// An empty store.
    pub fn new() -> ClassicKv {
        ClassicKv::default()
    }

    /// The value under `key`, if any.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }

    /// Number of Clerks with an entry in the duplicate table.
    pub fn dedup_entries(&self) -> usize {
        self.last_applied_seq.len()
    }

    /// Applies `op`: the heart of the service, run on every replica in log order.
    pub fn apply_op(&mut self, op: KvOp) -> KvOutput {
        match op {
            KvOp::Get { key } => KvOutput::Value(self.data.get(&key).cloned()),
            KvOp::Put {
                key,
                value,
                client,
                seq,
            } => {
                if self.first_time(client, seq) {
                    self.data.insert(key, value);
                }
                KvOutput::Written
            }
            KvOp::Append {
                key,
                value,
                client,
                seq,
            } => {
                if self.first_time(client, seq) {
                    self.data.entry(key).or_default().push_str(&value);
                }
                KvOutput::Written
            }
        }
    }

    /// Records (client, seq) and says whether it was new; false for a duplicate.
    fn first_time(&mut self, client: ClientId, seq: u64) -> bool {
        let last = self.last_applied_seq.entry(client).or_insert(0);
        if seq <= *last {
            return false;
        }
        *last = seq;
        true
    }
}

impl rsm::StateMachine for ClassicKv {
    type Op = KvOp;
    type Output = KvOutput;

    fn apply(&mut self, op: KvOp) -> KvOutput {
        self.apply_op(op)
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

    fn append(key: &str, value: &str, client: u64, seq: u64) -> KvOp {
        KvOp::Append {
            key: key.into(),
            value: value.into(),
            client: ClientId(client),
            seq,
        }
    }

    fn put(key: &str, value: &str, client: u64, seq: u64) -> KvOp {
        KvOp::Put {
            key: key.into(),
            value: value.into(),
            client: ClientId(client),
            seq,
        }
    }

    fn get(key: &str) -> KvOp {
        KvOp::Get { key: key.into() }
    }

    /// A missing key reads as absent, Append on it acts like Put, Put replaces.
    #[test]
    fn put_append_get_semantics() {
        let mut kv = ClassicKv::new();
        assert_eq!(kv.apply(get("k")), KvOutput::Value(None));
        assert_eq!(kv.apply(append("k", "a", 1, 1)), KvOutput::Written);
        assert_eq!(kv.apply(append("k", "b", 1, 2)), KvOutput::Written);
        assert_eq!(kv.apply(get("k")), KvOutput::Value(Some("ab".into())));
        kv.apply(put("k", "z", 1, 3));
        assert_eq!(kv.apply(get("k")), KvOutput::Value(Some("z".into())));
    }

    /// A re-sent write (same client and seq) is applied once, and so is an
    /// older write that arrives late; other clients are unaffected.
    #[test]
    fn duplicate_writes_apply_once() {
        let mut kv = ClassicKv::new();
        kv.apply(append("k", "x", 7, 1));
        kv.apply(append("k", "x", 7, 1));
        kv.apply(append("k", "y", 7, 2));
        kv.apply(append("k", "x", 7, 1));
        kv.apply(put("k", "lost", 7, 2));
        kv.apply(append("k", "x", 8, 1));
        assert_eq!(kv.value("k"), Some("xyx"));
    }

    /// The duplicate table holds one entry per client however many writes it made.
    #[test]
    fn dedup_table_has_one_entry_per_client() {
        let mut kv = ClassicKv::new();
        for seq in 1..=1000 {
            kv.apply(put("k", "v", 1, seq));
            kv.apply(put("k", "v", 2, seq));
        }
        assert_eq!(kv.dedup_entries(), 2);
    }

    /// A snapshot carries the map and the duplicate table: a restored replica
    /// still refuses a duplicate of a write made before the snapshot.
    #[test]
    fn snapshot_round_trip_keeps_dedup_table() {
        let mut kv = ClassicKv::new();
        kv.apply(append("a", "1", 5, 1));
        kv.apply(put("b", "2", 6, 1));
        let bytes = kv.snapshot();
        let mut restored = ClassicKv::new();
        restored.restore(&bytes).expect("snapshot decodes");
        assert_eq!(restored, kv);
        restored.apply(append("a", "1", 5, 1));
        assert_eq!(restored.value("a"), Some("1"));
    }

    /// A snapshot for one client and one short key stays far under the 3B
    /// test's 500-byte limit.
    #[test]
    fn snapshot_is_small() {
        let mut kv = ClassicKv::new();
        kv.apply(put("x", "1", u64::MAX >> 2, 800));
        assert!(kv.snapshot().len() < 50, "{} bytes", kv.snapshot().len());
    }

    /// Bytes that are not a snapshot give a decode error, not a panic, and
    /// leave the state untouched.
    #[test]
    fn corrupt_snapshot_is_an_error() {
        let mut kv = ClassicKv::new();
        kv.apply(put("x", "1", 1, 1));
        let before = kv.clone();
        assert!(kv.restore(&[0xff, 0xff, 0xff]).is_err());
        assert_eq!(kv, before);
    }
}
