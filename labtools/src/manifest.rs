//! The handout manifest (`handout/manifest.toml`): which files of the workspace
//! students write, lab part by lab part, and which files the handout leaves out.
//!
//! The generator and the grader both read it, so "what is the student's" has one
//! answer. A path pattern is a path relative to the workspace root, or `dir/**`
//! for every file below `dir`.

use std::path::Path;

use serde::Deserialize;

/// Where the manifest lives, relative to the workspace root.
pub const MANIFEST_PATH: &str = "handout/manifest.toml";
/// The folder of starter files, laid at the same relative paths in the handout.
pub const STARTER_DIR: &str = "handout/starter";
/// The folder of files that replace the workspace's own in the handout (the
/// student README).
pub const FILES_DIR: &str = "handout/files";

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest's path.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The manifest's path.
        path: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// The file parses but says something impossible.
    #[error("{path}: {message}")]
    Invalid {
        /// The manifest's path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A path pattern: one file, or every file below a folder (`dir/**`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Exactly this relative path.
    File(String),
    /// Every file below this folder (stored with its trailing `/`).
    Below(String),
}

impl Pattern {
    /// Parses `dir/**` or a plain relative path; `None` for anything else
    /// (absolute paths, `..`, other wildcards, empty).
    pub fn parse(text: &str) -> Option<Pattern> {
        let bad = text.is_empty()
            || text.contains('\\')
            || text
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..");
        if bad {
            return None;
        }
        if let Some(dir) = text.strip_suffix("/**") {
            if dir.is_empty() || dir.contains('*') {
                return None;
            }
            return Some(Pattern::Below(format!("{dir}/")));
        }
        if text.contains('*') {
            return None;
        }
        Some(Pattern::File(text.to_string()))
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::File(file) => path == file,
            Pattern::Below(dir) => path.starts_with(dir.as_str()),
        }
    }
}

/// One lab's share of the student-owned files.
#[derive(Debug, Clone)]
pub struct Part {
    /// Short name, used by `--provide` (e.g. `raft`).
    pub name: String,
    /// What a person calls it (e.g. `Raft (lab 3A-3D)`).
    pub title: String,
    /// The lab part tags whose tests grade it.
    pub labs: Vec<String>,
    /// Files students write.
    pub owned: Vec<Pattern>,
    /// Files under `owned` patterns that are given (framework) all the same.
    pub given: Vec<Pattern>,
}

impl Part {
    /// Whether `path` is this part's student-owned file.
    pub fn owns(&self, path: &str) -> bool {
        self.owned.iter().any(|p| p.matches(path)) && !self.given.iter().any(|p| p.matches(path))
    }
}

/// The parsed manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The lab parts, in the manifest's order.
    pub parts: Vec<Part>,
    /// Tracked files the handout leaves out.
    pub omit: Vec<Pattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    part: Vec<RawPart>,
    generate: RawGenerate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    name: String,
    title: String,
    labs: Vec<String>,
    owned: Vec<String>,
    #[serde(default)]
    given: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerate {
    #[serde(default)]
    omit: Vec<String>,
}

impl Manifest {
    /// Reads the manifest of the workspace at `root`.
    pub fn load(root: &Path) -> Result<Manifest, ManifestError> {
        let path = root.join(MANIFEST_PATH);
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
        Manifest::parse(&text, &shown)
    }

    /// Parses manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &str) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|error| ManifestError::Parse {
            path: path.to_string(),
            message: error.to_string(),
        })?;
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_string(),
            message,
        };
        let patterns = |list: &[String], what: &str| -> Result<Vec<Pattern>, ManifestError> {
            list.iter()
                .map(|text| {
                    Pattern::parse(text).ok_or_else(|| {
                        invalid(format!(
                            "{what} pattern {text:?} is neither a relative path nor `dir/**`"
                        ))
                    })
                })
                .collect()
        };
        let mut parts: Vec<Part> = Vec::new();
        for raw_part in &raw.part {
            if parts.iter().any(|p| p.name == raw_part.name) {
                return Err(invalid(format!("part {:?} appears twice", raw_part.name)));
            }
            if raw_part.owned.is_empty() {
                return Err(invalid(format!("part {:?} owns no files", raw_part.name)));
            }
            parts.push(Part {
                name: raw_part.name.clone(),
                title: raw_part.title.clone(),
                labs: raw_part.labs.clone(),
                owned: patterns(&raw_part.owned, "owned")?,
                given: patterns(&raw_part.given, "given")?,
            });
        }
        if parts.is_empty() {
            return Err(invalid("no [[part]] lists student-owned files".into()));
        }
        Ok(Manifest {
            parts,
            omit: patterns(&raw.generate.omit, "omit")?,
        })
    }

    /// The part named `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// The part whose student-owned file `path` is, if any.
    pub fn owner(&self, path: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.owns(path))
    }

    /// Whether the handout leaves `path` out.
    pub fn omitted(&self, path: &str) -> bool {
        self.omit.iter().any(|p| p.matches(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[[part]]
name = "raft"
title = "Raft"
labs = ["3A"]
owned = ["raft/src/**"]
given = ["raft/src/apply.rs"]

[[part]]
name = "kv"
title = "KV"
labs = ["4B"]
owned = ["kv/src/server.rs", "kv/src/server/**"]

[generate]
omit = [".ci/**"]
"#;

    #[test]
    fn owned_minus_given() {
        let m = Manifest::parse(SAMPLE, "m.toml").unwrap();
        assert_eq!(
            m.owner("raft/src/lib.rs").map(|p| p.name.as_str()),
            Some("raft")
        );
        assert_eq!(
            m.owner("raft/src/core/mod.rs").map(|p| p.name.as_str()),
            Some("raft")
        );
        assert!(m.owner("raft/src/apply.rs").is_none());
        assert!(m.owner("raft/tests/raft_test.rs").is_none());
        assert!(m.owner("raft/srcx/lib.rs").is_none());
        assert_eq!(
            m.owner("kv/src/server/x.rs").map(|p| p.name.as_str()),
            Some("kv")
        );
        assert!(m.owner("kv/src/server.rs.bak").is_none());
        assert!(m.omitted(".ci/run"));
        assert!(!m.omitted("README.md"));
    }

    #[test]
    fn bad_patterns_and_shapes_are_errors() {
        for bad in ["/abs", "../x", "a/*.rs", "a/", "", "**", "a/../b"] {
            assert!(Pattern::parse(bad).is_none(), "{bad:?}");
        }
        let twice = format!(
            "{SAMPLE}\n[[part]]\nname = \"kv\"\ntitle = \"\"\nlabs = []\nowned = [\"x\"]\n"
        );
        let error = Manifest::parse(&twice, "m.toml").unwrap_err().to_string();
        assert!(error.contains("appears twice"), "{error}");
        let error = Manifest::parse("[generate]\n", "m.toml")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("m.toml: "), "{error}");
        let error = Manifest::parse(
            &SAMPLE.replace("owned = [\"raft/src/**\"]", "owned = [\"raft/*\"]"),
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("raft/*"), "{error}");
    }
}
