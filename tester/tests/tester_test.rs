//! Follows the Go suite `src/tester1/tester_test.go` (TestBasic,
//! TestShutdownServer), and adds checks of the group's link rules, crash
//! semantics, background failures and seed printing.

use serde::{Deserialize, Serialize};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tester::{Config, Persister, TestServer};

#[derive(Serialize, Deserialize, Debug, Clone)]
struct GetArgs {
    key: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct GetReply {
    value: String,
    version: u64,
    err: String,
}

/// The Go suite's trivial server: counts Get calls and returns the count as
/// the version; remembers being killed. It also saves its count on every
/// call, to check what survives a crash.
struct Server {
    counter: Arc<AtomicU64>,
    killed: AtomicBool,
    persister: Persister,
}

impl TestServer for Server {
    fn services(&self) -> Vec<labrpc::Service> {
        let counter = self.counter.clone();
        let persister = self.persister.clone();
        vec![
            labrpc::Service::new("Server").handler("Get", move |_: GetArgs| {
                let version = counter.fetch_add(1, Ordering::SeqCst) + 1;
                persister.save(labgob::encode(&version), None);
                GetReply {
                    value: String::new(),
                    version,
                    err: "OK".into(),
                }
            }),
        ]
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

fn make_server(
    _ends: Vec<labrpc::ClientEnd>,
    _gid: usize,
    _i: usize,
    persister: Persister,
) -> Arc<Server> {
    let saved = persister.read_raft_state();
    let count = if saved.is_empty() {
        0
    } else {
        labgob::decode(&saved).expect("the test saved a u64")
    };
    Arc::new(Server {
        counter: Arc::new(AtomicU64::new(count)),
        killed: AtomicBool::new(false),
        persister,
    })
}

fn config(n: usize) -> Config<Server> {
    Config::new(n, true, Arc::new(make_server))
}

fn get(clnt: &tester::Clnt, server: &str) -> Result<GetReply, labrpc::CallError> {
    clnt.call(server, "Server.Get", &GetArgs { key: "k".into() })
}

/// TestBasic: a call reaches the server, whose counter is the reply.
#[test]
fn basic() {
    let cfg = config(1);
    cfg.begin("Test: basic");
    let clnt = cfg.make_client();
    let reply = get(&clnt, "server-0-0").expect("call failed");
    let server = cfg.group().service(0).unwrap();
    if reply.version != server.counter.load(Ordering::SeqCst) {
        cfg.fatal("Wrong version");
    }
    cfg.end();
}

/// TestShutdownServer: shutting the group down kills its services, and calls
/// fail afterwards.
#[test]
fn shutdown_server() {
    let cfg = config(1);
    cfg.begin("Test: shutdown server");
    let clnt = cfg.make_client();
    get(&clnt, "server-0-0").expect("call failed");
    let server = cfg.group().service(0).unwrap();
    cfg.group().shutdown();
    if !server.killed.load(Ordering::SeqCst) {
        cfg.fatal("Not killed");
    }
    if get(&clnt, "server-0-0").is_ok() {
        cfg.fatal("RPC succeeded");
    }
    cfg.end();
}

/// A restarted server gets exactly what its predecessor had saved before the
/// crash, and a new RPC count.
#[test]
fn restart_keeps_last_save() {
    let cfg = config(1);
    let clnt = cfg.make_client();
    for _ in 0..3 {
        get(&clnt, "server-0-0").unwrap();
    }
    let old = cfg.group().service(0).unwrap();
    cfg.group().shutdown_server(0);
    // A zombie's later save goes to the superseded persister.
    old.persister.save(labgob::encode(&100u64), None);
    cfg.group().start_server(0);
    cfg.group().connect_all();
    assert_eq!(cfg.group().rpc_count(0), 0);
    let reply = get(&clnt, "server-0-0").unwrap();
    assert_eq!(
        reply.version, 4,
        "the restart should resume from the last save"
    );
}

/// Partition: full connectivity inside each side, none across; a server in
/// neither side keeps its links.
#[test]
fn partition_links() {
    let cfg = config(5);
    let group = cfg.group();
    group.partition(&[0, 1, 2], &[3, 4]);
    assert!(group.connected().iter().all(|&c| c));
    let (p1, p2) = group.make_partition(0);
    assert_eq!(p1, vec![1, 2, 3]);
    assert_eq!(p2, vec![4, 0]);
    group.disconnect_all(2);
    assert!(!group.is_connected(2));
    group.connect_one(2);
    assert!(group.is_connected(2));
}

/// A panic on a background thread fails the test on its own thread.
#[test]
#[should_panic(expected = "failure on a background thread")]
fn background_panic_fails_the_test() {
    let cfg = config(1);
    labrt::thread::Builder::new()
        .name("worker".into())
        .spawn(|| panic!("boom in a worker"))
        .unwrap()
        .join()
        .unwrap_err();
    cfg.check_failure();
}

/// A failure reported through the handle fails the test at its end.
#[test]
#[should_panic(expected = "checker said no")]
fn failure_handle_fails_the_test() {
    let cfg = config(1);
    let handle = cfg.failure();
    labrt::thread::spawn(move || handle.fail("checker said no"))
        .join()
        .unwrap();
    cfg.end();
}

/// Not run on its own: `failing_test_prints_its_seed` runs it in a child
/// process to see what a failing test prints.
#[test]
#[ignore = "fails on purpose; run by failing_test_prints_its_seed"]
fn fails_on_purpose() {
    let cfg = config(1);
    cfg.begin("Test: fails on purpose");
    cfg.fatal("failing on purpose");
}

/// What the ignored `fails_on_purpose` prints, run as a child process with
/// `LAB_SIM` set to `sim`.
fn failing_child_output(sim: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fails_on_purpose", "--ignored", "--nocapture"])
        .env("LAB_SEED", "6584012345")
        .env("LAB_SIM", sim)
        .env("VIS_ENABLE", "never")
        .output()
        .unwrap();
    assert!(!output.status.success(), "the child test should fail");
    String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr)
}

/// A failing test prints the seed it ran with and how to replay it.
#[test]
fn failing_test_prints_its_seed() {
    let text = failing_child_output("0");
    assert!(text.contains("Fatal: failing on purpose"), "{text}");
    assert!(
        text.contains("replay this test with LAB_SEED=6584012345"),
        "the seed line is missing:\n{text}"
    );
}

/// A failing simulated test prints its trace and the one command that
/// replays it exactly.
#[test]
fn failing_simulated_test_prints_the_exact_replay_command() {
    let text = failing_child_output("1");
    assert!(text.contains("Fatal: failing on purpose"), "{text}");
    assert!(
        text.contains(
            "replay this run exactly: LAB_SIM=1 LAB_SEED=6584012345 cargo test -p tester --test tester_test -- --exact fails_on_purpose"
        ),
        "the replay line is missing:\n{text}"
    );
    assert!(
        text.contains("... simulated: seed 6584012345 digest "),
        "the trace line is missing:\n{text}"
    );
}

/// The same seed draws the same random names and values.
#[test]
fn seed_fixes_random_values() {
    labrpc::rng::reseed(7);
    let a = tester::randstring(20);
    labrpc::rng::reseed(7);
    assert_eq!(a, tester::randstring(20));
    assert_eq!(a.len(), 20);
}
