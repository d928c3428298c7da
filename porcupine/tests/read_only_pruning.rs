//! Read-only pruning (`Model::read_only`): not part of upstream Porcupine's suite. The
//! pruned search must give the same verdicts as the plain one, still find illegal
//! histories, and check large histories full of reads quickly.

use std::time::Duration;

use porcupine::models::etcd::{EtcdInput, EtcdModel, EtcdOutput};
use porcupine::models::kv::{self, KvModel};
use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput, KvVersionedModel};
use porcupine::{CheckResult, Model, NEVER, Operation, check_operations};

/// Wraps a model but keeps the default `read_only` (false): the search without pruning.
struct Unpruned<M>(M);

impl<M: Model> Model for Unpruned<M> {
    type Input = M::Input;
    type Output = M::Output;
    type State = M::State;
    fn init(&self) -> M::State {
        self.0.init()
    }
    fn step(&self, state: &M::State, input: &M::Input, output: &M::Output) -> Option<M::State> {
        self.0.step(state, input, output)
    }
    fn partition(&self, history: &[Operation<M::Input, M::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }
}

/// A small deterministic generator (splitmix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Random overlapping intervals for `ops` operations of `clients` clients (each client's
/// operations sequential), with a random linearization point inside each; returned in
/// the order of those points: (client, call, point, return).
fn schedule(rng: &mut Rng, clients: i64, ops: usize) -> Vec<(i64, i64, i64, i64)> {
    let mut free = vec![0i64; clients as usize];
    let mut plan = Vec::with_capacity(ops);
    for _ in 0..ops {
        let client = rng.below(clients as u64) as i64;
        let call = free[client as usize] + rng.below(5) as i64;
        let ret = call + 1 + rng.below(20) as i64;
        let point = call + rng.below((ret - call + 1) as u64) as i64;
        free[client as usize] = ret + 1;
        plan.push((client, call, point, ret));
    }
    plan.sort_by_key(|&(_, _, point, _)| point);
    plan
}

/// Checks `history` with and without pruning; both verdicts must agree.
#[track_caller]
fn same_verdict<M: Model + Copy>(model: M, history: &[Operation<M::Input, M::Output>]) -> bool
where
    M::Input: Clone,
    M::Output: Clone,
{
    let timeout = Some(Duration::from_secs(20));
    let pruned = check_operations(&model, history, timeout);
    let plain = check_operations(&Unpruned(model), history, timeout);
    assert_ne!(pruned, CheckResult::Unknown, "{history:?}");
    assert_eq!(pruned, plain, "pruning changed the verdict of {history:?}");
    pruned == CheckResult::Ok
}

/// Asserts that a batch of random histories had both verdicts, so the comparison meant
/// something.
#[track_caller]
fn both_verdicts_seen(ok: usize, total: usize) {
    assert!(
        ok > total / 10 && ok < total - total / 10,
        "{ok} of {total} random histories linearizable: too one-sided to compare"
    );
}

/// The versioned model's pruning (Gets, ErrVersion Puts, Puts at passed versions) never
/// changes a verdict on random small histories, linearizable or corrupted.
#[test]
fn kv_versioned_pruning_keeps_verdicts() {
    let mut rng = Rng(1);
    let (mut ok, total) = (0, 1500);
    for _ in 0..total {
        let mut state = (String::new(), 0u64);
        let mut history = Vec::new();
        for (client, call, _, ret) in schedule(&mut rng, 4, 10) {
            let (input, output) = if rng.chance(40) {
                (
                    KvInput::get("k"),
                    KvOutput::get(state.0.clone(), state.1, KvErr::Ok),
                )
            } else {
                let version = (state.1 + rng.below(3)).saturating_sub(1);
                let value = format!("v{}", rng.below(4));
                let err = if version == state.1 {
                    state = (value.clone(), state.1 + 1);
                    if rng.chance(30) {
                        KvErr::ErrMaybe
                    } else {
                        KvErr::Ok
                    }
                } else if rng.chance(40) {
                    KvErr::ErrMaybe
                } else {
                    KvErr::ErrVersion
                };
                (KvInput::put("k", value, version), KvOutput::put(err))
            };
            history.push(Operation {
                client_id: client,
                input,
                call,
                output,
                return_time: ret,
            });
        }
        if rng.chance(50) {
            let victim = rng.below(history.len() as u64) as usize;
            let operation = &mut history[victim];
            if operation.output.err == KvErr::Ok
                && operation.input.op != porcupine::models::kv_versioned::KvOp::Get
            {
                operation.output.err = KvErr::ErrVersion;
            } else {
                operation.output.value = format!("v{}", rng.below(4));
            }
        }
        ok += usize::from(same_verdict(KvVersionedModel, &history));
    }
    both_verdicts_seen(ok, total);
}

/// The etcd model's pruning (reads, failed cas) never changes a verdict on random small
/// histories, including operations that never returned.
#[test]
fn etcd_pruning_keeps_verdicts() {
    let mut rng = Rng(2);
    let (mut ok, total) = (0, 1500);
    for _ in 0..total {
        let mut state: Option<i64> = None;
        let mut history = Vec::new();
        for (client, call, _, ret) in schedule(&mut rng, 4, 10) {
            let (input, mut output) = match rng.below(3) {
                0 => (EtcdInput::Read, EtcdOutput::Read(state)),
                1 => {
                    let value = rng.below(3) as i64;
                    state = Some(value);
                    (EtcdInput::Write(value), EtcdOutput::Written)
                }
                _ => {
                    let (from, to) = (rng.below(3) as i64, rng.below(3) as i64);
                    let matches = state == Some(from);
                    if matches {
                        state = Some(to);
                    }
                    (EtcdInput::Cas { from, to }, EtcdOutput::Cas(matches))
                }
            };
            let mut return_time = ret;
            if input != EtcdInput::Read && rng.chance(20) {
                // Outcome unknown: never returned, or returned without an answer.
                output = EtcdOutput::Unknown;
                if rng.chance(50) {
                    return_time = NEVER;
                }
            }
            history.push(Operation {
                client_id: client,
                input,
                call,
                output,
                return_time,
            });
        }
        if rng.chance(50) {
            let victim = rng.below(history.len() as u64) as usize;
            history[victim].output = match history[victim].output {
                EtcdOutput::Read(_) => EtcdOutput::Read(Some(rng.below(3) as i64)),
                EtcdOutput::Cas(succeeded) => EtcdOutput::Cas(!succeeded),
                other => other,
            };
        }
        ok += usize::from(same_verdict(EtcdModel, &history));
    }
    both_verdicts_seen(ok, total);
}

/// The classic model's pruning (Gets) never changes a verdict on random small histories.
#[test]
fn kv_pruning_keeps_verdicts() {
    let mut rng = Rng(3);
    let (mut ok, total) = (0, 1500);
    for _ in 0..total {
        let mut value = String::new();
        let mut history = Vec::new();
        for (client, call, _, ret) in schedule(&mut rng, 4, 10) {
            let (input, output) = match rng.below(3) {
                0 => (
                    kv::KvInput::get("k"),
                    kv::KvOutput {
                        value: value.clone(),
                    },
                ),
                1 => {
                    value = format!("p{}", rng.below(2));
                    (
                        kv::KvInput::put("k", value.clone()),
                        kv::KvOutput::default(),
                    )
                }
                _ => {
                    let suffix = format!("{}", rng.below(2));
                    value.push_str(&suffix);
                    (kv::KvInput::append("k", suffix), kv::KvOutput::default())
                }
            };
            history.push(Operation {
                client_id: client,
                input,
                call,
                output,
                return_time: ret,
            });
        }
        if rng.chance(50) {
            let gets: Vec<usize> = (0..history.len())
                .filter(|&i| history[i].input.op == kv::KvOp::Get)
                .collect();
            if !gets.is_empty() {
                let victim = gets[rng.below(gets.len() as u64) as usize];
                history[victim].output.value.push('x');
            }
        }
        ok += usize::from(same_verdict(KvModel, &history));
    }
    both_verdicts_seen(ok, total);
}

fn versioned(
    client: i64,
    input: KvInput,
    call: i64,
    output: KvOutput,
    ret: i64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client_id: client,
        input,
        call,
        output,
        return_time: ret,
    }
}

