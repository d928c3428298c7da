//! raft: work in progress.
