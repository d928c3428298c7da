//! The fault schedule: a thread that alternates calm spells with one fault at a
//! time (a partition or crashes), on top of an unreliable network if asked,
//! and mends everything when told to stop.
//!
//! The group records every crash, restart and partition on the tester's
//! timeline itself, so the HTML picture shows them beside the history.

use labrt::thread::JoinHandle;
use labrt::time::{Duration, Instant};
use std::ops::Range;
use std::sync::Arc;

use labrpc::Network;
use labrt::channel::{self, Receiver, RecvTimeoutError, Sender};
use labrt::sync::Mutex;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use tester::Group;

use crate::cli::Faults;
use crate::cluster::{SimServer, leader_of};

/// How long the cluster runs undisturbed between two faults, in ms.
const CALM_MS: Range<u64> = 300..1000;
/// How long a partition or a crash lasts, in ms.
const FAULT_MS: Range<u64> = 500..2000;
/// How long every server stays down when all crash at once, in ms.
const ALL_DOWN_MS: Range<u64> = 100..600;
/// Timeline row of the network's reliability.
const TAG_NETWORK: &str = "$ Network";

/// One fault of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// The leader and a minority on one side, the majority on the other.
    IsolateLeader,
    /// A random majority and minority.
    RandomSplit,
    /// One server cut off from all others.
    CutOne,
    /// The leader crashes.
    CrashLeader,
    /// A random minority crashes.
    CrashMinority,
    /// Every server crashes, then all restart from what they persisted.
    CrashAll,
}

const PARTITIONS: [Fault; 3] = [Fault::IsolateLeader, Fault::RandomSplit, Fault::CutOne];
const CRASHES: [Fault; 3] = [Fault::CrashLeader, Fault::CrashMinority, Fault::CrashAll];

/// One fault as it happened.
#[derive(Clone, Debug, Serialize)]
pub struct FaultEvent {
    /// Seconds since the schedule started.
    pub at_seconds: f64,
    /// How long it lasted, in seconds.
    pub seconds: f64,
    /// What it was.
    pub description: String,
}

/// The running schedule.
pub struct FaultSchedule {
    stop: Sender<()>,
    thread: JoinHandle<Vec<FaultEvent>>,
    status: Arc<Mutex<String>>,
}

impl FaultSchedule {
    /// Starts injecting `faults` into `group` and `net`, drawing every choice
    /// from `rng`.
    pub fn start(
        group: Arc<Group<SimServer>>,
        net: Network,
        faults: Faults,
        rng: StdRng,
    ) -> FaultSchedule {
        let (stop, stopped) = channel::bounded(1);
        let status = Arc::new(Mutex::new(String::from("none")));
        let mut schedule = Schedule {
            group,
            net,
            faults,
            rng,
            status: Arc::clone(&status),
            crashed: Vec::new(),
            started: Instant::now(),
            events: Vec::new(),
        };
        let thread = labrt::thread::Builder::new()
            .name("kvsim-faults".to_string())
            .spawn(move || {
                schedule.run(&stopped);
                schedule.events
            })
            .expect("spawn the fault schedule thread");
        FaultSchedule {
            stop,
            thread,
            status,
        }
    }

    /// The fault in force now, as one line.
    pub fn status(&self) -> String {
        self.status.lock().clone()
    }

    /// Ends the current fault, mends every link, restarts crashed servers,
    /// makes the network reliable, and returns the faults injected.
    pub fn stop(self) -> Vec<FaultEvent> {
        let _ = self.stop.send(());
        self.thread.join().expect("the fault schedule panicked")
    }
}

struct Schedule {
    group: Arc<Group<SimServer>>,
    net: Network,
    faults: Faults,
    rng: StdRng,
    status: Arc<Mutex<String>>,
    crashed: Vec<usize>,
    started: Instant,
    events: Vec<FaultEvent>,
}

