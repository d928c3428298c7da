//! The input formats (upstream's Jepsen parsers in `porcupine_test.go`, described in
//! DATA.md §1-2) and our JSON history format (no Go counterpart).

use porcupine::formats::{Format, detect, jepsen_etcd, jepsen_kv};
use porcupine::history::{self, History, HistoryError, ModelName};
use porcupine::models::etcd::{EtcdInput, EtcdModel, EtcdOutput};
use porcupine::models::kv::{KvInput, KvModel, KvOp, KvOutput};
use porcupine::models::kv_versioned::{KvErr, KvOutput as VersionedOutput};
use porcupine::{
    CheckResult, EventError, EventKind, Model, NEVER, Operation, check_events, events_to_operations,
};

const ETCD_SAMPLE: &str = "INFO  jepsen.util - 1\t:invoke\t:write\t3\n\
INFO  jepsen.util - 2\t:invoke\t:cas\t[3 4]\n\
INFO  jepsen.util - 1\t:ok\t:write\t3\n\
INFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n\
INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 3\t:ok\t:read\t4\n\
INFO  jepsen.util - 4\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n";

/// Jepsen etcd records become calls and returns; `:info` leaves the operation open (it
/// never returns) and a timed-out read returns an unknown output.
#[test]
fn etcd_log_parses_to_events() {
    let events = jepsen_etcd::parse(ETCD_SAMPLE).expect("parse");
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.client_id, e.id, e.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, 0, EventKind::Call(EtcdInput::Write(3))),
            (2, 1, EventKind::Call(EtcdInput::Cas { from: 3, to: 4 })),
            (1, 0, EventKind::Return(EtcdOutput::Written)),
            (3, 2, EventKind::Call(EtcdInput::Read)),
            (3, 2, EventKind::Return(EtcdOutput::Read(Some(4)))),
            (4, 3, EventKind::Call(EtcdInput::Read)),
            (4, 3, EventKind::Return(EtcdOutput::Unknown)),
        ]
    );
    let operations = events_to_operations(events.clone(), |i| EtcdModel.unknown_output(i)).unwrap();
    assert_eq!(operations[1].return_time, NEVER);
    assert_eq!(operations[1].output, EtcdOutput::Unknown);
    // The read of 4 needs the cas that never returned to have taken effect.
    assert_eq!(check_events(&EtcdModel, events, None), Ok(CheckResult::Ok));
}

/// A never-returned cas may also not take effect at all.
#[test]
fn unreturned_operation_may_not_happen() {
    let log = "INFO  jepsen.util - 1\t:invoke\t:write\t1\n\
INFO  jepsen.util - 1\t:ok\t:write\t1\n\
INFO  jepsen.util - 2\t:invoke\t:write\t2\n\
INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n\
INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
INFO  jepsen.util - 3\t:ok\t:read\t1\n";
    let events = jepsen_etcd::parse(log).unwrap();
    assert_eq!(check_events(&EtcdModel, events, None), Ok(CheckResult::Ok));
}

/// Malformed etcd records are reported with their line.
#[test]
fn etcd_errors_name_the_line() {
    let cases = [
        ("INFO  jepsen.util - 1\t:invoke\t:write\tx\n", 1, "integer"),
        (
            "INFO  jepsen.util - 1\t:ok\t:write\t1\n",
            1,
            "without an open operation",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n",
            1,
            "[from to]",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:write\t1\n",
            2,
            "invoked",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nsomething else\n",
            2,
            "record",
        ),
        (
            "INFO  jepsen.util - 1\t:invoke\t:delete\tnil\n",
            1,
            "unknown function",
        ),
    ];
    for (text, line, needle) in cases {
        let error = jepsen_etcd::parse(text).expect_err(text);
        assert_eq!(error.line, line, "{text}");
        assert!(
            error.to_string().contains(needle),
            "{error} should mention {needle}"
        );
    }
}

