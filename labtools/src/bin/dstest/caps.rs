//! Per-suite caps on runs at once, read from a nextest profile's test groups
//! (`.config/nextest.toml`), so `dstest --caps fast` schedules like
//! `cargo nextest run --profile fast`: one place says how many tests of each
//! suite may share the machine.
//!
//! dstest understands the override filters that file uses: `package(NAME)`,
//! `binary(NAME)` and `kind(KIND)` predicates joined by `&` and `|`, read as
//! "every kind of predicate named must hold, by one of its names". Anything
//! else is an error rather than a silent guess.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::cargo::{TargetKind, TestBinary};

/// The groups of one profile, and which test binaries belong to each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caps {
    /// Group name -> most runs of that group at once.
    pub limits: BTreeMap<String, usize>,
    /// The profile's overrides, in order (the first that matches wins).
    rules: Vec<Rule>,
}

/// One override: a binary selector and the group it puts tests in.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    packages: Vec<String>,
    binaries: Vec<String>,
    kinds: Vec<String>,
    group: String,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default, rename = "test-groups")]
    test_groups: BTreeMap<String, RawGroup>,
    #[serde(default)]
    profile: BTreeMap<String, RawProfile>,
}

#[derive(Deserialize)]
struct RawGroup {
    #[serde(rename = "max-threads")]
    max_threads: usize,
}

#[derive(Deserialize)]
struct RawProfile {
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

#[derive(Deserialize)]
struct RawOverride {
    filter: Option<String>,
    #[serde(rename = "test-group")]
    test_group: Option<String>,
}

impl Caps {
    /// Reads profile `profile` of the nextest config at `path`.
    pub fn load(path: &Path, profile: &str) -> Result<Caps, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Caps::parse(&text, profile).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses nextest config text.
    pub fn parse(text: &str, profile: &str) -> Result<Caps, String> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let Some(raw_profile) = raw.profile.get(profile) else {
            let known: Vec<&str> = raw.profile.keys().map(String::as_str).collect();
            return Err(format!(
                "no profile {profile:?} (it has: {})",
                known.join(", ")
            ));
        };
        let limits: BTreeMap<String, usize> = raw
            .test_groups
            .iter()
            .map(|(name, group)| (name.clone(), group.max_threads.max(1)))
            .collect();
        let mut rules = Vec::new();
        for over in &raw_profile.overrides {
            let (Some(filter), Some(group)) = (&over.filter, &over.test_group) else {
                continue;
            };
            if !limits.contains_key(group) {
                return Err(format!(
                    "override names test group {group:?}, which [test-groups] lacks"
                ));
            }
            rules.push(parse_filter(filter, group)?);
        }
        Ok(Caps { limits, rules })
    }

    /// The group a test binary's runs belong to, if any.
    pub fn group_of(&self, binary: &TestBinary) -> Option<&str> {
        self.rules
            .iter()
            .find(|rule| rule.matches(binary))
            .map(|rule| rule.group.as_str())
    }
}

impl Rule {
    fn matches(&self, binary: &TestBinary) -> bool {
        let kind = match binary.kind {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::Test => "test",
            TargetKind::Example => "example",
            TargetKind::Bench => "bench",
        };
        let one_of =
            |names: &[String], value: &str| names.is_empty() || names.iter().any(|n| n == value);
        one_of(&self.packages, &binary.package)
            && one_of(&self.binaries, &binary.target)
            && one_of(&self.kinds, kind)
    }
}

