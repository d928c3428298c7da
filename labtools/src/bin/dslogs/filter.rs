//! Choosing which records to show: peers, terms, topics, crates, text, time, last N.

use std::collections::VecDeque;

use crate::input::Entry;

/// An inclusive range of terms, either end open (`3`, `3..5`, `3..`, `..5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermRange {
    /// Lowest term kept.
    pub low: u64,
    /// Highest term kept.
    pub high: u64,
}

impl std::str::FromStr for TermRange {
    type Err = String;

    fn from_str(text: &str) -> Result<TermRange, String> {
        let number = |s: &str, default: u64| -> Result<u64, String> {
            if s.is_empty() {
                Ok(default)
            } else {
                s.parse().map_err(|_| format!("{s:?} is not a term number"))
            }
        };
        let (low, high) = match text.split_once("..") {
            Some((low, high)) => (number(low, 0)?, number(high, u64::MAX)?),
            None if text.is_empty() => return Err("empty term range".into()),
            None => {
                let term = number(text, 0)?;
                (term, term)
            }
        };
        if low > high {
            return Err(format!("term range {text} is empty (low > high)"));
        }
        Ok(TermRange { low, high })
    }
}

/// Which peers to keep: numbers, and `-` for records without a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerSet {
    /// Peers kept.
    pub peers: Vec<usize>,
    /// Keep records without a peer (clients, the tester).
    pub peerless: bool,
}

impl std::str::FromStr for PeerSet {
    type Err = String;

    fn from_str(text: &str) -> Result<PeerSet, String> {
        let mut set = PeerSet {
            peers: Vec::new(),
            peerless: false,
        };
        for item in text.split(',').map(str::trim) {
            if item == "-" {
                set.peerless = true;
            } else {
                let digits = item.strip_prefix(['S', 's']).unwrap_or(item);
                let peer = digits
                    .parse()
                    .map_err(|_| format!("{item:?} is not a peer number (or - for no peer)"))?;
                set.peers.push(peer);
            }
        }
        Ok(set)
    }
}

/// All the filters of the command line; `None`/empty means "keep all".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep these peers only.
    pub peers: Option<PeerSet>,
    /// Keep records whose term is in range (records without a term are dropped).
    pub terms: Option<TermRange>,
    /// Keep these topics only (upper case).
    pub topics: Vec<String>,
    /// Drop these topics (upper case).
    pub ignore: Vec<String>,
    /// Keep these crates only.
    pub crates: Vec<String>,
    /// Keep messages containing this text.
    pub grep: Option<String>,
    /// Keep records at or after this many microseconds.
    pub from_micros: Option<u64>,
    /// Keep records at or before this many microseconds.
    pub to_micros: Option<u64>,
    /// Keep only the last N records that pass the other filters.
    pub last: Option<usize>,
}

impl Filter {
    /// The entries to show: comments before the first record are always kept,
    /// later comments only if they follow a kept record.
    pub fn apply(&self, entries: Vec<Entry>) -> Vec<Entry> {
        let mut head = Vec::new();
        let mut kept: VecDeque<Entry> = VecDeque::new();
        let mut seen_record = false;
        let mut records = 0;
        for entry in entries {
            match &entry {
                Entry::Comment(_) if !seen_record => head.push(entry),
                Entry::Comment(_) => kept.push_back(entry),
                Entry::Record(record) => {
                    seen_record = true;
                    if !self.keeps(record) {
                        continue;
                    }
                    kept.push_back(entry);
                    records += 1;
                    if let Some(last) = self.last {
                        while records > last {
                            if let Some(Entry::Record(_)) = kept.pop_front() {
                                records -= 1;
                            }
                        }
                    }
                }
            }
        }
        // Comments left at the front of the window belong to cut records.
        if self.last.is_some() {
            while matches!(kept.front(), Some(Entry::Comment(_))) {
                kept.pop_front();
            }
        }
        head.into_iter().chain(kept).collect()
    }

