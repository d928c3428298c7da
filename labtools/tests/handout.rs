//! The handout generator against this very workspace: framework files byte for
//! byte, starter code in place of every student-owned file, no solution code,
//! and the solution laid back over the handout gives this workspace again.
//! (Tool tests; they follow no Go suite.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use labtools::handout::{self, Options, Plan};
use labtools::manifest::{FILES_DIR, Manifest, STARTER_DIR};
use labtools::tree;

/// This workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("labtools sits in the workspace")
        .to_path_buf()
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("handout-{name}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    dir
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn generate(name: &str, options: &Options) -> (PathBuf, Plan) {
    let out = scratch(name);
    let plan = handout::generate(&root(), &out, options).expect("the handout is written");
    (out, plan)
}

/// Every file of the handout, by where it came from: framework files equal the
/// workspace's, starter files equal handout/starter's, the README is the
/// student one, and nothing else is there.
#[test]
fn handout_is_framework_byte_for_byte_plus_starter_code() {
    let root = root();
    let manifest = Manifest::load(&root).unwrap();
    let (out, plan) = generate("plain", &Options::default());
    for path in &plan.framework {
        assert!(manifest.owner(path).is_none(), "{path} is student-owned");
        assert_eq!(
            read(&tree::join(&out, path)),
            read(&tree::join(&root, path)),
            "framework file {path} differs from the workspace's"
        );
    }
    for path in &plan.starter {
        assert!(manifest.owner(path).is_some(), "{path}");
        assert_eq!(
            read(&tree::join(&out, path)),
            read(&tree::join(&root.join(STARTER_DIR), path))
        );
    }
    assert!(plan.replaced.contains(&"README.md".to_string()));
    assert_eq!(
        read(&out.join("README.md")),
        read(&root.join(FILES_DIR).join("README.md"))
    );
    let expected: BTreeSet<&String> = plan
        .framework
        .iter()
        .chain(&plan.starter)
        .chain(&plan.replaced)
        .collect();
    let written = tree::files_below(&out).unwrap();
    assert_eq!(written.iter().collect::<BTreeSet<_>>(), expected);
    // What a standalone workspace needs is there.
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        "handout/manifest.toml",
        "raft/tests/raft_test.rs",
        "labtools/src/bin/dstest/main.rs",
        "docs/labs/raft.md",
    ] {
        assert!(out.join(needed).is_file(), "{needed} is missing");
    }
    // Nothing of the solution's own that students write, and no solution-only file.
    for path in &plan.left_out {
        if !plan.starter.contains(path) {
            assert!(!tree::join(&out, path).exists(), "{path} leaked");
        }
    }
    for omitted in [".ci/run", "kvraft/PERF.md"] {
        assert!(plan.omitted.contains(&omitted.to_string()));
        assert!(!out.join(omitted).exists(), "{omitted} leaked");
    }
    // Every part starts from starter code.
    for part in &manifest.parts {
        assert!(
            plan.starter.iter().any(|p| part.owns(p)),
            "part {} has no starter code",
            part.name
        );
    }
}

/// Names the starter code may share with the solution: the paper's and the Go
/// skeleton's vocabulary, which the worked examples use on purpose.
const SHARED_VOCABULARY: &[&str] = &[
    "RequestVoteArgs",
    "RequestVoteReply",
    "REQUEST_VOTE",
    "voted_for",
    "commit_index",
    "role",
    "Role",
];

