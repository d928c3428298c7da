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
    let mut enc = labgob::Encoder::new();
    enc.encode(&term)
        .encode(&voted_for)
        .encode(&log.snapshot_index())
        .encode(&log.snapshot_term())
        .encode(log.entries());
    enc.finish()
}

/// Decodes the state a previous incarnation saved, checking that it is
/// self-consistent. Empty bytes mean a peer that never ran.
pub(crate) fn decode_state<C: DeserializeOwned + Clone>(
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
