//! A replica whose persisted state does not decode refuses to start with a
//! clear error instead of panicking (issue 5, "bad input"). Not part of the Go
//! suite, so the names carry no part tag.

use std::sync::Arc;

use labrpc::{Network, Persister};
use rsm::{Rsm, RsmError, StateMachine};

/// A counter whose snapshot is one labgob integer.
struct Counter(i64);

impl StateMachine for Counter {
    type Op = ();
    type Output = i64;
    fn apply(&mut self, _op: ()) -> i64 {
        self.0 += 1;
        self.0
    }
    fn snapshot(&self) -> Vec<u8> {
        labgob::encode(&self.0)
    }
    fn restore(&mut self, snapshot: &[u8]) -> Result<(), labgob::DecodeError> {
        self.0 = labgob::decode(snapshot)?;
        Ok(())
    }
}

fn start(persister: Persister) -> Result<Arc<Rsm<Counter>>, RsmError> {
    let net = Network::new();
    let ends = vec![net.make_end("end-0")];
    let result = Rsm::new(ends, 0, persister, Some(1000), Counter(0));
    net.cleanup();
    result
}

/// A snapshot that is not the state machine's encoding is reported as such, with its size.
#[test]
fn corrupt_snapshot_fails_start() {
    let persister = Persister::new();
    persister.save(Vec::new(), Some(Arc::from(&[0xffu8, 0xff, 0xff][..])));
    match start(persister) {
        Err(
            err @ RsmError::Snapshot {
                me: 0, bytes: 3, ..
            },
        ) => {
            assert!(
                err.to_string().contains("does not decode"),
                "unclear message: {err}"
            );
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a replica started from a corrupt snapshot"),
    }
}

/// Raft state that does not decode is reported as Raft's error.
#[test]
fn corrupt_raft_state_fails_start() {
    let persister = Persister::new();
    persister.save(vec![0xff; 7], None);
    match start(persister) {
        Err(RsmError::Raft(_)) => {}
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a replica started from corrupt raft state"),
    }
}

/// An intact snapshot restores the state machine before anything is applied.
#[test]
fn snapshot_is_restored_at_start() {
    let persister = Persister::new();
    let net = Network::new();
    let ends = vec![net.make_end("end-0")];
    // A real snapshot needs matching raft state: take one from a live replica.
    let rsm = Rsm::new(ends, 0, persister.clone(), Some(1), Counter(0)).expect("starts");
    net.add_server("server-0", {
        let mut server = labrpc::Server::new();
        for service in rsm.services() {
            server.add_service(service);
        }
        server
    });
    net.connect("end-0", "server-0");
    net.enable("end-0", true);
    let mut last = 0;
    while last < 5 {
        if let Ok(n) = rsm.submit(()) {
            last = n;
        } else {
            labrt::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    rsm.kill();
    net.cleanup();
    assert!(
        persister.snapshot_size() > 0,
        "maxraftstate 1 must make the replica snapshot"
    );

    let restarted = start(persister.copy()).expect("restarts from its own snapshot");
    assert!(
        restarted.with_state_machine(|c| c.0) >= 1,
        "the snapshot was not restored"
    );
    restarted.kill();
}