/// KV EDN records parse, strings with escapes included; a Get left open is dropped and a
/// Put left open never returns.
#[test]
fn kv_log_parses_to_events() {
    let log = "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"x 0 0 y\"}\n\
{:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
{:process 0, :type :ok, :f :put, :key \"k\", :value \"x 0 0 y\"}\n\
{:process 1, :type :ok, :f :get, :key \"k\", :value \"x 0 0 y\"}\n\
{:process 2, :type :invoke, :f :append, :key \"k\", :value \"q\\\"uote\"}\n\
{:process 3, :type :invoke, :f :get, :key \"k\", :value nil}\n\
{:process 3, :type :info, :f :get, :key \"k\", :value nil}\n";
    let events = jepsen_kv::parse(log).expect("parse");
    assert_eq!(events.len(), 5);
    let operations = events_to_operations(events, |i| KvModel.unknown_output(i)).unwrap();
    assert_eq!(operations.len(), 3);
    assert_eq!(operations[0].input, KvInput::put("k", "x 0 0 y"));
    assert_eq!(operations[1].output, KvOutput::new("x 0 0 y"));
    assert_eq!(operations[2].input.op, KvOp::Append);
    assert_eq!(operations[2].input.value, "q\"uote");
    assert_eq!(operations[2].return_time, NEVER);
    assert!(
        jepsen_kv::parse("{:process 0, :type :invoke, :f :get, :key \"k\" :value nil").is_err()
    );
    let error = jepsen_kv::parse(
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process x}\n",
    )
    .unwrap_err();
    assert_eq!(error.line, 2);
}

/// Format detection looks at the first non-blank line.
#[test]
fn formats_are_detected() {
    assert_eq!(detect(ETCD_SAMPLE), Some(Format::JepsenEtcd));
    assert_eq!(
        detect("\n{:process 0, :type :invoke}"),
        Some(Format::JepsenKv)
    );
    assert_eq!(detect("  {\"model\": \"kv\"}"), Some(Format::Json));
    assert_eq!(detect(" \n\n"), Some(Format::Empty));
    assert_eq!(detect("hello"), None);
}

/// Events that do not pair up are rejected with the offending position.
#[test]
fn bad_event_histories_are_rejected() {
    use porcupine::Event;
    let events: Vec<Event<EtcdInput, EtcdOutput>> = vec![Event::ret(0, 7, EtcdOutput::Written)];
    assert_eq!(
        check_events(&EtcdModel, events, None),
        Err(EventError::ReturnWithoutCall { index: 0, id: 7 })
    );
    let events: Vec<Event<KvInput, KvOutput>> = vec![Event::call(0, 1, KvInput::get("k"))];
    assert_eq!(
        check_events(&KvModel, events, None),
        Err(EventError::NoReturn { index: 0, id: 1 })
    );
    let events: Vec<Event<EtcdInput, EtcdOutput>> = vec![
        Event::call(0, 1, EtcdInput::Read),
        Event::call(1, 1, EtcdInput::Read),
    ];
    assert_eq!(
        check_events(&EtcdModel, events, None),
        Err(EventError::DuplicateId { index: 1, id: 1 })
    );
}

/// A JSON history survives a write/read round trip; `return_time: null` is NEVER.
#[test]
fn json_history_round_trip() {
    let original = History {
        model: ModelName::KvVersioned.to_string(),
        operations: vec![
            Operation {
                client_id: -1,
                input: porcupine::models::kv_versioned::KvInput::put("k", "v", 0),
                call: 1_732_000_000_000_000_000,
                output: VersionedOutput::put(KvErr::ErrMaybe),
                return_time: NEVER,
            },
            Operation {
                client_id: 0,
                input: porcupine::models::kv_versioned::KvInput::get("k"),
                call: 5,
                output: VersionedOutput::get("", 0, KvErr::ErrNoKey),
                return_time: 6,
            },
        ],
        annotations: Vec::new(),
    };
    let mut bytes = Vec::new();
    history::write(&mut bytes, &original).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("\"return_time\": null"));
    assert!(text.contains("\"err\": \"ErrMaybe\""));
    assert!(text.contains("\"err\": \"ErrNoKey\""));
    assert_eq!(history::model_name(&text).unwrap(), "kv-versioned");
    let read: History<_, _> = history::from_str(&text).unwrap();
    assert_eq!(read, original);
}

/// JSON errors carry line and column; a missing `annotations` field is fine.
#[test]
fn json_history_errors_and_defaults() {
    let text = "{\"model\": \"kv\", \"operations\": [\n {\"client_id\": 0, \"call\": 1, \"return_time\": 2,\n  \"input\": {\"op\": \"Get\", \"key\": \"a\"}, \"output\": {\"value\": \"\"}}]}";
    let read: History<KvInput, KvOutput> = history::from_str(text).unwrap();
    assert_eq!(read.operations[0].input, KvInput::get("a"));
    assert!(read.annotations.is_empty());
    let broken = text.replace("\"Get\"", "\"Fetch\"");
    match history::from_str::<KvInput, KvOutput>(&broken) {
        Err(HistoryError::Malformed { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a malformed-history error, got {other:?}"),
    }
    assert_eq!(
        ModelName::parse("kv-unpartitioned"),
        Some(ModelName::KvUnpartitioned)
    );
    assert_eq!(ModelName::parse("nope"), None);
}