    fn keeps(&self, record: &tester::logging::Record) -> bool {
        if let Some(peers) = &self.peers {
            let ok = match record.peer() {
                Some(peer) => peers.peers.contains(&peer),
                None => peers.peerless,
            };
            if !ok {
                return false;
            }
        }
        if let Some(range) = self.terms
            && !record
                .term()
                .is_some_and(|t| range.low <= t && t <= range.high)
        {
            return false;
        }
        let topic = record.topic.to_uppercase();
        if !self.topics.is_empty() && !self.topics.contains(&topic) {
            return false;
        }
        if self.ignore.contains(&topic) {
            return false;
        }
        if !self.crates.is_empty() && !self.crates.contains(&record.crate_name) {
            return false;
        }
        if let Some(text) = &self.grep
            && !record.message.contains(text.as_str())
        {
            return false;
        }
        if self.from_micros.is_some_and(|from| record.micros < from) {
            return false;
        }
        if self.to_micros.is_some_and(|to| record.micros > to) {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level;
    use tester::logging::Record;

    fn rec(micros: u64, topic: &str, message: &str) -> Entry {
        Entry::Record(Record {
            micros,
            level: Level::Debug,
            topic: topic.into(),
            crate_name: "raft".into(),
            message: message.into(),
        })
    }

    fn sample() -> Vec<Entry> {
        vec![
            Entry::Comment("header".into()),
            rec(1, "ELECTION", "S0 T1 timeout"),
            rec(2, "ELECTION", "S1 T1 vote for S0"),
            rec(3, "APPEND", "S0 T2 append to S1"),
            rec(4, "TEST", "checking one leader"),
            rec(5, "COMMIT", "S2 T3 commit 4"),
            Entry::Comment("test FAILED after 0.1 s".into()),
        ]
    }

    fn times(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Comment(c) => format!("#{c}"),
                Entry::Record(r) => r.micros.to_string(),
            })
            .collect()
    }

    #[test]
    fn term_ranges_parse() {
        assert_eq!("3".parse(), Ok(TermRange { low: 3, high: 3 }));
        assert_eq!("3..5".parse(), Ok(TermRange { low: 3, high: 5 }));
        assert_eq!(
            "3..".parse(),
            Ok(TermRange {
                low: 3,
                high: u64::MAX
            })
        );
        assert_eq!("..5".parse(), Ok(TermRange { low: 0, high: 5 }));
        assert!("5..3".parse::<TermRange>().is_err());
        assert!("x".parse::<TermRange>().is_err());
        assert!("".parse::<TermRange>().is_err());
    }

    #[test]
    fn peer_sets_parse() {
        assert_eq!(
            "0,2".parse(),
            Ok(PeerSet {
                peers: vec![0, 2],
                peerless: false
            })
        );
        assert_eq!(
            "S1, -".parse(),
            Ok(PeerSet {
                peers: vec![1],
                peerless: true
            })
        );
        assert!("x".parse::<PeerSet>().is_err());
    }

    #[test]
    fn no_filter_keeps_everything() {
        assert_eq!(
            times(&Filter::default().apply(sample())),
            [
                "#header",
                "1",
                "2",
                "3",
                "4",
                "5",
                "#test FAILED after 0.1 s"
            ]
        );
    }

    #[test]
    fn peer_term_topic_and_text_filters() {
        let f = Filter {
            peers: Some("0".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "1", "3", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            peers: Some("2,-".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "4", "5", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            terms: Some("2..".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "3", "5", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            topics: vec!["ELECTION".into()],
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "1", "2", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            ignore: vec!["ELECTION".into(), "TEST".into()],
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "3", "5", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            grep: Some("S0".into()),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "1", "2", "3", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            from_micros: Some(2),
            to_micros: Some(3),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "2", "3", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            crates: vec!["kvraft".into()],
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "#test FAILED after 0.1 s"]
        );
    }

    #[test]
    fn last_keeps_the_final_records_and_the_footer() {
        let f = Filter {
            last: Some(2),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "4", "5", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            last: Some(2),
            peers: Some("0,1".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            times(&f.apply(sample())),
            ["#header", "2", "3", "#test FAILED after 0.1 s"]
        );
        let f = Filter {
            last: Some(0),
            ..Default::default()
        };
        assert_eq!(times(&f.apply(sample())), ["#header"]);
    }
}