/// A write, then 40 concurrent reads of it, then a read of a value never written: the
/// plain search would try every subset of the 40 reads before giving up; the pruned one
/// places each read at once, still finds the history illegal, and does so at once.
#[test]
fn pruning_still_finds_illegal_behind_many_reads() {
    let mut history = vec![versioned(
        0,
        KvInput::put("k", "a", 0),
        0,
        KvOutput::put(KvErr::Ok),
        10,
    )];
    for client in 1..=40 {
        history.push(versioned(
            client,
            KvInput::get("k"),
            20 + client,
            KvOutput::get("a", 1, KvErr::Ok),
            100 + client,
        ));
    }
    history.push(versioned(
        0,
        KvInput::get("k"),
        200,
        KvOutput::get("never written", 1, KvErr::Ok),
        210,
    ));
    let verdict = check_operations(&KvVersionedModel, &history, Some(Duration::from_secs(20)));
    assert_eq!(verdict, CheckResult::Illegal);
}

/// 20,000 operations on one key, as the fast KV servers record them: each round a Put at
/// the next version, reads of the old and new value called after it (so the search must
/// back out of placing the Put first), and a retried Put at a passed version (ErrMaybe)
/// spanning the round. Linearizable; with a bad read appended, illegal. Both verdicts
/// come well within the timeout (without pruning, the illegal one does not).
#[test]
fn large_read_heavy_history_checks_fast() {
    let (rounds, reads) = (1250, 7);
    let mut history = Vec::new();
    for r in 0..rounds {
        let base = 100 * r as i64;
        let old = if r == 0 {
            String::new()
        } else {
            format!("v{r}")
        };
        let new = format!("v{}", r + 1);
        let old_version = r as u64;
        history.push(versioned(
            0,
            KvInput::put("k", new.clone(), old_version),
            base + 30,
            KvOutput::put(KvErr::Ok),
            base + 50,
        ));
        for client in 1..=reads {
            history.push(versioned(
                client,
                KvInput::get("k"),
                base + 30 + client,
                KvOutput::get(old.clone(), old_version, KvErr::Ok),
                base + 40 + client,
            ));
            history.push(versioned(
                client + reads,
                KvInput::get("k"),
                base + 35 + client,
                KvOutput::get(new.clone(), old_version + 1, KvErr::Ok),
                base + 80 + client,
            ));
        }
        history.push(versioned(
            2 * reads + 1,
            KvInput::put("k", "stale", old_version.saturating_sub(1)),
            base + 10,
            KvOutput::put(KvErr::ErrMaybe),
            base + 95,
        ));
    }
    // Version 0 is the current one in round 0, so that round's stale Put may take effect:
    // make it a read instead.
    history[2 * reads as usize + 1] = versioned(
        2 * reads + 1,
        KvInput::get("k"),
        10,
        KvOutput::get("", 0, KvErr::Ok),
        95,
    );
    assert_eq!(history.len(), 20_000);
    let timeout = Some(Duration::from_secs(20));
    assert_eq!(
        check_operations(&KvVersionedModel, &history, timeout),
        CheckResult::Ok
    );
    let end = 100 * rounds as i64;
    history.push(versioned(
        0,
        KvInput::get("k"),
        end,
        KvOutput::get("v1", 1, KvErr::Ok),
        end + 10,
    ));
    assert_eq!(
        check_operations(&KvVersionedModel, &history, timeout),
        CheckResult::Illegal
    );
}
