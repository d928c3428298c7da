//! Follows the behaviour pinned down by upstream Porcupine's Go test-suite
//! (`porcupine_test.go`, `visualization_test.go`) as described in
//! testdata/DATA.md §3: register examples, closed intervals, the set model,
//! nondeterministic models, timeouts and cancellation, empty histories, metadata, the
//! visualisation data and annotations.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use porcupine::models::kv::{KvInput, KvModel, KvOutput};
use porcupine::{
    Annotation, CancelToken, CheckResult, Event, Model, NondeterministicModel, Operation, PowerSet,
    StateSet, check_events, check_events_verbose, check_operations, check_operations_verbose,
    visualize, visualize_annotations,
};

// ---------------------------------------------------------------- register model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RegisterInput {
    Put(i64),
    Get,
}

/// Upstream's README register: state int, initially 0; put always legal; get legal iff
/// its output equals the state.
struct Register;

impl Model for Register {
    type Input = RegisterInput;
    type Output = i64;
    type State = i64;
    fn init(&self) -> i64 {
        0
    }
    fn step(&self, state: &i64, input: &RegisterInput, output: &i64) -> Option<i64> {
        match input {
            RegisterInput::Put(value) => Some(*value),
            RegisterInput::Get => (output == state).then_some(*state),
        }
    }
}

fn op(
    client: i64,
    input: RegisterInput,
    call: i64,
    output: i64,
    ret: i64,
) -> Operation<RegisterInput, i64> {
    Operation {
        client_id: client,
        input,
        call,
        output,
        return_time: ret,
    }
}

fn readme_ok() -> Vec<Operation<RegisterInput, i64>> {
    vec![
        op(0, RegisterInput::Put(100), 0, 0, 100),
        op(1, RegisterInput::Get, 25, 100, 75),
        op(2, RegisterInput::Get, 30, 0, 60),
    ]
}

fn readme_bad() -> Vec<Operation<RegisterInput, i64>> {
    vec![
        op(0, RegisterInput::Put(200), 0, 0, 100),
        op(1, RegisterInput::Get, 10, 200, 30),
        op(2, RegisterInput::Get, 40, 0, 90),
    ]
}

/// The same histories as event lists (list order = time order).
fn as_events(history: &[Operation<RegisterInput, i64>]) -> Vec<Event<RegisterInput, i64>> {
    let mut points: Vec<(i64, bool, usize)> = Vec::new();
    for (id, operation) in history.iter().enumerate() {
        points.push((operation.call, false, id));
        points.push((operation.return_time, true, id));
    }
    points.sort();
    points
        .into_iter()
        .map(|(_, is_return, id)| {
            let operation = &history[id];
            if is_return {
                Event::ret(operation.client_id, id, operation.output)
            } else {
                Event::call(operation.client_id, id, operation.input)
            }
        })
        .collect()
}

/// README example 1 is linearizable, as operations and as events.
#[test]
fn register_readme_linearizable() {
    assert_eq!(
        check_operations(&Register, &readme_ok(), None),
        CheckResult::Ok
    );
    assert_eq!(
        check_events(&Register, as_events(&readme_ok()), None),
        Ok(CheckResult::Ok)
    );
}

/// README example 2 is not linearizable, as operations and as events.
#[test]
fn register_readme_not_linearizable() {
    assert_eq!(
        check_operations(&Register, &readme_bad(), None),
        CheckResult::Illegal
    );
    assert_eq!(
        check_events(&Register, as_events(&readme_bad()), None),
        Ok(CheckResult::Illegal)
    );
}

/// Zero-duration gets at a moment the put may not have happened yet keep example 1 legal.
#[test]
fn zero_duration_ops_are_closed_intervals() {
    let mut history = readme_ok();
    history.push(op(3, RegisterInput::Get, 30, 0, 30));
    history.push(op(4, RegisterInput::Get, 30, 0, 30));
    assert_eq!(check_operations(&Register, &history, None), CheckResult::Ok);
}

/// Two zero-duration gets of 200 before a get of 0 that follows them cannot be linearized.
#[test]
fn zero_duration_ops_illegal() {
    let history = vec![
        op(0, RegisterInput::Put(200), 0, 0, 100),
        op(1, RegisterInput::Get, 10, 200, 10),
        op(2, RegisterInput::Get, 10, 200, 10),
        op(3, RegisterInput::Get, 40, 0, 90),
    ];
    assert_eq!(
        check_operations(&Register, &history, None),
        CheckResult::Illegal
    );
}

