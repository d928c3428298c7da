//! How Clerks reach servers: one trait, so the same Clerk runs against the
//! tests' clients and kvsim's.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How a Clerk reaches servers by name (the tests' `tester::Clnt`, or anything
/// else that can make a labrpc call).
pub trait Transport: Send + Sync {
    /// Calls `method` ("Service.Method") on the server called `server`; `Err`
    /// for any network failure.
    fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        server: &str,
        method: &str,
        args: &A,
    ) -> Result<R, labrpc::CallError>;
}

/// The tests' client.
impl Transport for tester::Clnt {
    fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        server: &str,
        method: &str,
        args: &A,
    ) -> Result<R, labrpc::CallError> {
        tester::Clnt::call(self, server, method, args)
    }
}
