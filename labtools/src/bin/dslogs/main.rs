//! dslogs: a viewer for the per-test debug logs (`LAB_LOG_DIR`), one column
//! per peer, coloured by topic, with filters.
//!
//! ```text
//! cargo run -p labtools --release --bin dslogs -- out/dstest/<time>/failures/<test>/<run>/ --last 200
//! ```
//!
//! See docs/DEBUGGING.md.

mod filter;
mod input;
mod render;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::filter::{Filter, PeerSet, TermRange};
use crate::render::Layout;

/// Show a per-test debug log with one column per peer, coloured by topic.
///
/// Reads the `<test>-<seed>.log` files that tests write when LAB_LOG_DIR is
/// set (dstest keeps them for failing runs).
#[derive(Debug, Parser)]
#[command(name = "dslogs", version, after_help = AFTER_HELP)]
struct Args {
    /// The log file, a directory holding one (e.g. a dstest failure
    /// directory), or `-` for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,

    /// Only these peers, e.g. `0,2`; `-` stands for records without a peer.
    #[arg(short, long, value_name = "LIST")]
    peer: Option<PeerSet>,

    /// Only these terms: `3`, `3..5`, `3..` or `..5` (drops records without a term).
    #[arg(short, long, value_name = "RANGE")]
    term: Option<TermRange>,

    /// Only these topics, e.g. `election,append` (case-insensitive).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    topic: Vec<String>,

    /// Leave out these topics.
    #[arg(short, long, value_name = "LIST", value_delimiter = ',')]
    ignore: Vec<String>,

    /// Only records of these crates, e.g. `raft,rsm`.
    #[arg(long = "crate", value_name = "LIST", value_delimiter = ',')]
    crates: Vec<String>,

    /// Only records whose message contains this text.
    #[arg(short, long, value_name = "TEXT")]
    grep: Option<String>,

    /// Only records at or after this time (seconds since the test started).
    #[arg(long, value_name = "SECS")]
    from: Option<f64>,

    /// Only records at or before this time (seconds since the test started).
    #[arg(long, value_name = "SECS")]
    to: Option<f64>,

    /// Only the last N records that pass the other filters: what happened
    /// just before the failure.
    #[arg(short = 'n', long, value_name = "N")]
    last: Option<usize>,

    /// Number of peer columns [default: the highest peer in the log + 1].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    columns: Option<u16>,

    /// Line width [default: $COLUMNS, else 160].
    #[arg(short, long, value_name = "CHARS", value_parser = clap::value_parser!(u16).range(40..))]
    width: Option<u16>,

    /// One line per record, as in the file (coloured), no columns.
    #[arg(long)]
    flat: bool,

    /// No colours (also when stdout is not a terminal, or NO_COLOR is set).
    #[arg(long)]
    no_color: bool,
}

const AFTER_HELP: &str = "\
Topics and colours: ELECTION yellow, APPEND cyan, COMMIT green, APPLY bright green,
SNAPSHOT magenta, PERSIST blue, CLIENT bright blue, SERVER bright magenta, TEST bold;
warnings and errors red. Records of a peer (messages starting `S<peer> T<term>`)
go in that peer's column; others span the line.

Example: dslogs raft-3a.log --topic election,append --term 2..4 --last 100 | less -R";

fn main() -> ExitCode {
    let args = Args::parse();
    match dslogs(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dslogs: error: {err}");
            ExitCode::from(2)
        }
    }
}

fn dslogs(args: &Args) -> Result<(), String> {
    let entries = match input::resolve(&args.file)? {
        Some(path) => {
            let file =
                std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            input::read_entries(file, &path.display().to_string())?
        }
        None => input::read_entries(std::io::stdin().lock(), "<stdin>")?,
    };
    let micros = |secs: Option<f64>, flag: &str| -> Result<Option<u64>, String> {
        match secs {
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                Err(format!("--{flag} must be a time of zero or more seconds"))
            }
            Some(s) => Ok(Some((s * 1e6).round() as u64)),
            None => Ok(None),
        }
    };
    let upper = |list: &[String]| list.iter().map(|t| t.trim().to_uppercase()).collect();
    let filter = Filter {
        peers: args.peer.clone(),
        terms: args.term,
        topics: upper(&args.topic),
        ignore: upper(&args.ignore),
        crates: args.crates.iter().map(|c| c.trim().to_string()).collect(),
        grep: args.grep.clone(),
        from_micros: micros(args.from, "from")?,
        to_micros: micros(args.to, "to")?,
        last: args.last,
    };
    let columns = args
        .columns
        .map_or_else(|| render::peer_columns(&entries), usize::from);
    let shown = filter.apply(entries);
    let width = args
        .width
        .map(usize::from)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(160);
    let color = !args.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let layout = Layout {
        columns,
        width,
        color,
        flat: args.flat,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = render::render(&shown, &layout, &mut out).and_then(|()| out.flush());
    match written {
        // A closed pipe (`dslogs ... | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("writing: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn filters_parse_from_the_command_line() {
        let args = Args::try_parse_from([
            "dslogs",
            "x.log",
            "--peer",
            "0,2",
            "--term",
            "3..",
            "--topic",
            "election,Append",
            "-n",
            "50",
        ])
        .unwrap();
        assert_eq!(args.peer.unwrap().peers, [0, 2]);
        assert_eq!(args.term.unwrap().low, 3);
        assert_eq!(args.topic, ["election", "Append"]);
        assert_eq!(args.last, Some(50));
        assert!(Args::try_parse_from(["dslogs", "--term", "x"]).is_err());
        assert!(Args::try_parse_from(["dslogs", "--columns", "0"]).is_err());
    }
}