/// Operations whose intervals only touch are concurrent (call sorts before return).
#[test]
fn touching_intervals_are_concurrent() {
    let history = vec![
        op(0, RegisterInput::Put(1), 0, 0, 10),
        // Returns at 10, exactly when the put returns: may linearize before it.
        op(1, RegisterInput::Get, 10, 0, 20),
    ];
    assert_eq!(check_operations(&Register, &history, None), CheckResult::Ok);
}

// ---------------------------------------------------------------- set model

#[derive(Clone, Debug, PartialEq, Eq)]
enum SetInput {
    Add(i64),
    Read,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SetOutput {
    Added,
    Read(Vec<i64>),
    Unknown,
}

/// A set of integers; read returns the sorted contents (duplicates make it illegal).
struct SetModel;

impl Model for SetModel {
    type Input = SetInput;
    type Output = SetOutput;
    type State = BTreeSet<i64>;
    fn init(&self) -> BTreeSet<i64> {
        BTreeSet::new()
    }
    fn step(
        &self,
        state: &BTreeSet<i64>,
        input: &SetInput,
        output: &SetOutput,
    ) -> Option<BTreeSet<i64>> {
        match (input, output) {
            (SetInput::Add(value), _) => {
                let mut next = state.clone();
                next.insert(*value);
                Some(next)
            }
            (SetInput::Read, SetOutput::Unknown) => Some(state.clone()),
            (SetInput::Read, SetOutput::Read(values)) => {
                (values.iter().copied().eq(state.iter().copied())).then(|| state.clone())
            }
            (SetInput::Read, SetOutput::Added) => None,
        }
    }
}

fn set_history(second_add: i64, read: SetOutput) -> Vec<Operation<SetInput, SetOutput>> {
    vec![
        Operation {
            client_id: 0,
            input: SetInput::Add(100),
            call: 0,
            output: SetOutput::Added,
            return_time: 100,
        },
        Operation {
            client_id: 1,
            input: SetInput::Add(second_add),
            call: 0,
            output: SetOutput::Added,
            return_time: 100,
        },
        Operation {
            client_id: 2,
            input: SetInput::Read,
            call: 0,
            output: read,
            return_time: 100,
        },
    ]
}

/// Concurrent adds with a read of {100}, {100, 110} or "unknown" are linearizable.
#[test]
fn set_model_linearizable_reads() {
    for (second, read) in [
        (0, SetOutput::Read(vec![100])),
        (110, SetOutput::Read(vec![100, 110])),
        (110, SetOutput::Unknown),
    ] {
        let history = set_history(second, read.clone());
        assert_eq!(
            check_operations(&SetModel, &history, None),
            CheckResult::Ok,
            "read {read:?}"
        );
    }
}

/// A read returning a duplicate element is not linearizable.
#[test]
fn set_model_duplicate_read_is_illegal() {
    let history = set_history(110, SetOutput::Read(vec![100, 100, 110]));
    assert_eq!(
        check_operations(&SetModel, &history, None),
        CheckResult::Illegal
    );
}

// ---------------------------------------------------------------- nondeterministic register

#[derive(Clone, Debug, PartialEq, Eq)]
enum NdInput {
    PutAny(Vec<i64>),
    GetAny,
    GetAll,
}

/// put-any(S) leaves the register holding any subset of S; get-any returns a subset of
/// the contents; get-all returns exactly the contents.
struct NondeterministicRegister;

fn subsets(values: &[i64]) -> Vec<BTreeSet<i64>> {
    (0..1u32 << values.len())
        .map(|mask| {
            values
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, value)| *value)
                .collect()
        })
        .collect()
}

impl NondeterministicModel for NondeterministicRegister {
    type Input = NdInput;
    type Output = BTreeSet<i64>;
    type State = BTreeSet<i64>;
    fn init(&self) -> Vec<BTreeSet<i64>> {
        vec![BTreeSet::new()]
    }
    fn step(
        &self,
        state: &BTreeSet<i64>,
        input: &NdInput,
        output: &BTreeSet<i64>,
    ) -> Vec<BTreeSet<i64>> {
        match input {
            NdInput::PutAny(values) => subsets(values),
            NdInput::GetAny => {
                if output.is_subset(state) {
                    vec![state.clone()]
                } else {
                    vec![]
                }
            }
            NdInput::GetAll => {
                if output == state {
                    vec![state.clone()]
                } else {
                    vec![]
                }
            }
        }
    }
}

/// Wraps the power-set model with a hand-written state hash, as upstream's second variant.
struct HashedPowerSet(PowerSet<NondeterministicRegister>);

