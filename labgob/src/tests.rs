//! Follows the Go suite `src/labgob/test_test.go` where its checks carry over
//! (TestGOB's round trip), and replaces the reflection warnings (TestCapital,
//! TestDefault), which have no Rust analogue, with bad-input tests.

use super::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct T1 {
    t1int0: i64,
    t1int1: i64,
    t1string0: String,
    t1string1: String,
}

/// A command as the Raft tests pass them: an int or a string.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Command {
    Int(i64),
    Str(String),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct T2 {
    t2slice: Vec<T1>,
    t2map: BTreeMap<i64, Box<T1>>,
    t2command: Command,
}

fn sample_t2() -> T2 {
    let t1 = |i: i64, s: &str| T1 {
        t1int0: 0,
        t1int1: i,
        t1string0: String::new(),
        t1string1: s.to_string(),
    };
    T2 {
        t2slice: vec![t1(0, "6.5840"), t1(1, "")],
        t2map: BTreeMap::from([(99, Box::new(t1(0, "y")))]),
        t2command: Command::Int(999),
    }
}

/// TestGOB: a sequence of ints and nested structs round-trips exactly, zero
/// fields staying zero.
#[test]
fn gob() {
    let t2 = sample_t2();
    let mut enc = Encoder::new();
    enc.encode(&0i64)
        .encode(&1i64)
        .encode(&t2.t2slice[0])
        .encode(&t2);
    let bytes = enc.finish();

    let mut dec = Decoder::new(&bytes);
    assert_eq!(dec.decode::<i64>().unwrap(), 0);
    assert_eq!(dec.decode::<i64>().unwrap(), 1);
    assert_eq!(dec.decode::<T1>().unwrap().t1string1, "6.5840");
    let got: T2 = dec.decode().unwrap();
    dec.finish().unwrap();
    assert_eq!(got, t2);
    assert_eq!(got.t2slice.len(), 2);
    assert_eq!(got.t2slice[1].t1int1, 1);
    assert_eq!(got.t2map[&99].t1string1, "y");
    assert_eq!(got.t2command, Command::Int(999));
}

/// Dynamic commands (ints and strings) survive the trip and compare equal.
#[test]
fn commands_round_trip() {
    for command in [
        Command::Int(0),
        Command::Int(-5),
        Command::Int(i64::MAX),
        Command::Str(String::new()),
        Command::Str("x".repeat(1000)),
    ] {
        assert_eq!(round_trip(&command).unwrap(), command);
    }
}

/// Sizes stay compact enough for the byte budgets of the labs' tests
/// (labrpc TestBytes, raft TestRPCBytes3B and the 3D log-size limit).
#[test]
fn sizes_are_compact() {
    // TestBytes phase 1: a 284-char string request and a small int reply must
    // total 284..=352 bytes per call.
    let request = encode(&"x".repeat(284));
    let reply = encode(&284i64);
    let total = request.len() + reply.len();
    assert!((284..=352).contains(&total), "phase 1 call costs {total}");

    // A log entry of a small int command costs a few bytes, not gob's ~20.
    let entry = (7u64, Command::Int(12345));
    assert!(
        encode(&entry).len() <= 8,
        "entry costs {}",
        encode(&entry).len()
    );
}

/// Truncating a valid encoding at every point gives an error, never a panic
/// and never a wrong value.
#[test]
fn truncated_input_is_an_error() {
    let bytes = encode(&sample_t2());
    for cut in 0..bytes.len() {
        match decode::<T2>(&bytes[..cut]) {
            Err(DecodeError::Truncated) | Err(DecodeError::Malformed(_)) => {}
            other => panic!("cut at {cut}: expected an error, got {other:?}"),
        }
    }
}

/// Random bytes never panic the decoder; they decode or give a typed error.
#[test]
fn random_input_never_panics() {
    let mut rng = StdRng::seed_from_u64(6_5840);
    for _ in 0..20_000 {
        let len = rng.random_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let _ = decode::<T2>(&bytes);
        let _ = decode::<Command>(&bytes);
        let _ = decode::<(u64, String, Vec<Command>)>(&bytes);
    }
}

/// Specific malformed inputs give the expected kind of error.
#[test]
fn malformed_input_errors() {
    // An enum tag that names no variant.
    assert!(matches!(
        decode::<Command>(&[7, 0]),
        Err(DecodeError::Malformed(_))
    ));
    // A string that is not UTF-8.
    assert!(matches!(
        decode::<String>(&[2, 0xff, 0xfe]),
        Err(DecodeError::Malformed(_))
    ));
    // A length prefix that promises more than there is.
    assert_eq!(decode::<String>(&[50, b'a']), Err(DecodeError::Truncated));
    // Leftover bytes after one value.
    let mut bytes = encode(&5u64);
    bytes.push(0);
    assert_eq!(decode::<u64>(&bytes), Err(DecodeError::TrailingBytes(1)));
    // A failed read consumes nothing.
    let mut dec = Decoder::new(&[50, b'a']);
    assert!(dec.decode::<String>().is_err());
    assert_eq!(dec.remaining(), 2);
}

/// A type serde cannot encode compactly reports an error through try_encode.
#[test]
fn unencodable_type_is_an_error() {
    struct UnknownLength;
    impl Serialize for UnknownLength {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let seq = s.serialize_seq(None)?;
            seq.end()
        }
    }
    assert!(try_encode(&UnknownLength).is_err());
}
