//! kvraft: work in progress.
