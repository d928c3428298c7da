//! The byte layout of Raft's persisted state: term, vote, the snapshot's last
//! index and term, then the kept entries (labgob, compact varints).

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::Restored;
use crate::error::RaftError;
use crate::log::{Entry, Log};
use crate::types::{LogIndex, PeerId, Term};

/// Encodes what must survive a crash.
pub(crate) fn encode_state<C: Serialize + Clone>(
    term: Term,
    voted_for: Option<PeerId>,
    log: &Log<C>,
) -> Vec<u8> {
    let entries = log.encoded_entries();
    let mut enc = labgob::Encoder::new();
    enc.encode(&term)
        .encode(&voted_for)
        .encode(&log.snapshot_index())
        .encode(&log.snapshot_term())
        // A sequence is its length then its elements: the same bytes as
        // encoding `log.entries()`, without re-encoding every entry.
        .encode(&(log.entries().len() as u64));
    let mut bytes = enc.finish();
    bytes.reserve_exact(entries.len());
    bytes.extend_from_slice(entries);
    bytes
}

/// Decodes the state a previous incarnation saved, checking that it is
/// self-consistent. Empty bytes mean a peer that never ran.
pub(crate) fn decode_state<C: DeserializeOwned + Serialize + Clone>(
    bytes: &[u8],
    snapshot: Arc<[u8]>,
    peers: usize,
) -> Result<Restored<C>, RaftError> {
    let corrupt = |reason: String| RaftError::CorruptState {
        len: bytes.len(),
        reason,
    };
    if bytes.is_empty() {
        if !snapshot.is_empty() {
            return Err(corrupt(format!(
                "a {}-byte snapshot but no raft state",
                snapshot.len()
            )));
        }
        return Ok(Restored::fresh());
    }
    let mut dec = labgob::Decoder::new(bytes);
    let term: Term = dec.decode().map_err(|e| corrupt(format!("term: {e}")))?;
    let voted_for: Option<PeerId> = dec.decode().map_err(|e| corrupt(format!("vote: {e}")))?;
    let snapshot_index: LogIndex = dec
        .decode()
        .map_err(|e| corrupt(format!("snapshot index: {e}")))?;
    let snapshot_term: Term = dec
        .decode()
        .map_err(|e| corrupt(format!("snapshot term: {e}")))?;
    let entries: Vec<Entry<C>> = dec.decode().map_err(|e| corrupt(format!("log: {e}")))?;
    dec.finish().map_err(|e| corrupt(e.to_string()))?;

    if let Some(v) = voted_for
        && v.0 >= peers
    {
        return Err(corrupt(format!("vote for peer {v} of only {peers}")));
    }
    if snapshot_term > term {
        return Err(corrupt(format!(
            "snapshot term {snapshot_term} is after the current term {term}"
        )));
    }
    let mut previous = snapshot_term;
    for (i, entry) in entries.iter().enumerate() {
        if entry.term < previous || entry.term > term {
            return Err(corrupt(format!(
                "entry {} has term {} (previous {previous}, current {term})",
                snapshot_index.plus(i + 1),
                entry.term
            )));
        }
        previous = entry.term;
    }
    Ok(Restored {
        term,
        voted_for,
        log: Log::from_parts(snapshot_index, snapshot_term, entries),
        snapshot: (!snapshot.is_empty()).then_some(snapshot),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(n: u64) -> Log<String> {
        let mut log = Log::new();
        for i in 0..n {
            log.append(Entry {
                term: Term(1 + i / 3),
                command: format!("cmd-{i}"),
            });
        }
        log
    }

    /// The incrementally kept bytes equal a fresh encoding of the entries,
    /// through appends, truncation and compaction.
    #[test]
    fn incremental_encoding_matches_full_encoding() {
        let mut log = log_of(10);
        let check = |log: &Log<String>| {
            let full = {
                let mut enc = labgob::Encoder::new();
                enc.encode(&Term(9))
                    .encode(&Some(PeerId(1)))
                    .encode(&log.snapshot_index())
                    .encode(&log.snapshot_term())
                    .encode(log.entries());
                enc.finish()
            };
            assert_eq!(encode_state(Term(9), Some(PeerId(1)), log), full);
        };
        check(&log);
        log.truncate_from(LogIndex(7));
        check(&log);
        log.compact_through(LogIndex(3), Term(1));
        check(&log);
        log.append(Entry {
            term: Term(5),
            command: "x".into(),
        });
        check(&log);
        log.compact_through(LogIndex(20), Term(5));
        check(&log);
    }

    /// What is saved decodes back to the same state.
    #[test]
    fn state_round_trips() {
        let mut log = log_of(6);
        log.compact_through(LogIndex(2), Term(1));
        let bytes = encode_state(Term(4), Some(PeerId(2)), &log);
        let restored = decode_state::<String>(&bytes, std::sync::Arc::from(&[7u8][..]), 3).unwrap();
        assert_eq!(restored.term, Term(4));
        assert_eq!(restored.voted_for, Some(PeerId(2)));
        assert_eq!(restored.log.snapshot_index(), LogIndex(2));
        assert_eq!(restored.log.entries(), log.entries());
        assert_eq!(restored.snapshot.as_deref(), Some(&[7u8][..]));
    }

    /// Bytes that do not decode, or decode to an impossible state, are a clear
    /// error, never a panic or an empty state.
    #[test]
    fn corrupt_state_is_an_error() {
        let empty = || std::sync::Arc::from(&[][..]);
        let good = encode_state(Term(4), Some(PeerId(2)), &log_of(6));
        for bad in [
            good[..good.len() - 1].to_vec(),
            [good.clone(), vec![0]].concat(),
            vec![0xff; 12],
        ] {
            let err = decode_state::<String>(&bad, empty(), 3).unwrap_err();
            assert!(matches!(err, RaftError::CorruptState { .. }), "{err}");
        }
        let err = decode_state::<String>(&good, empty(), 2).unwrap_err();
        assert!(
            err.to_string().contains("vote for peer 2 of only 2"),
            "{err}"
        );
        let future = encode_state(Term(1), None, &log_of(6));
        assert!(decode_state::<String>(&future, empty(), 3).is_err());
        assert!(decode_state::<String>(&[], empty(), 3).is_ok());
    }
}
