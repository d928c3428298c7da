//! Reading a per-test debug log: from a file, a dstest failure directory, or stdin.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use tester::logging::{LogLine, Record};

/// One entry of a log: a record (with its continuation lines) or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A `#` line (the header or the footer).
    Comment(String),
    /// A log record; `message` holds continuation lines after newlines.
    Record(Record),
}

/// Finds the log to read: `-` is stdin; a directory must hold exactly one
/// debug log (`*.log` other than dstest's `output.log`).
pub fn resolve(path: &Path) -> Result<Option<PathBuf>, String> {
    if path == Path::new("-") {
        return Ok(None);
    }
    if !path.is_dir() {
        return Ok(Some(path.to_path_buf()));
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut logs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .filter(|p| p.file_name().is_some_and(|n| n != "output.log"))
        .collect();
    logs.sort();
    match logs.len() {
        1 => Ok(logs.pop()),
        0 => Err(format!(
            "{}: no debug log (*.log) in this directory; was the run made with LAB_LOG_DIR \
             (dstest without --no-debug-log)?",
            path.display()
        )),
        _ => Err(format!(
            "{}: several debug logs, name one: {}",
            path.display(),
            logs.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Reads every entry; a line not in the format is an error naming its number.
pub fn read_entries(source: impl Read, name: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (index, line) in BufReader::new(source).split(b'\n').enumerate() {
        let number = index + 1;
        let bytes = line.map_err(|e| format!("{name}: {e}"))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let parsed = LogLine::parse(text).map_err(|e| {
            format!(
                "{name}:{number}: not a per-test debug log line: {e}\n  \
                 (dslogs reads the <test>-<seed>.log files written with LAB_LOG_DIR, \
                 not the test's printed output)"
            )
        })?;
        match parsed {
            LogLine::Comment(text) => entries.push(Entry::Comment(text)),
            LogLine::Record(record) => entries.push(Entry::Record(record)),
            LogLine::Continuation(more) => match entries.last_mut() {
                Some(Entry::Record(record)) => {
                    record.message.push('\n');
                    record.message.push_str(&more);
                }
                _ => {
                    return Err(format!(
                        "{name}:{number}: a continuation line (starting with a tab) with no record before it"
                    ));
                }
            },
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "# lab debug log: test t seed 1\n\
        \x20\x20\x20\x20\x20\x20\x20\x2012 D ELECTION raft    S0 T1 timeout\n\
        \x20\x20\x20\x20\x20\x20\x20\x2040 D APPEND   raft    S1 T1 state:\n\
        \tlog=[1]\n\
        # test passed after 0.001 s\n";

    #[test]
    fn records_comments_and_continuations_are_read() {
        let entries = read_entries(LOG.as_bytes(), "x.log").unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[0],
            Entry::Comment("lab debug log: test t seed 1".into())
        );
        let Entry::Record(second) = &entries[2] else {
            panic!("{:?}", entries[2])
        };
        assert_eq!(second.message, "S1 T1 state:\nlog=[1]");
        assert_eq!(second.peer(), Some(1));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err =
            read_entries("# ok\nTest (3A): initial election\n".as_bytes(), "out.log").unwrap_err();
        assert!(
            err.starts_with("out.log:2: not a per-test debug log line"),
            "{err}"
        );
        let err = read_entries("\tdangling\n".as_bytes(), "x.log").unwrap_err();
        assert!(err.starts_with("x.log:1: a continuation line"), "{err}");
    }

    #[test]
    fn a_directory_with_one_debug_log_resolves_to_it() {
        let dir = std::env::temp_dir().join(format!("dslogs-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("output.log"), "x").unwrap();
        let err = resolve(&dir).unwrap_err();
        assert!(err.contains("no debug log"), "{err}");
        std::fs::write(dir.join("t-1.log"), LOG).unwrap();
        assert_eq!(resolve(&dir).unwrap(), Some(dir.join("t-1.log")));
        std::fs::write(dir.join("u-2.log"), LOG).unwrap();
        assert!(resolve(&dir).unwrap_err().contains("several debug logs"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(resolve(Path::new("-")).unwrap(), None);
    }
}