impl Model for HashedPowerSet {
    type Input = NdInput;
    type Output = BTreeSet<i64>;
    type State = StateSet<BTreeSet<i64>>;
    fn init(&self) -> Self::State {
        self.0.init()
    }
    fn step(
        &self,
        state: &Self::State,
        input: &NdInput,
        output: &BTreeSet<i64>,
    ) -> Option<Self::State> {
        self.0.step(state, input, output)
    }
    fn state_hash(&self, state: &Self::State) -> u64 {
        state
            .states()
            .iter()
            .map(|set| set.iter().sum::<i64>() as u64)
            .fold(0, u64::wrapping_add)
    }
}

fn set(values: &[i64]) -> BTreeSet<i64> {
    values.iter().copied().collect()
}

fn nondeterministic_history() -> Vec<Operation<NdInput, BTreeSet<i64>>> {
    vec![
        Operation {
            client_id: 0,
            input: NdInput::PutAny(vec![1, 2, 3, 4]),
            call: 0,
            output: set(&[]),
            return_time: 100,
        },
        Operation {
            client_id: 1,
            input: NdInput::GetAny,
            call: 10,
            output: set(&[2]),
            return_time: 20,
        },
        Operation {
            client_id: 2,
            input: NdInput::GetAny,
            call: 30,
            output: set(&[1, 4]),
            return_time: 40,
        },
        Operation {
            client_id: 3,
            input: NdInput::GetAll,
            call: 50,
            output: set(&[1, 2, 3]),
            return_time: 60,
        },
    ]
}

/// put-any{1,2,3,4} with get-any→{2}, get-any→{1,4}, get-all→{1,2,3} is not linearizable,
/// with the default and with a hand-written state hash.
#[test]
fn nondeterministic_register_illegal() {
    let history = nondeterministic_history();
    assert_eq!(
        check_operations(&PowerSet(NondeterministicRegister), &history, None),
        CheckResult::Illegal
    );
    assert_eq!(
        check_operations(
            &HashedPowerSet(PowerSet(NondeterministicRegister)),
            &history,
            None
        ),
        CheckResult::Illegal
    );
}

/// The same model accepts a consistent history (so the Illegal above is not vacuous).
#[test]
fn nondeterministic_register_legal() {
    let mut history = nondeterministic_history();
    history[3].output = set(&[1, 2, 4]);
    assert_eq!(
        check_operations(&PowerSet(NondeterministicRegister), &history, None),
        CheckResult::Ok
    );
}

/// Power-set states: {1,2} equals and hashes like {2,1}, and differs from {1,3}.
#[test]
fn power_set_hash_ignores_order() {
    let model = PowerSet(NondeterministicRegister);
    let a = StateSet::new([set(&[1]), set(&[2])]);
    let b = StateSet::new([set(&[2]), set(&[1])]);
    let c = StateSet::new([set(&[1]), set(&[3])]);
    assert_eq!(a, b);
    assert_eq!(model.state_hash(&a), model.state_hash(&b));
    assert_ne!(a, c);
    assert_ne!(model.state_hash(&a), model.state_hash(&c));
}

// ---------------------------------------------------------------- timeouts

/// A model whose step blocks until the check is cancelled; the plain step must never run.
struct Blocking {
    /// Operations with this input are immediately illegal instead of blocking.
    illegal_key: Option<&'static str>,
}

impl Model for Blocking {
    type Input = &'static str;
    type Output = ();
    type State = ();
    fn init(&self) {}
    fn step(&self, _: &(), _: &&'static str, _: &()) -> Option<()> {
        panic!("the cancellable step must be used instead of the plain one");
    }
    fn step_cancellable(
        &self,
        _: &(),
        input: &&'static str,
        _: &(),
        cancel: &CancelToken,
    ) -> Option<()> {
        if Some(*input) == self.illegal_key {
            return None;
        }
        cancel.wait();
        None
    }
    fn partition(&self, history: &[Operation<&'static str, ()>]) -> Vec<Vec<usize>> {
        let mut keys: Vec<&str> = history.iter().map(|op| op.input).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.iter()
            .map(|key| {
                (0..history.len())
                    .filter(|&i| history[i].input == *key)
                    .collect()
            })
            .collect()
    }
}

/// A step that blocks until cancelled gives Unknown after a 20 ms timeout.
#[test]
fn timeout_cancels_step() {
    let history = vec![Operation {
        client_id: 0,
        input: "a",
        call: 0,
        output: (),
        return_time: 10,
    }];
    let started = Instant::now();
    let result = check_operations(
        &Blocking { illegal_key: None },
        &history,
        Some(Duration::from_millis(20)),
    );
    assert_eq!(result, CheckResult::Unknown);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the blocked step was not cancelled"
    );
}

