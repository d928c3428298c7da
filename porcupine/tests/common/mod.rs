//! Shared helpers for the data-file tests: loading porcupine/testdata and reading the
//! expectations table of its DATA.md.

#![allow(dead_code)]

use std::path::PathBuf;

use porcupine::formats::{jepsen_etcd, jepsen_kv};
use porcupine::models::etcd::{EtcdInput, EtcdModel, EtcdOutput};
use porcupine::models::kv::{KvInput, KvModel, KvOutput};
use porcupine::{Model, Operation, events_to_operations};

/// The data folder, `porcupine/testdata` in this repository.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata"))
}

#[track_caller]
pub fn read(relative: &str) -> String {
    let path = data_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

#[track_caller]
pub fn etcd_history(relative: &str) -> Vec<Operation<EtcdInput, EtcdOutput>> {
    let events =
        jepsen_etcd::parse(&read(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"));
    events_to_operations(events, |input| EtcdModel.unknown_output(input))
        .expect("well-formed events")
}

#[track_caller]
pub fn kv_history(relative: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let events =
        jepsen_kv::parse(&read(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"));
    events_to_operations(events, |input| KvModel.unknown_output(input)).expect("well-formed events")
}

/// One row of DATA.md's etcd table.
#[derive(Debug)]
pub struct EtcdExpectation {
    pub file: String,
    pub ops: usize,
    pub linearizable: bool,
    pub go_steps: u64,
    pub longest_partial: usize,
}

/// The etcd rows of DATA.md (`| jepsen/etcd_NNN.log | ... |`).
pub fn etcd_expectations() -> Vec<EtcdExpectation> {
    let text = read("DATA.md");
    let mut rows = Vec::new();
    for line in text
        .lines()
        .filter(|line| line.starts_with("| jepsen/etcd_"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 10, "unexpected DATA.md row: {line}");
        let longest: Vec<&str> = cells[9].split(" of ").collect();
        rows.push(EtcdExpectation {
            file: cells[0].to_string(),
            ops: cells[2].parse().expect("ops"),
            linearizable: cells[7].starts_with("linearizable") || cells[7].starts_with("no test"),
            go_steps: cells[8].parse().expect("steps"),
            longest_partial: longest[0].parse().expect("longest"),
        });
    }
    assert_eq!(rows.len(), 83, "DATA.md lists 83 etcd files");
    rows
}

/// Per-key ground truth of DATA.md for one kv file: (key, ops, verdict, Go steps);
/// verdict is "Ok", "Illegal" or "Unknown".
pub fn kv_key_expectations(file: &str) -> Vec<(String, usize, String, Option<u64>)> {
    let text = read("DATA.md");
    let prefix = format!("| kv/{file} | k");
    let line = text
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no per-key row for {file}"));
    let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
    cells[1]
        .split("; ")
        .map(|entry| {
            let (key, rest) = entry.split_once(": ").expect("key: ...");
            let parts: Vec<&str> = rest
                .split(" / ")
                .map(|part| part.trim_matches('*').trim())
                .collect();
            let ops = parts[0]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .expect("ops");
            let verdict = parts[1].split_whitespace().next().unwrap().to_string();
            let steps = parts.get(2).and_then(|steps| steps.parse().ok());
            (key.trim_start_matches('k').to_string(), ops, verdict, steps)
        })
        .collect()
}
