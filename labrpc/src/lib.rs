//! labrpc: work in progress.