/// With no timeout, an illegal partition cancels a blocked one and the result is Illegal.
#[test]
fn illegal_partition_cancels_blocked_one() {
    let history = vec![
        Operation {
            client_id: 0,
            input: "blocks",
            call: 0,
            output: (),
            return_time: 10,
        },
        Operation {
            client_id: 1,
            input: "illegal",
            call: 0,
            output: (),
            return_time: 10,
        },
    ];
    let result = check_operations(
        &Blocking {
            illegal_key: Some("illegal"),
        },
        &history,
        None,
    );
    assert_eq!(result, CheckResult::Illegal);
}

// ---------------------------------------------------------------- empty history

/// An empty history with a partitioned model is Ok at once, verbose or not.
#[test]
fn empty_history_is_ok() {
    let history: Vec<Operation<KvInput, KvOutput>> = Vec::new();
    assert_eq!(check_operations(&KvModel, &history, None), CheckResult::Ok);
    let (result, info) = check_operations_verbose(&KvModel, &history, None);
    assert_eq!(result, CheckResult::Ok);
    assert!(info.partial_linearizations().iter().all(Vec::is_empty));
}

// ---------------------------------------------------------------- metadata

/// Metadata travels into the verbose info; a return's metadata wins over its call's, and
/// missing metadata describes as "".
#[test]
fn metadata_reaches_verbose_info() {
    let mut events: Vec<Event<RegisterInput, i64>> = vec![
        Event::call(0, 0, RegisterInput::Put(1)),
        Event::call(1, 1, RegisterInput::Get),
        Event::ret(0, 0, 0),
        Event::ret(1, 1, 1),
        Event::call(2, 2, RegisterInput::Get),
        Event::ret(2, 2, 1),
    ];
    events[0].metadata = Some("call-side of put".into());
    events[1].metadata = Some("call-side of get".into());
    events[3].metadata = Some("return-side of get".into());
    let (result, info) = check_events_verbose(&Register, events, None).expect("well-formed events");
    assert_eq!(result, CheckResult::Ok);
    assert_eq!(info.metadata(0), "call-side of put");
    assert_eq!(info.metadata(1), "return-side of get");
    assert_eq!(info.metadata(2), "");
    let mut html = Vec::new();
    visualize(&Register, &info, &[], &mut html).expect("visualise");
    let html = String::from_utf8(html).expect("utf-8");
    assert!(html.contains("return-side of get"));
    assert!(!html.contains("call-side of get"));
}

// ---------------------------------------------------------------- visualisation data

fn kv(
    client: i64,
    input: KvInput,
    call: i64,
    output: &str,
    ret: i64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client_id: client,
        input,
        call,
        output: KvOutput::new(output),
        return_time: ret,
    }
}

/// Upstream's "multiple lengths" example: keys x and y, nine operations, not linearizable.
fn multiple_lengths() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        kv(0, KvInput::get("x"), 85, "w", 90),     // x0
        kv(1, KvInput::put("x", "y"), 0, "", 10),  // x1
        kv(2, KvInput::put("x", "z"), 5, "", 20),  // x2
        kv(3, KvInput::get("x"), 30, "y", 40),     // x3
        kv(4, KvInput::put("x", "w"), 50, "", 55), // x4
        kv(5, KvInput::get("x"), 25, "z", 100),    // x5
        kv(6, KvInput::get("x"), 35, "y", 45),     // x6
        kv(7, KvInput::get("y"), 25, "a", 30),     // y0
        kv(8, KvInput::put("y", "a"), 10, "", 20), // y1
    ]
}

/// Extracts the `const data = {...}` object the page embeds.
fn embedded_data(html: &str) -> serde_json::Value {
    let start = html
        .find("const data = ")
        .expect("the page embeds its data")
        + "const data = ".len();
    let end = start + html[start..].find(";\n").expect("data statement ends");
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).expect("embedded data is JSON")
}

