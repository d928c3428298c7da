//! Follows upstream's visualization tests (`visualization_test.go`: the verbose etcd_070
//! check rendered to HTML) plus our size cap and self-containment.

mod common;

use common::{etcd_history, kv_history};
use porcupine::models::etcd::EtcdModel;
use porcupine::models::kv::KvModel;
use porcupine::{
    CheckResult, VisualizeLimits, check_operations_verbose, visualize, visualize_path,
    visualize_with_limits,
};

fn embedded_data(html: &str) -> serde_json::Value {
    let start = html
        .find("const data = ")
        .expect("the page embeds its data")
        + "const data = ".len();
    let end = start + html[start..].find(";\n").expect("data statement ends");
    serde_json::from_str(&html[start..end].replace("<\\/", "</")).expect("embedded data is JSON")
}

/// etcd_070's verbose check renders to a self-contained page showing the illegal
/// partition, its longest partial linearization and the operation that cannot be placed.
#[test]
fn etcd_070_renders() {
    let history = etcd_history("jepsen/etcd_070.log");
    let (result, info) = check_operations_verbose(&EtcdModel, &history, None);
    assert_eq!(result, CheckResult::Illegal);
    let path = std::env::temp_dir().join(format!("porcupine-etcd070-{}.html", std::process::id()));
    visualize_path(&EtcdModel, &info, &[], &path).expect("write the page");
    let html = std::fs::read_to_string(&path).expect("read the page back");
    std::fs::remove_file(&path).ok();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "no external resources"
    );
    let data = embedded_data(&html);
    assert_eq!(data["result"], "Illegal");
    assert_eq!(data["ops"].as_array().unwrap().len(), 90);
    let partition = &data["partitions"][0];
    assert_eq!(partition["verdict"], "Illegal");
    assert_eq!(partition["partials"][0].as_array().unwrap().len(), 27);
    let unplaceable = partition["unplaceable"]
        .as_u64()
        .expect("an operation cannot be placed");
    assert!(
        data["ops"][unplaceable as usize]["description"]
            .as_str()
            .unwrap()
            .starts_with("read()")
    );
}

/// Huge histories are capped: fewer operations and partial linearizations are drawn, and
/// the page says so; illegal partitions are kept first.
#[test]
fn size_cap_keeps_pages_small() {
    let history = kv_history("kv/c10-bad.txt");
    let (_, info) = check_operations_verbose(&KvModel, &history, None);
    let limits = VisualizeLimits {
        max_operations: 60,
        max_partials_per_partition: 1,
        max_text: 20,
    };
    let mut html = Vec::new();
    visualize_with_limits(&KvModel, &info, &[], limits, &mut html).expect("visualise");
    let data = embedded_data(&String::from_utf8(html).unwrap());
    let ops = data["ops"].as_array().unwrap();
    assert!(ops.len() <= 60, "{} operations drawn", ops.len());
    assert!(
        data["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("size cap"))
    );
    for partition in data["partitions"].as_array().unwrap() {
        assert!(partition["partials"].as_array().unwrap().len() <= 1);
        assert_eq!(partition["verdict"], "Illegal");
    }
    assert!(
        ops.iter()
            .all(|op| op["description"].as_str().unwrap().chars().count() <= 21)
    );
}

/// The default limits keep even c50-ok's page under a megabyte.
#[test]
fn c50_ok_page_size() {
    let history = kv_history("kv/c50-ok.txt");
    let (result, info) = check_operations_verbose(&KvModel, &history, None);
    assert_eq!(result, CheckResult::Ok);
    let mut html = Vec::new();
    visualize(&KvModel, &info, &[], &mut html).expect("visualise");
    assert!(html.len() < 1 << 20, "{} bytes", html.len());
}
