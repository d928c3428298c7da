//! Laying records out in one column per peer, coloured by topic.

use std::io::{self, Write};

use log::Level;
use tester::logging::Record;

use crate::input::Entry;

/// How to draw.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Number of peer columns.
    pub columns: usize,
    /// Total line width in characters.
    pub width: usize,
    /// Use ANSI colours.
    pub color: bool,
    /// One line per record (time, topic, crate, message), no columns.
    pub flat: bool,
}

/// Time (10) + space + topic (8) + space.
const PREFIX: usize = 20;
/// Spaces between two peer columns.
const GAP: usize = 2;
/// Narrowest peer column worth drawing.
const MIN_COLUMN: usize = 12;

/// The number of columns needed for the peers in these entries.
pub fn peer_columns(entries: &[Entry]) -> usize {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Record(r) => r.peer(),
            Entry::Comment(_) => None,
        })
        .max()
        .map_or(1, |p| p + 1)
}

/// Writes the entries.
pub fn render(entries: &[Entry], layout: &Layout, out: &mut impl Write) -> io::Result<()> {
    let painter = Painter { on: layout.color };
    let column = column_width(layout);
    if !layout.flat {
        let mut header = " ".repeat(PREFIX);
        for peer in 0..layout.columns {
            let title = format!("S{peer}");
            header.push_str(&format!("{title:<column$}"));
            if peer + 1 < layout.columns {
                header.push_str(&" ".repeat(GAP));
            }
        }
        writeln!(out, "{}", painter.paint(BOLD, header.trim_end()))?;
    }
    for entry in entries {
        match entry {
            Entry::Comment(text) => writeln!(out, "{}", painter.paint(DIM, &format!("# {text}")))?,
            Entry::Record(record) if layout.flat => {
                let color = color_of(record);
                let line = record.to_string();
                writeln!(out, "{}", painter.paint(color, &line))?;
            }
            Entry::Record(record) => write_columns(record, layout, column, &painter, out)?,
        }
    }
    Ok(())
}

fn column_width(layout: &Layout) -> usize {
    let columns = layout.columns.max(1);
    let room = layout.width.saturating_sub(PREFIX + GAP * (columns - 1));
    (room / columns).max(MIN_COLUMN)
}

fn write_columns(
    record: &Record,
    layout: &Layout,
    column: usize,
    painter: &Painter,
    out: &mut impl Write,
) -> io::Result<()> {
    let color = color_of(record);
    // A peer's record goes in its column, without the `S<peer>` it repeats;
    // anything else (clients, the tester, a peer beyond --columns) spans the line.
    let (indent, cell_width, text) = match record.peer() {
        Some(peer) if peer < layout.columns => {
            let text = record.message.split_once(' ').map_or("", |(_, rest)| rest);
            (peer * (column + GAP), column, text.to_string())
        }
        _ => {
            let span = layout.columns.max(1) * (column + GAP) - GAP;
            (0, span, record.message.clone())
        }
    };
    let lines = wrap(&text, cell_width);
    let time = format!("{:>10.6}", record.micros as f64 / 1e6);
    for (i, line) in lines.iter().enumerate() {
        let prefix = if i == 0 {
            format!(
                "{time} {}",
                painter.paint(color, &format!("{:<8}", record.topic))
            )
        } else {
            " ".repeat(PREFIX - 1)
        };
        let body = painter.paint(color, line.trim_end());
        writeln!(out, "{prefix} {}{body}", " ".repeat(indent))?;
    }
    Ok(())
}

/// Breaks text into lines of at most `width` characters, at spaces where it
/// can; its own newlines are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in paragraph.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            if len > 0 && len + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            while len + word.len() > width {
                let rest = word.split_off(width - len);
                line.extend(word);
                lines.push(std::mem::take(&mut line));
                len = 0;
                word = rest;
            }
            len += word.len();
            line.extend(word);
        }
        lines.push(line);
    }
    lines
}

const BOLD: &str = "1";
const DIM: &str = "2";

/// The colour of a record: by topic, except warnings and errors.
fn color_of(record: &Record) -> &'static str {
    match record.level {
        Level::Error => return "1;31",
        Level::Warn => return "31",
        _ => {}
    }
    match record.topic.as_str() {
        "ELECTION" => "33",
        "APPEND" => "36",
        "COMMIT" => "32",
        "APPLY" => "92",
        "SNAPSHOT" => "35",
        "PERSIST" => "34",
        "CLIENT" => "94",
        "SERVER" => "95",
        "TEST" => "1;37",
        _ => "0",
    }
}

/// Wraps text in ANSI colour codes when colour is on.
struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(micros: u64, topic: &str, message: &str) -> Entry {
        Entry::Record(Record {
            micros,
            level: Level::Debug,
            topic: topic.into(),
            crate_name: "raft".into(),
            message: message.into(),
        })
    }

    fn draw(entries: &[Entry], layout: &Layout) -> String {
        let mut out = Vec::new();
        render(entries, layout, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("x\ny z", 10), ["x", "y z"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn peers_go_in_their_columns() {
        let entries = vec![
            Entry::Comment("lab debug log: test t seed 1".into()),
            rec(1_500, "ELECTION", "S0 T1 timeout"),
            rec(2_000, "ELECTION", "S2 T1 vote for S0"),
            rec(3_000, "TEST", "checking for one leader"),
        ];
        let layout = Layout {
            columns: peer_columns(&entries),
            width: 80,
            color: false,
            flat: false,
        };
        assert_eq!(layout.columns, 3);
        // (80 - 20 - 4) / 3 = 18 characters per column.
        let expected = [
            "                    S0                  S1                  S2",
            "# lab debug log: test t seed 1",
            "  0.001500 ELECTION T1 timeout",
            "  0.002000 ELECTION                                         T1 vote for S0",
            "  0.003000 TEST     checking for one leader",
            "",
        ]
        .join("\n");
        assert_eq!(draw(&entries, &layout), expected);
    }

    #[test]
    fn long_messages_wrap_inside_their_column() {
        let entries = vec![rec(1, "APPEND", "S1 T2 sending entries 5..9 to S0")];
        let layout = Layout {
            columns: 2,
            width: 50,
            color: false,
            flat: false,
        };
        // (50 - 20 - 2) / 2 = 14 characters per column.
        let expected = [
            "                    S0              S1",
            "  0.000001 APPEND                   T2 sending",
            "                                    entries 5..9",
            "                                    to S0",
            "",
        ]
        .join("\n");
        assert_eq!(draw(&entries, &layout), expected);
    }

    #[test]
    fn colour_is_by_topic_and_can_be_off() {
        let entries = vec![rec(1, "COMMIT", "S0 T1 commit 3")];
        let layout = Layout {
            columns: 1,
            width: 60,
            color: true,
            flat: false,
        };
        let text = draw(&entries, &layout);
        assert!(text.contains("\x1b[32mCOMMIT  \x1b[0m"), "{text:?}");
        assert!(text.contains("\x1b[32mT1 commit 3\x1b[0m"), "{text:?}");
        let plain = draw(
            &entries,
            &Layout {
                color: false,
                ..layout
            },
        );
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn flat_output_is_the_log_line() {
        let entries = vec![rec(1234, "ELECTION", "S0 T1 timeout")];
        let layout = Layout {
            columns: 1,
            width: 60,
            color: false,
            flat: true,
        };
        assert_eq!(
            draw(&entries, &layout),
            "      1234 D ELECTION raft    S0 T1 timeout\n"
        );
    }
}