/// The private items (functions, types, modules, constants) the solution's
/// student-owned files define whose names appear nowhere in the framework: the
/// solution's own vocabulary.
fn solution_private_names(root: &Path, manifest: &Manifest) -> BTreeMap<String, String> {
    let files = tree::workspace_files(root).unwrap();
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut framework_words = BTreeSet::new();
    let mut private = BTreeMap::new();
    // Files the handout omits (this test among them) say nothing students see.
    for path in files
        .iter()
        .filter(|p| p.ends_with(".rs") && !manifest.omitted(p))
    {
        let text = String::from_utf8(read(&tree::join(root, path))).unwrap();
        if manifest.owner(path).is_none() {
            framework_words.extend(words(&text));
            continue;
        }
        for line in text.lines() {
            let line = line.trim_start();
            // Private or crate-visible items; `pub` ones are the API tests name.
            let rest = if let Some(restricted) = line.strip_prefix("pub(") {
                match restricted.split_once(") ") {
                    Some((_, rest)) => rest,
                    None => continue,
                }
            } else if line.starts_with("pub ") {
                continue;
            } else {
                line
            };
            let mut tokens = rest.split_whitespace();
            let Some(keyword) = tokens.next() else {
                continue;
            };
            if ![
                "fn", "struct", "enum", "trait", "mod", "type", "const", "static",
            ]
            .contains(&keyword)
            {
                continue;
            }
            if let Some(name) = tokens.next() {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    private.insert(name, path.clone());
                }
            }
        }
    }
    private.retain(|name, _| {
        !framework_words.contains(name) && !SHARED_VOCABULARY.contains(&name.as_str())
    });
    private
}

