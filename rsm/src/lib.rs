//! rsm: work in progress.
