//! RFC 29 hostlists: ordered lists of host names written `node[1-4,7],login0`.
//!
//! Stored as runs of consecutive numbered hosts, so `node[0-99999]` costs one run.
//! Formatting merges adjacent hosts sharing a prefix and number width into one bracket
//! expression, preserving order, as flux-core's `hostlist_encode` does.

mod host;
mod parse;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use host::{Host, Run};
pub use parse::HostlistError;

/// An ordered list of host names (duplicates allowed).
///
/// `Display` writes the compressed form (`fluke[6-16,19-23,25]`); `FromStr` parses any
/// RFC 29 hostlist. Serialized as that string in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Hostlist {
    /// Greedily merged: a host is appended to the last run whenever it continues it.
    runs: Vec<Run>,
}

impl Hostlist {
    /// The empty list.
    pub fn new() -> Self {
        Hostlist::default()
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.runs
            .iter()
            .fold(0usize, |n, r| n.saturating_add(r.len()))
    }

    /// True if there are no hosts.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Append one host name.
    pub fn push(&mut self, hostname: &str) {
        self.push_run(Host::parse(hostname).into_run());
    }

    /// Append all hosts of `other`, in order.
    pub fn append(&mut self, other: &Hostlist) {
        for run in &other.runs {
            self.push_run(run.clone());
        }
    }

    fn push_run(&mut self, run: Run) {
        if !self
            .runs
            .last_mut()
            .is_some_and(|last| last.try_extend(&run))
        {
            self.runs.push(run);
        }
    }

    /// The host names, in order.
    pub fn iter(&self) -> impl Iterator<Item = String> + '_ {
        self.runs.iter().flat_map(Run::hosts)
    }

    /// The `n`th host name (0-based).
    pub fn nth(&self, n: usize) -> Option<String> {
        let mut n = n;
        for run in &self.runs {
            let len = run.len();
            if n < len {
                return Some(run.nth(n));
            }
            n -= len;
        }
        None
    }

    /// Index of the first occurrence of `hostname`.
    pub fn index_of(&self, hostname: &str) -> Option<usize> {
        let host = Host::parse(hostname);
        let mut before = 0usize;
        for run in &self.runs {
            if let Some(i) = run.position(&host) {
                return Some(before + i);
            }
            before = before.saturating_add(run.len());
        }
        None
    }

    /// True if `hostname` is in the list.
    pub fn contains(&self, hostname: &str) -> bool {
        self.index_of(hostname).is_some()
    }

    /// Sort hosts by prefix, then numerically (as `hostlist_sort`).
    pub fn sort(&mut self) {
        let mut hosts: Vec<Host> = self.iter().map(|h| Host::parse(&h)).collect();
        hosts.sort();
        *self = Self::from_hosts(hosts);
    }

    /// Sort and remove duplicates (as `hostlist_uniq`).
    pub fn sort_unique(&mut self) {
        let mut hosts: Vec<Host> = self.iter().map(|h| Host::parse(&h)).collect();
        hosts.sort();
        hosts.dedup();
        *self = Self::from_hosts(hosts);
    }

    /// Hosts of `self` that are also in `other`, in `self`'s order.
    pub fn intersection(&self, other: &Hostlist) -> Hostlist {
        let keep: std::collections::HashSet<String> = other.iter().collect();
        self.iter().filter(|h| keep.contains(h)).collect()
    }

    /// Hosts of `self` that are not in `other`, in `self`'s order.
    pub fn difference(&self, other: &Hostlist) -> Hostlist {
        let drop: std::collections::HashSet<String> = other.iter().collect();
        self.iter().filter(|h| !drop.contains(h)).collect()
    }

    /// Hosts in either list, sorted and without duplicates (as `flux hostlist -u`).
    pub fn union(&self, other: &Hostlist) -> Hostlist {
        let mut out = self.clone();
        out.append(other);
        out.sort_unique();
        out
    }

    fn from_hosts(hosts: Vec<Host>) -> Self {
        let mut hl = Hostlist::new();
        for host in hosts {
            hl.push_run(host.into_run());
        }
        hl
    }
}

impl<S: AsRef<str>> FromIterator<S> for Hostlist {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        let mut hl = Hostlist::new();
        hl.extend(iter);
        hl
    }
}

impl<S: AsRef<str>> Extend<S> for Hostlist {
    fn extend<T: IntoIterator<Item = S>>(&mut self, iter: T) {
        for h in iter {
            self.push(h.as_ref());
        }
    }
}

impl fmt::Display for Hostlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        while i < self.runs.len() {
            if i > 0 {
                f.write_str(",")?;
            }
            // Gather the following runs that can share this run's bracket expression.
            let first = &self.runs[i];
            let mut j = i + 1;
            while j < self.runs.len() && first.groups_with(&self.runs[j]) {
                j += 1;
            }
            let group = &self.runs[i..j];
            if group.len() == 1 && group[0].len() == 1 {
                f.write_str(&group[0].nth(0))?;
            } else {
                f.write_str(first.prefix())?;
                f.write_str("[")?;
                for (k, run) in group.iter().enumerate() {
                    if k > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(&run.range_text())?;
                }
                f.write_str("]")?;
            }
            i = j;
        }
        Ok(())
    }
}

impl Serialize for Hostlist {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hostlist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