/// No solution code leaks: the handout's student-owned files (the starter code)
/// use none of the names of the solution's private modules, types and functions.
#[test]
fn starter_code_holds_none_of_the_solutions_private_names() {
    let root = root();
    let manifest = Manifest::load(&root).unwrap();
    let private = solution_private_names(&root, &manifest);
    // The derivation finds the solution's internals (a guard against a check
    // that silently finds nothing).
    for internal in ["Core", "LogIndex", "on_append_entries", "Driver"] {
        assert!(private.contains_key(internal), "{internal} not derived");
    }
    let (out, plan) = generate("leaks", &Options::default());
    let mut leaks = Vec::new();
    for path in &plan.starter {
        let text = String::from_utf8(read(&tree::join(&out, path))).unwrap();
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if let Some(from) = private.get(word) {
                leaks.push(format!("{path}: {word} (the solution's {from})"));
            }
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(
        leaks.is_empty(),
        "solution names in the starter code:\n{}",
        leaks.join("\n")
    );
}

/// Laying this workspace's student-owned files over the handout gives back this
/// workspace (less the omitted files and the student README): so the suites
/// that pass here pass there with a complete solution.
#[test]
fn solution_laid_over_the_handout_is_this_workspace() {
    let root = root();
    let manifest = Manifest::load(&root).unwrap();
    let options = Options::default();
    let (out, plan) = generate("overlay", &options);
    let files = tree::workspace_files(&root).unwrap();
    let (laid, ignored) = handout::overlay(&manifest, &options, &out, &root, &files).unwrap();
    assert_eq!(laid, plan.left_out);
    assert_eq!(ignored.len(), files.len() - laid.len());
    let expected: BTreeSet<String> = files
        .iter()
        .filter(|p| !manifest.omitted(p))
        .cloned()
        .chain(plan.replaced.iter().cloned())
        .collect();
    let written: BTreeSet<String> = tree::files_below(&out).unwrap().into_iter().collect();
    assert_eq!(written, expected);
    for path in &written {
        if plan.replaced.contains(path) {
            continue;
        }
        assert_eq!(
            read(&tree::join(&out, path)),
            read(&tree::join(&root, path)),
            "{path}"
        );
    }
}

/// `--provide raft`: the solution's Raft is given code, the other parts still
/// get starter code.
#[test]
fn provide_raft_hands_out_the_solutions_raft() {
    let root = root();
    let manifest = Manifest::load(&root).unwrap();
    let options = Options {
        provide: vec!["raft".into()],
    };
    let (out, plan) = generate("provide", &options);
    let raft = manifest.part("raft").unwrap();
    let solution_raft: Vec<&String> = tree::workspace_files(&root)
        .unwrap()
        .iter()
        .filter(|p| raft.owns(p))
        .map(|p| plan.framework.iter().find(|f| *f == p).expect("given"))
        .collect();
    assert!(!solution_raft.is_empty());
    for path in solution_raft {
        assert_eq!(
            read(&tree::join(&out, path)),
            read(&tree::join(&root, path))
        );
    }
    assert!(plan.starter.iter().all(|p| !raft.owns(p)));
    assert!(plan.starter.iter().any(|p| p.starts_with("rsm/")));
    let error = handout::generate(
        &root,
        &scratch("provide-bad"),
        &Options {
            provide: vec!["paxos".into()],
        },
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("--provide paxos: no such part"), "{error}");
}

/// A small workspace of its own (a git repository with a manifest), for the
/// generator's errors.
fn fake_workspace(name: &str, starter: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    let files: Vec<(&str, &str)> = vec![
        (
            "handout/manifest.toml",
            "[[part]]\nname = \"a\"\ntitle = \"A\"\nlabs = [\"1A\"]\nowned = [\"a/src/**\"]\n\n[generate]\nomit = []\n",
        ),
        ("a/src/lib.rs", "// solution\n"),
        ("a/tests/t.rs", "// test\n"),
    ];
    for (path, text) in files.iter().chain(starter) {
        let file = tree::join(&dir, path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    dir
}

/// The generator refuses what does not fit: a starter file at a path students
/// do not own, a part without starter code, an output folder that is not empty,
/// a folder that is not a git checkout.
#[test]
fn generator_errors_are_clear() {
    let ok = fake_workspace(
        "fake-ok",
        &[("handout/starter/a/src/lib.rs", "// starter\n")],
    );
    let out = scratch("fake-ok-out");
    let plan = handout::generate(&ok, &out, &Options::default()).unwrap();
    assert_eq!(plan.starter, vec!["a/src/lib.rs".to_string()]);
    assert_eq!(
        std::fs::read_to_string(out.join("a/src/lib.rs")).unwrap(),
        "// starter\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("a/tests/t.rs")).unwrap(),
        "// test\n"
    );

    let error = handout::generate(&ok, &out, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not empty"), "{error}");

    let stray = fake_workspace(
        "fake-stray",
        &[
            ("handout/starter/a/src/lib.rs", "// starter\n"),
            ("handout/starter/a/tests/t.rs", "// replaced test\n"),
        ],
    );
    let error = handout::generate(&stray, &scratch("fake-stray-out"), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("handout/starter/a/tests/t.rs: not a student-owned path"),
        "{error}"
    );

    let bare = fake_workspace("fake-bare", &[]);
    let error = handout::generate(&bare, &scratch("fake-bare-out"), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("part \"a\" has no starter code"), "{error}");

    // Outside any git checkout (the target folder is inside this one).
    let plain = std::env::temp_dir().join(format!("handout-not-git-{}", std::process::id()));
    if plain.exists() {
        std::fs::remove_dir_all(&plain).unwrap();
    }
    std::fs::create_dir_all(plain.join("handout")).unwrap();
    std::fs::copy(
        bare.join("handout/manifest.toml"),
        plain.join("handout/manifest.toml"),
    )
    .unwrap();
    let error = handout::generate(&plain, &scratch("not-git-out"), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot list the files of"), "{error}");
    std::fs::remove_dir_all(&plain).unwrap();
}

/// The command: writes a handout and says what it did; bad flags exit 2.
#[test]
fn handout_command() {
    let out = scratch("cli");
    let output = Command::new(env!("CARGO_BIN_EXE_handout"))
        .args(["--out", out.to_str().unwrap(), "--provide", "raft"])
        .current_dir(root().join("raft"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("starter files"), "{stdout}");
    assert!(stdout.contains("given complete: raft"), "{stdout}");
    assert!(out.join("raft/src/lib.rs").is_file());

    let output = Command::new(env!("CARGO_BIN_EXE_handout"))
        .args(["--out", out.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));

    let output = Command::new(env!("CARGO_BIN_EXE_handout"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
