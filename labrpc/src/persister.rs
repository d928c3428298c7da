//! Simulated stable storage: what a server "writes to disk" survives its crash.

use labrt::sync::Mutex;
use std::sync::Arc;

#[derive(Default)]
struct Stored {
    raft_state: Arc<[u8]>,
    snapshot: Arc<[u8]>,
}

/// In-memory stable storage for one server, with the semantics of the course's
/// persister: one [`save`](Persister::save) replaces the Raft state and the
/// snapshot together, and a crash keeps exactly the last save.
///
/// Cloning a `Persister` shares the storage (like passing a pointer in Go);
/// [`copy`](Persister::copy) makes an independent one, which is what the tester
/// hands a restarted server.
///
/// ```
/// let p = labrpc::Persister::new();
/// p.save(vec![1, 2, 3], None);
/// let restarted = p.copy();
/// p.save(vec![9], None); // a zombie's later save does not reach the copy
/// assert_eq!(&*restarted.read_raft_state(), &[1, 2, 3]);
/// ```
#[derive(Clone, Default)]
pub struct Persister {
    stored: Arc<Mutex<Stored>>,
}

impl Persister {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces both the Raft state and the snapshot. `None` stores an empty
    /// snapshot, erasing any earlier one, so once a server has a snapshot it
    /// must pass it on every save.
    pub fn save(&self, raft_state: Vec<u8>, snapshot: Option<Arc<[u8]>>) {
        let raft_state: Arc<[u8]> = raft_state.into();
        let snapshot = snapshot.unwrap_or_else(|| Arc::from(&[][..]));
        *self.stored.lock() = Stored {
            raft_state,
            snapshot,
        };
    }

    /// The last saved Raft state (empty if never saved).
    pub fn read_raft_state(&self) -> Arc<[u8]> {
        self.stored.lock().raft_state.clone()
    }

    /// The last saved snapshot (empty if none).
    pub fn read_snapshot(&self) -> Arc<[u8]> {
        self.stored.lock().snapshot.clone()
    }

    /// The size in bytes of the saved Raft state.
    pub fn raft_state_size(&self) -> usize {
        self.stored.lock().raft_state.len()
    }

    /// The size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.stored.lock().snapshot.len()
    }

    /// An independent persister holding the same contents. The bytes are
    /// shared, which is safe because saved bytes are never changed in place.
    pub fn copy(&self) -> Persister {
        let stored = self.stored.lock();
        Persister {
            stored: Arc::new(Mutex::new(Stored {
                raft_state: stored.raft_state.clone(),
                snapshot: stored.snapshot.clone(),
            })),
        }
    }
}

impl std::fmt::Debug for Persister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stored = self.stored.lock();
        f.debug_struct("Persister")
            .field("raft_state_bytes", &stored.raft_state.len())
            .field("snapshot_bytes", &stored.snapshot.len())
            .finish()
    }
}
