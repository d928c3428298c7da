//! tester: the labs' test harness (work in progress).

pub mod logging;
