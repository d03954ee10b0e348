//! The broker's log ring (`flux dmesg`): the most recent entries, oldest dropped first.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Severity names of RFC 5424, indexed by level.
pub const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// One log entry as sent to `flux dmesg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    /// Seconds since the epoch.
    pub timestamp: f64,
    pub rank: u32,
    pub severity: u8,
    pub appname: String,
    pub msg: String,
}

/// A bounded ring of log entries.
#[derive(Debug)]
pub struct LogRing {
    entries: VecDeque<LogEntry>,
    capacity: usize,
    next_seq: u64,
}

impl LogRing {
    /// A ring keeping at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        LogRing {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_seq: 0,
        }
    }

    /// Append an entry, assigning its sequence number; returns a copy for followers.
    pub fn append(&mut self, mut entry: LogEntry) -> LogEntry {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry.clone());
        entry
    }

    /// The entries, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(msg: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            timestamp: 0.0,
            rank: 0,
            severity: 6,
            appname: "broker".into(),
            msg: msg.into(),
        }
    }

    #[test]
    fn keeps_the_newest_entries_in_order() {
        let mut ring = LogRing::new(2);
        ring.append(entry("a"));
        ring.append(entry("b"));
        let c = ring.append(entry("c"));
        assert_eq!(c.seq, 2);
        let msgs: Vec<_> = ring.iter().map(|e| e.msg.as_str()).collect();
        assert_eq!(msgs, ["b", "c"]);
        ring.clear();
        assert!(ring.is_empty());
        assert_eq!(ring.append(entry("d")).seq, 3);
    }
}
