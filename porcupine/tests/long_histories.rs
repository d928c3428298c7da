//! Long single-key histories, like the 2025 KV tests' many-client runs against a fast
//! service (75,000–93,000 operations on one key in TestSnapshotRecoverManyClients4C on a
//! quiet machine).
//! The memo cache must not cost memory in proportion to the history's length per
//! explored configuration, or such a check runs out of its budget (and its 1 s).

use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput, KvVersionedModel};
use porcupine::{CheckOptions, CheckResult, Operation, check};

/// A small deterministic generator (xorshift64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `ops` operations of `clients` clients on key "k", each client alternating a Get and
/// a Put at the version that Get returned (the kvtest clients' loop). Operations take
/// effect every 10 time units, each inside an interval reaching at most 49 units either
/// side of that point, so up to ten overlap. Linearizable by construction.
fn many_clients_one_key(clients: usize, ops: usize) -> Vec<Operation<KvInput, KvOutput>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut state = (String::new(), 0u64);
    let mut free = vec![0i64; clients];
    let mut seen = vec![None::<u64>; clients];
    let mut history = Vec::with_capacity(ops);
    for n in 0..ops {
        let point = 10 * (n as i64 + 1);
        let client = loop {
            let client = rng.below(clients as u64) as usize;
            if free[client] < point {
                break client;
            }
        };
        let call = (point - rng.below(50) as i64).max(free[client] + 1);
        let return_time = point + rng.below(50) as i64;
        free[client] = return_time;
        let (input, output) = match seen[client].take() {
            None => {
                seen[client] = Some(state.1);
                (
                    KvInput::get("k"),
                    KvOutput::get(state.0.clone(), state.1, KvErr::Ok),
                )
            }
            Some(version) => {
                let value = format!("{client}-{n}");
                let err = if version == state.1 {
                    state = (value.clone(), version + 1);
                    KvErr::Ok
                } else {
                    KvErr::ErrVersion
                };
                (KvInput::put("k", value, version), KvOutput::put(err))
            }
        };
        history.push(Operation {
            client_id: client as i64,
            input,
            call,
            output,
            return_time,
        });
    }
    history
}

/// 80,000 operations of 20 clients on one key are decided within a 64 MiB budget, both
/// as recorded (linearizable) and with one Get's value corrupted (illegal). Keyed on
/// whole bitsets (1,250 words, 10,000 bytes per entry here), the cache could hold fewer
/// than 5,900 configurations in the search's 7/8 of that budget and the check gave up.
#[test]
fn long_single_key_history_fits_a_small_memory_budget() {
    let options = CheckOptions {
        memory_limit: 64 << 20,
        ..CheckOptions::default()
    };
    let mut history = many_clients_one_key(20, 80_000);
    assert_eq!(
        check(&KvVersionedModel, &history, &options).result,
        CheckResult::Ok
    );
    let late_get = (history.len() * 3 / 4..)
        .find(|&i| history[i].input.op == porcupine::models::kv_versioned::KvOp::Get)
        .expect("a Get");
    history[late_get].output.value = "never written".to_string();
    assert_eq!(
        check(&KvVersionedModel, &history, &options).result,
        CheckResult::Illegal
    );
}