impl Schedule {
    fn run(&mut self, stopped: &Receiver<()>) {
        if self.faults.unreliable {
            self.net.set_reliable(false);
            tester::annotate::continuous(
                TAG_NETWORK,
                "unreliable network",
                "10% of requests and 10% of replies lost; requests delayed 0-26 ms",
            );
        }
        self.set_status(None);
        let choices: Vec<Fault> = [
            (self.faults.partitions, PARTITIONS),
            (self.faults.crashes, CRASHES),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .flat_map(|(_, faults)| faults)
        .collect();
        if choices.is_empty() {
            let _ = stopped.recv();
        } else {
            loop {
                // A stop that arrived while the calm spell ended wins over
                // the next fault.
                if wait(stopped, self.draw(CALM_MS)) || !stopped.is_empty() {
                    break;
                }
                let fault = choices[self.rng.random_range(0..choices.len())];
                let began = Instant::now();
                let description = self.inject(fault);
                self.set_status(Some(&description));
                let hold = match fault {
                    Fault::CrashAll => self.draw(ALL_DOWN_MS),
                    _ => self.draw(FAULT_MS),
                };
                let stop_now = wait(stopped, hold);
                self.heal();
                self.events.push(FaultEvent {
                    at_seconds: began.duration_since(self.started).as_secs_f64(),
                    seconds: began.elapsed().as_secs_f64(),
                    description,
                });
                self.set_status(None);
                if stop_now {
                    break;
                }
            }
        }
        self.heal();
        if self.faults.unreliable {
            self.net.set_reliable(true);
            tester::annotate::continuous_end(TAG_NETWORK);
        }
        *self.status.lock() = "none (healed)".to_string();
    }

    fn draw(&mut self, range_ms: Range<u64>) -> Duration {
        Duration::from_millis(self.rng.random_range(range_ms))
    }

    fn set_status(&self, fault: Option<&str>) {
        let network = if self.faults.unreliable {
            "unreliable network"
        } else {
            ""
        };
        let text = match (network, fault) {
            ("", None) => "none".to_string(),
            ("", Some(fault)) => fault.to_string(),
            (network, None) => network.to_string(),
            (network, Some(fault)) => format!("{fault}; {network}"),
        };
        *self.status.lock() = text;
    }

    /// The current leader, or a random server when none is known.
    fn leader_or_any(&mut self) -> usize {
        match leader_of(&self.group) {
            Some(leader) => leader.server,
            None => self.rng.random_range(0..self.group.n()),
        }
    }

    fn inject(&mut self, fault: Fault) -> String {
        let n = self.group.n();
        match fault {
            Fault::IsolateLeader => {
                let leader = self.leader_or_any();
                let (majority, minority) = self.group.make_partition(leader);
                self.group.partition(&majority, &minority);
                format!("partition {majority:?} | {minority:?}, leader {leader} in the minority")
            }
            Fault::RandomSplit => {
                let mut servers: Vec<usize> = (0..n).collect();
                servers.shuffle(&mut self.rng);
                let (majority, minority) = servers.split_at(n / 2 + 1);
                let (mut majority, mut minority) = (majority.to_vec(), minority.to_vec());
                majority.sort_unstable();
                minority.sort_unstable();
                self.group.partition(&majority, &minority);
                format!("partition {majority:?} | {minority:?}")
            }
            Fault::CutOne => {
                let server = self.rng.random_range(0..n);
                self.group.disconnect_all(server);
                format!("server {server} cut off")
            }
            Fault::CrashLeader => {
                let leader = self.leader_or_any();
                self.crash(&[leader]);
                format!("crash leader {leader}")
            }
            Fault::CrashMinority => {
                let most = ((n - 1) / 2).max(1);
                let count = self.rng.random_range(1..=most);
                let mut servers: Vec<usize> = (0..n).collect();
                servers.shuffle(&mut self.rng);
                let mut victims = servers[..count].to_vec();
                victims.sort_unstable();
                self.crash(&victims);
                format!("crash {victims:?}")
            }
            Fault::CrashAll => {
                let all: Vec<usize> = (0..n).collect();
                self.crash(&all);
                "crash all servers".to_string()
            }
        }
    }

    fn crash(&mut self, servers: &[usize]) {
        for &server in servers {
            self.group.shutdown_server(server);
            self.crashed.push(server);
        }
    }

    /// Restarts the crashed servers from their persisted state and reconnects
    /// every server to every other.
    fn heal(&mut self) {
        for server in std::mem::take(&mut self.crashed) {
            self.group.start_server(server);
        }
        self.group.connect_all();
    }
}

/// Waits `duration` unless told to stop first; true if told to stop.
fn wait(stopped: &Receiver<()>, duration: Duration) -> bool {
    match stopped.recv_timeout(duration) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        Err(RecvTimeoutError::Timeout) => false,
    }
}
