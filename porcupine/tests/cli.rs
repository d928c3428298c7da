//! The `porcupine check` command (no Go counterpart: upstream has no CLI): verdict lines,
//! exit statuses 0/1/2/3, model choice, the JSON format, HTML output and input errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{data_dir, kv_history};
use porcupine::history::{self, History};
use porcupine::models::kv_versioned::{KvErr, KvInput, KvOutput};
use porcupine::{Annotation, Operation};

fn porcupine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_porcupine"))
        .args(args)
        .output()
        .expect("run the porcupine binary")
}

fn data(relative: &str) -> String {
    data_dir().join(relative).to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("porcupine-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_status(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// A linearizable etcd log prints `PATH: linearizable` and exits 0.
#[test]
fn linearizable_file_exits_0() {
    let file = data("jepsen/etcd_002.log");
    let output = porcupine(&["check", &file]);
    assert_status(&output, 0);
    assert_eq!(stdout(&output), format!("{file}: linearizable\n"));
}

/// One line per file; any illegal file makes the status 1.
#[test]
fn illegal_file_exits_1() {
    let ok = data("jepsen/etcd_005.log");
    let bad = data("jepsen/etcd_000.log");
    let kv_bad = data("kv/c10-bad.txt");
    let output = porcupine(&["check", &ok, &bad, &kv_bad]);
    assert_status(&output, 1);
    assert_eq!(
        stdout(&output),
        format!("{ok}: linearizable\n{bad}: not linearizable\n{kv_bad}: not linearizable\n")
    );
}

/// The unpartitioned KV model can be chosen for a KV log.
#[test]
fn model_flag_selects_unpartitioned_kv() {
    let file = data("kv/c01-bad.txt");
    let output = porcupine(&["check", "--model", "kv-unpartitioned", &file]);
    assert_status(&output, 1);
    assert_eq!(stdout(&output), format!("{file}: not linearizable\n"));
}

/// Writes key 0 of kv/c50-bad (undecidable in practice) as a JSON history.
fn hard_json_history() -> PathBuf {
    let operations: Vec<_> = kv_history("kv/c50-bad.txt")
        .into_iter()
        .filter(|op| op.input.key == "0")
        .collect();
    let path = scratch("hard.json");
    history::write_path(
        &path,
        &History {
            model: "kv".into(),
            operations,
            annotations: Vec::new(),
        },
    )
    .expect("write history");
    path
}

/// A check that times out prints `unknown (timeout)` and exits 2; an illegal file among
/// them still makes it 1.
#[test]
fn timeout_exits_2_unless_illegal() {
    let hard = hard_json_history();
    let hard = hard.to_string_lossy();
    let output = porcupine(&["check", "--timeout", "0.3", &hard]);
    assert_status(&output, 2);
    assert_eq!(stdout(&output), format!("{hard}: unknown (timeout)\n"));
    let bad = data("jepsen/etcd_001.log");
    let output = porcupine(&["check", "--timeout", "0.3", &hard, &bad]);
    assert_status(&output, 1);
}

/// A malformed line exits 3 and names the file and the line; other files still get their
/// verdict.
#[test]
fn malformed_input_exits_3_naming_file_and_line() {
    let path = scratch("broken.log");
    let good_line = "INFO  jepsen.util - 1\t:invoke\t:write\t3\n";
    std::fs::write(
        &path,
        format!("{good_line}INFO  jepsen.util - 1\t:ok\t:write\tthree\n"),
    )
    .unwrap();
    let broken = path.to_string_lossy().into_owned();
    let bad = data("jepsen/etcd_000.log");
    let output = porcupine(&["check", &broken, &bad]);
    assert_status(&output, 3);
    assert!(
        stderr(&output).contains(&format!("{broken}: line 2:")),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains(&format!("{bad}: not linearizable")));
}

/// A file that is not a known format, a JSON syntax error and a missing file exit 3.
#[test]
fn unreadable_inputs_exit_3() {
    let text = scratch("notes.txt");
    std::fs::write(&text, "hello\n").unwrap();
    let output = porcupine(&["check", &text.to_string_lossy()]);
    assert_status(&output, 3);
    assert!(stderr(&output).contains("line 1"));

    let json = scratch("broken.json");
    std::fs::write(
        &json,
        "{\n  \"model\": \"kv\",\n  \"operations\": [ {\"client_id\": 0 ]\n}\n",
    )
    .unwrap();
    let output = porcupine(&["check", &json.to_string_lossy()]);
    assert_status(&output, 3);
    assert!(stderr(&output).contains("line 3"), "{}", stderr(&output));

    let missing = scratch("does-not-exist.log");
    let output = porcupine(&["check", &missing.to_string_lossy()]);
    assert_status(&output, 3);
    assert!(stderr(&output).contains("does-not-exist.log"));
}

/// A history without a single operation (an empty file, whitespace only, a JSON history
/// whose `operations` list is empty) is almost always a truncated write: it prints
/// `PATH: no operations` and exits 3, never "linearizable", also beside a good file.
#[test]
fn history_without_operations_exits_3() {
    let empty = scratch("empty.log");
    std::fs::write(&empty, "").unwrap();
    let blank = scratch("blank.log");
    std::fs::write(&blank, " \n\n").unwrap();
    let json = scratch("no-ops.json");
    std::fs::write(
        &json,
        "{\"model\": \"kv-versioned\", \"operations\": [], \"annotations\": []}\n",
    )
    .unwrap();
    for path in [&empty, &blank, &json] {
        let file = path.to_string_lossy().into_owned();
        let output = porcupine(&["check", &file]);
        assert_status(&output, 3);
        assert_eq!(stdout(&output), format!("{file}: no operations\n"));
        for model in ["etcd", "kv"] {
            if path == &json {
                continue;
            }
            let output = porcupine(&["check", "--model", model, &file]);
            assert_status(&output, 3);
            assert_eq!(stdout(&output), format!("{file}: no operations\n"));
        }
    }
    let good = data("jepsen/etcd_002.log");
    let file = empty.to_string_lossy().into_owned();
    let output = porcupine(&["check", &good, &file]);
    assert_status(&output, 3);
    assert_eq!(
        stdout(&output),
        format!("{good}: linearizable\n{file}: no operations\n")
    );
}

/// A model that cannot read the file's format is an input error (3).
#[test]
fn mismatched_model_exits_3() {
    let output = porcupine(&[
        "check",
        "--model",
        "kv-versioned",
        &data("jepsen/etcd_000.log"),
    ]);
    assert_status(&output, 3);
    assert!(stderr(&output).contains("model kv-versioned cannot check"));
}

/// Usage errors exit 3 with clap's message; --help exits 0.
#[test]
fn usage_errors_exit_3() {
    assert_status(&porcupine(&["check"]), 3);
    assert_status(&porcupine(&["check", "--model", "nope", "x"]), 3);
    assert_status(&porcupine(&["check", "--timeout", "-1", "x"]), 3);
    assert_status(&porcupine(&["frobnicate"]), 3);
    let help = porcupine(&["check", "--help"]);
    assert_status(&help, 0);
    assert!(stdout(&help).contains("--timeout"));
}

/// A kv-versioned JSON history (as the KV tests export it) is checked with its model,
/// annotations included, and --html writes a self-contained page.
#[test]
fn json_history_and_html() {
    let put = |client, value: &str, version, call, ret, err| Operation {
        client_id: client,
        input: KvInput::put("k", value, version),
        call,
        output: KvOutput::put(err),
        return_time: ret,
    };
    let get = |client, value: &str, version, call, ret| Operation {
        client_id: client,
        input: KvInput::get("k"),
        call,
        output: KvOutput::get(value, version, KvErr::Ok),
        return_time: ret,
    };
    let legal = vec![
        put(0, "a", 0, 0, 10, KvErr::Ok),
        put(1, "b", 0, 5, 15, KvErr::ErrMaybe),
        get(2, "a", 1, 20, 30),
    ];
    let annotations = vec![Annotation {
        client_id: None,
        tag: "$ Failure".into(),
        start: 2,
        end: 12,
        description: "partition = [0] [1 2]".into(),
        details: String::new(),
        text_color: String::new(),
        background_color: "#B3E5FC".into(),
    }];
    let path = scratch("versioned.json");
    history::write_path(
        &path,
        &History {
            model: "kv-versioned".into(),
            operations: legal.clone(),
            annotations: annotations.clone(),
        },
    )
    .unwrap();
    let output = porcupine(&["check", &path.to_string_lossy()]);
    assert_status(&output, 0);

    let mut illegal = legal;
    illegal.push(get(2, "b", 2, 40, 50));
    history::write_path(
        &path,
        &History {
            model: "kv-versioned".into(),
            operations: illegal,
            annotations,
        },
    )
    .unwrap();
    let html = scratch("versioned.html");
    let output = porcupine(&[
        "check",
        "--html",
        &html.to_string_lossy(),
        &path.to_string_lossy(),
    ]);
    assert_status(&output, 1);
    let page = std::fs::read_to_string(&html).expect("the page was written");
    assert!(page.contains("const data = "));
    assert!(page.contains("partition = [0] [1 2]"));
    assert!(
        !page.contains("<script src"),
        "the page must be self-contained"
    );
}

/// With several files, --html names a directory that gets one page per file.
#[test]
fn html_directory_for_several_files() {
    let dir = scratch("pages");
    let output = porcupine(&[
        "check",
        "--html",
        &dir.to_string_lossy(),
        &data("jepsen/etcd_070.log"),
        &data("kv/c01-ok.txt"),
    ]);
    assert_status(&output, 1);
    assert!(Path::new(&dir.join("etcd_070.html")).exists());
    assert!(Path::new(&dir.join("c01-ok.html")).exists());
}
