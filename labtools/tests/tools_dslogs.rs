//! dslogs' integration tests: the real binary on a hand-written sample log
//! (tests/tools_fixtures/raft-sample.log, in the format tester::logging
//! writes). (Tool tests; they follow no Go suite.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools_fixtures/raft-sample.log")
}

fn dslogs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dslogs"))
        .args(args)
        .env_remove("COLUMNS")
        .output()
        .expect("dslogs starts")
}

#[track_caller]
fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "dslogs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The whole sample laid out: one column per peer, peerless lines across,
/// long and multi-line messages wrapped inside their column.
#[test]
fn lays_peers_out_in_columns() {
    let sample = sample();
    let shown = stdout_of(&dslogs(&[
        sample.to_str().unwrap(),
        "--width",
        "100",
        "--no-color",
    ]));
    let expected = [
        "                    S0                         S1                         S2",
        "# lab debug log: test initial_election_3a seed 4242",
        "# fields: micros-since-start level topic crate message (view with dslogs)",
        "  0.001200 TEST     Test (3A): initial election (reliable network)...",
        "  0.152000 ELECTION                            T1 election timeout,",
        "                                               starting election",
        "  0.152400 ELECTION T1 granted vote to S1",
        "  0.152500 ELECTION                                                       T1 granted vote to S1",
        "  0.153100 ELECTION                            T1 won election with 3",
        "                                               votes",
        "  0.160000 APPEND                              T1 heartbeat to all",
        "  0.903000 PERSIST                                                        T1 persisted 1 entries",
        r#"  1.100000 CLIENT   C7 Get("a") -> ErrWrongLeader, retrying"#,
        "  1.400000 ELECTION                                                       T2 election timeout,",
        "                                                                          starting election",
        "  1.400500 ELECTION T2 granted vote to S2",
        "  1.401000 APPEND                                                         T2 sending entries 2..4",
        "                                                                          to S0",
        "                                                                          prev=(1,1)",
        "  1.402000 COMMIT                                                         T2 commit index 3",
        "  1.403000 SNAPSHOT T2 snapshot through 3",
        "  2.100000 TEST     checking for one leader",
        "# test FAILED after 2.101 s",
    ];
    assert_eq!(shown.lines().collect::<Vec<_>>(), expected);
}

/// --last cuts to the final records (after the other filters), keeping the header and footer.
#[test]
fn last_n_records_of_one_peer() {
    let sample = sample();
    let shown = stdout_of(&dslogs(&[
        sample.to_str().unwrap(),
        "--peer",
        "0",
        "--last",
        "2",
        "--flat",
    ]));
    assert_eq!(
        shown,
        "# lab debug log: test initial_election_3a seed 4242\n\
         # fields: micros-since-start level topic crate message (view with dslogs)\n\
         \x20\x20\x201400500 D ELECTION raft    S0 T2 granted vote to S2\n\
         \x20\x20\x201403000 D SNAPSHOT raft    S0 T2 snapshot through 3\n\
         # test FAILED after 2.101 s\n"
    );
}

/// Topic, term, crate and text filters combine.
#[test]
fn topic_term_crate_and_text_filters() {
    let sample = sample();
    let file = sample.to_str().unwrap();
    let records = |args: &[&str]| -> Vec<String> {
        let mut all = vec![file, "--flat"];
        all.extend(args);
        stdout_of(&dslogs(&all))
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().skip(4).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(
        records(&["--topic", "election", "--term", "2"]),
        [
            "S2 T2 election timeout, starting election",
            "S0 T2 granted vote to S2"
        ]
    );
    assert_eq!(
        records(&[
            "--ignore",
            "election,append,persist,commit,snapshot",
            "--crate",
            "tester"
        ])
        .len(),
        2
    );
    assert_eq!(
        records(&["--crate", "kvraft"]),
        [r#"C7 Get("a") -> ErrWrongLeader, retrying"#]
    );
    assert_eq!(
        records(&["--grep", "won election"]),
        ["S1 T1 won election with 3 votes"]
    );
    assert_eq!(records(&["--from", "1.4", "--to", "1.4005"]).len(), 2);
    assert_eq!(records(&["--peer", "-"]).len(), 3, "records without a peer");
}

/// Input can come from stdin or from a dstest failure directory holding one debug log.
#[test]
fn reads_stdin_and_failure_directories() {
    let sample = sample();
    let text = std::fs::read(&sample).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dslogs"))
        .args(["-", "--flat", "--last", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let from_stdin = stdout_of(&child.wait_with_output().unwrap());
    assert!(
        from_stdin.contains("D TEST     tester  checking for one leader"),
        "{from_stdin}"
    );
    assert_eq!(
        from_stdin.lines().filter(|l| !l.starts_with('#')).count(),
        1
    );

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dslogs-dir");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("output.log"), "test x ... FAILED\n").unwrap();
    std::fs::copy(&sample, dir.join("initial_election_3a-4242.log")).unwrap();
    let from_dir = stdout_of(&dslogs(&[dir.to_str().unwrap(), "--flat"]));
    assert_eq!(from_dir, String::from_utf8(text).unwrap());
}

/// Input that is not a debug log is a clear error (exit 2) naming file and line.
#[test]
fn bad_input_is_a_clear_error() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dslogs-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("output.log");
    std::fs::write(&bad, "# fine\nrunning 1 test\n").unwrap();
    let output = dslogs(&[bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:2: not a per-test debug log line",
            bad.display()
        )),
        "{stderr}"
    );

    let output = dslogs(&["/no/such/file.log"]);
    assert_eq!(output.status.code(), Some(2));
    let output = dslogs(&["--term", "5..3", sample().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
}

/// Colours are off when stdout is not a terminal, so pipes get plain text.
#[test]
fn no_colour_codes_in_a_pipe() {
    let sample = sample();
    let shown = stdout_of(&dslogs(&[sample.to_str().unwrap()]));
    assert!(!shown.contains('\x1b'));
}