/// Reads `package(..)`, `binary(..)` and `kind(..)` out of a filter made only
/// of those, `&`, `|`, parentheses and spaces.
fn parse_filter(filter: &str, group: &str) -> Result<Rule, String> {
    let mut rule = Rule {
        packages: Vec::new(),
        binaries: Vec::new(),
        kinds: Vec::new(),
        group: group.to_string(),
    };
    let mut rest = filter;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || "&|()".contains(c));
        if rest.is_empty() {
            break;
        }
        let Some(open) = rest.find('(') else {
            return Err(format!(
                "filter {filter:?}: dstest reads only package(), binary() and kind()"
            ));
        };
        let Some(close) = rest[open..].find(')') else {
            return Err(format!("filter {filter:?}: unbalanced parentheses"));
        };
        let (name, value) = (&rest[..open], rest[open + 1..open + close].trim());
        let list = match name {
            "package" => &mut rule.packages,
            "binary" => &mut rule.binaries,
            "kind" => &mut rule.kinds,
            other => {
                return Err(format!(
                    "filter {filter:?}: dstest reads only package(), binary() and kind(), not {other}()"
                ));
            }
        };
        list.push(value.to_string());
        rest = &rest[open + close + 1..];
    }
    if rule.packages.is_empty() && rule.binaries.is_empty() && rule.kinds.is_empty() {
        return Err(format!("filter {filter:?} selects nothing dstest can read"));
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const CONFIG: &str = r#"
[profile.default]
test-threads = 1

[profile.fast]
test-threads = 48

[test-groups]
raft = { max-threads = 28 }
kv = { max-threads = 4 }
rsm = { max-threads = 9 }

[[profile.fast.overrides]]
filter = 'package(raft) & binary(raft_test)'
test-group = 'raft'

[[profile.fast.overrides]]
filter = 'package(kvraft) & (binary(kvraft_test) | binary(kvsim_cli))'
test-group = 'kv'

[[profile.fast.overrides]]
filter = 'package(rsm) & kind(test)'
test-group = 'rsm'
"#;

    fn binary(package: &str, target: &str, kind: TargetKind) -> TestBinary {
        TestBinary {
            package: package.into(),
            target: target.into(),
            kind,
            executable: PathBuf::new(),
            package_dir: PathBuf::new(),
        }
    }

    #[test]
    fn groups_follow_the_overrides() {
        let caps = Caps::parse(CONFIG, "fast").unwrap();
        assert_eq!(caps.limits["kv"], 4);
        let group = |p, t, k| caps.group_of(&binary(p, t, k)).map(str::to_string);
        assert_eq!(
            group("raft", "raft_test", TargetKind::Test).as_deref(),
            Some("raft")
        );
        assert_eq!(group("raft", "raft", TargetKind::Lib), None);
        assert_eq!(
            group("kvraft", "kvsim_cli", TargetKind::Test).as_deref(),
            Some("kv")
        );
        assert_eq!(group("kvraft", "classic_test", TargetKind::Test), None);
        assert_eq!(
            group("rsm", "start_errors", TargetKind::Test).as_deref(),
            Some("rsm")
        );
        assert_eq!(group("rsm", "rsm", TargetKind::Lib), None);
    }

    #[test]
    fn unknown_profiles_groups_and_filters_are_errors() {
        let error = Caps::parse(CONFIG, "slow").unwrap_err();
        assert!(error.contains("no profile \"slow\""), "{error}");
        let error = Caps::parse(
            &CONFIG.replace("test-group = 'kv'", "test-group = 'nope'"),
            "fast",
        )
        .unwrap_err();
        assert!(error.contains("\"nope\""), "{error}");
        let error = Caps::parse(
            &CONFIG.replace("package(rsm) & kind(test)", "test(/4a/)"),
            "fast",
        )
        .unwrap_err();
        assert!(error.contains("not test()"), "{error}");
    }

    /// The workspace's own config parses, and caps the KV suites.
    #[test]
    fn the_workspace_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.config/nextest.toml");
        let caps = Caps::load(&path, "fast").unwrap();
        let kv = caps
            .group_of(&binary("kvraft", "kvraft_test", TargetKind::Test))
            .unwrap();
        let classic = caps
            .group_of(&binary("kvraft", "classic_test", TargetKind::Test))
            .unwrap();
        let raft = caps
            .group_of(&binary("raft", "raft_test", TargetKind::Test))
            .unwrap();
        assert!(caps.limits[kv] < caps.limits[raft]);
        assert!(caps.limits[classic] < caps.limits[raft]);
    }
}
