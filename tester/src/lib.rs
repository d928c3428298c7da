//! tester: work in progress.
