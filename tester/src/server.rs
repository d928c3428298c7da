//! What the tester needs from a server it starts.

use labrpc::{ClientEnd, Persister};
use std::sync::Arc;

/// A server the tester can start, register on the network and crash: a Raft
/// wrapper, a KV server, a replicated state machine.
pub trait TestServer: Send + Sync + 'static {
    /// The labrpc services this server answers; the tester registers them on
    /// one labrpc server under the name `server-<gid>-<i>`.
    fn services(&self) -> Vec<labrpc::Service>;
    /// The tester has crashed this instance: it must stop its threads and
    /// never send again.
    fn kill(&self);
}

/// Identifies a group of servers; the labs use group [`GRP0`].
pub type Gid = usize;

/// The default group.
pub const GRP0: Gid = 0;

/// The lab's server factory, called as `make(ends, gid, i, persister)`:
/// `ends[j]` is this server's end to server `j` of the group (`j == i`
/// included) and `persister` holds what it saved before a crash, if anything.
pub type MakeServer<S> = Arc<dyn Fn(Vec<ClientEnd>, Gid, usize, Persister) -> Arc<S> + Send + Sync>;