/// Partial linearizations, "largest" map, states and compressed timestamps of the
/// "multiple lengths" example.
#[test]
fn visualization_data_multiple_lengths() {
    let history = multiple_lengths();
    let (result, info) = check_operations_verbose(&KvModel, &history, None);
    assert_eq!(result, CheckResult::Illegal);
    let partitions = info.partitions();
    assert_eq!(partitions.len(), 2);
    // Partition x (history 0..=6), partition y (history 7, 8).
    assert_eq!(partitions[0].operations, vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        partitions[0].partial_linearizations,
        vec![vec![2, 1, 3, 6, 4, 0], vec![1, 2, 5]]
    );
    let largest: Vec<Option<usize>> = partitions[0].largest.clone();
    assert_eq!(
        largest,
        vec![
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(0),
            Some(1),
            Some(0)
        ]
    );
    assert_eq!(partitions[1].partial_linearizations, vec![vec![8, 7]]);

    let mut html = Vec::new();
    visualize(&KvModel, &info, &[], &mut html).expect("visualise");
    let data = embedded_data(&String::from_utf8(html).expect("utf-8"));
    let times: Vec<&str> = data["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "0", "5", "10", "20", "25", "30", "35", "40", "45", "50", "55", "85", "90", "100"
        ]
    );
    let ops = data["ops"].as_array().unwrap();
    // Ranks: 85 -> 11, 90 -> 12 (upstream draws them at 1100 and 1200).
    assert_eq!(ops[0]["start"], 11);
    assert_eq!(ops[0]["end"], 12);
    let states = |partition: usize, partial: usize| -> Vec<String> {
        data["partitions"][partition]["partials"][partial]
            .as_array()
            .unwrap()
            .iter()
            .map(|step| step[1].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(states(0, 0), ["z", "y", "y", "y", "w", "w"]);
    assert_eq!(states(0, 1), ["y", "z", "z"]);
    assert_eq!(states(1, 0), ["a", "a"]);
    assert_eq!(data["partitions"][0]["largest"][5], 1);
    // x5 (get -> z) is the operation that cannot be placed.
    assert_eq!(data["partitions"][0]["unplaceable"], 5);
}

// ---------------------------------------------------------------- annotations

fn annotations(base: i64) -> Vec<Annotation> {
    vec![
        Annotation {
            client_id: Some(0),
            tag: String::new(),
            start: base + 10,
            end: base + 10,
            description: "client point".into(),
            details: "a point on client 0's row".into(),
            text_color: String::new(),
            background_color: String::new(),
        },
        Annotation {
            client_id: Some(1),
            tag: String::new(),
            start: base + 20,
            end: base + 60,
            description: "client interval".into(),
            details: String::new(),
            text_color: "#000000".into(),
            background_color: "#FFF176".into(),
        },
        Annotation {
            client_id: None,
            tag: "$ Failure".into(),
            start: base + 5,
            end: base + 80,
            description: "partition = [0] [1 2]".into(),
            details: "fault band".into(),
            text_color: String::new(),
            background_color: "#B3E5FC".into(),
        },
        Annotation {
            client_id: None,
            tag: "$ Test Info".into(),
            start: base,
            end: base,
            description: "TestBasic (3 servers)".into(),
            details: String::new(),
            text_color: String::new(),
            background_color: "#FAFAFA".into(),
        },
    ]
}

/// Client-bound and tag-bound annotations, points and intervals, with colours, render
/// next to a history.
#[test]
fn annotations_with_history_render() {
    let history = multiple_lengths();
    let (_, info) = check_operations_verbose(&KvModel, &history, None);
    let mut html = Vec::new();
    visualize(&KvModel, &info, &annotations(0), &mut html).expect("visualise");
    let data = embedded_data(&String::from_utf8(html).expect("utf-8"));
    let drawn = data["annotations"].as_array().unwrap();
    assert_eq!(drawn.len(), 4);
    assert_eq!(drawn[0]["point"], true);
    assert_eq!(drawn[2]["tag"], "$ Failure");
    assert_eq!(drawn[2]["backgroundColor"], "#B3E5FC");
}

/// Annotations with no operations at all (epoch nanosecond times) render too.
#[test]
fn annotations_without_history_render() {
    let base = 1_732_000_000_000_000_000;
    let mut html = Vec::new();
    visualize_annotations(&annotations(base), &mut html).expect("visualise");
    let data = embedded_data(&String::from_utf8(html).expect("utf-8"));
    assert_eq!(data["ops"].as_array().unwrap().len(), 0);
    assert_eq!(data["annotations"].as_array().unwrap().len(), 4);
    assert_eq!(data["times"][0], base.to_string());
    // The same through a model's (empty) info.
    let mut html = Vec::new();
    visualize(
        &KvModel,
        &porcupine::LinearizationInfo::empty(),
        &annotations(base),
        &mut html,
    )
    .expect("visualise");
    assert_eq!(
        embedded_data(&String::from_utf8(html).unwrap())["annotations"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}
