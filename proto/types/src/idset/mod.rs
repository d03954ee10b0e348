//! RFC 22 idsets: sets of non-negative integers written `0-3,5,7-9`, optionally in
//! brackets. Stored as sorted, disjoint, non-adjacent inclusive ranges, so `0-1000000`
//! costs one range.

mod ops;
mod parse;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use parse::IdSetError;

/// A set of `u32` ids (ranks, core ids, GPU ids, ...).
///
/// `Display` writes the range-compressed form without brackets (`0-3,7`), as R and
/// eventlogs use it; [`IdSet::to_bracketed`] adds brackets when there is more than one id.
/// `FromStr` accepts ranges, lists and brackets. Serialized as that string in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IdSet {
    /// Sorted by `lo`, disjoint and non-adjacent (`hi + 1 < next.lo`), each `lo <= hi`.
    ranges: Vec<(u32, u32)>,
}

impl IdSet {
    /// The empty set.
    pub fn new() -> Self {
        IdSet::default()
    }

    /// All ids `lo..=hi` (empty if `lo > hi`).
    pub fn from_range(lo: u32, hi: u32) -> Self {
        let mut set = IdSet::new();
        set.insert_range(lo, hi);
        set
    }

    /// True if no ids.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of ids (u64: the full u32 range has 2^32 of them).
    pub fn count(&self) -> u64 {
        self.ranges
            .iter()
            .map(|&(lo, hi)| u64::from(hi - lo) + 1)
            .sum()
    }

    /// Smallest id.
    pub fn first(&self) -> Option<u32> {
        self.ranges.first().map(|r| r.0)
    }

    /// Largest id.
    pub fn last(&self) -> Option<u32> {
        self.ranges.last().map(|r| r.1)
    }

    /// True if `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        let i = self.ranges.partition_point(|&(_, hi)| hi < id);
        self.ranges.get(i).is_some_and(|&(lo, _)| lo <= id)
    }

    /// Add one id; returns true if it was not already present.
    pub fn insert(&mut self, id: u32) -> bool {
        let added = !self.contains(id);
        if added {
            self.insert_range(id, id);
        }
        added
    }

    /// Add all ids `lo..=hi` (nothing if `lo > hi`).
    pub fn insert_range(&mut self, lo: u32, hi: u32) {
        if lo > hi {
            return;
        }
        // Ranges that overlap or touch [lo, hi] get merged with it (u64: hi + 1 may
        // overflow u32).
        let start = self
            .ranges
            .partition_point(|&(_, h)| u64::from(h) + 1 < u64::from(lo));
        let end = self
            .ranges
            .partition_point(|&(l, _)| u64::from(l) <= u64::from(hi) + 1);
        let (mut new_lo, mut new_hi) = (lo, hi);
        if start < end {
            new_lo = new_lo.min(self.ranges[start].0);
            new_hi = new_hi.max(self.ranges[end - 1].1);
        }
        self.ranges.splice(start..end, [(new_lo, new_hi)]);
    }

    /// Remove one id; returns true if it was present.
    pub fn remove(&mut self, id: u32) -> bool {
        let present = self.contains(id);
        if present {
            self.remove_range(id, id);
        }
        present
    }

    /// Remove all ids `lo..=hi`.
    pub fn remove_range(&mut self, lo: u32, hi: u32) {
        if lo > hi {
            return;
        }
        let start = self.ranges.partition_point(|&(_, h)| h < lo);
        let end = self.ranges.partition_point(|&(l, _)| l <= hi);
        if start >= end {
            return;
        }
        let mut keep = Vec::with_capacity(2);
        let (first_lo, _) = self.ranges[start];
        let (_, last_hi) = self.ranges[end - 1];
        if first_lo < lo {
            keep.push((first_lo, lo - 1));
        }
        if last_hi > hi {
            keep.push((hi + 1, last_hi));
        }
        self.ranges.splice(start..end, keep);
    }

    /// Remove all ids.
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            ranges: self.ranges.iter(),
            cur: None,
        }
    }

    /// The maximal runs of consecutive ids, ascending, as `(lo, hi)` inclusive.
    pub fn ranges(&self) -> impl ExactSizeIterator<Item = (u32, u32)> + '_ {
        self.ranges.iter().copied()
    }

    /// The `n`th smallest id (0-based).
    pub fn nth(&self, n: u64) -> Option<u32> {
        let mut n = n;
        for &(lo, hi) in &self.ranges {
            let len = u64::from(hi - lo) + 1;
            if n < len {
                // n < len <= 2^32 and lo + n <= hi, so this fits in u32.
                return Some(lo + n as u32);
            }
            n -= len;
        }
        None
    }

    /// Position of `id` among the ids in ascending order (inverse of [`nth`](Self::nth)).
    pub fn index_of(&self, id: u32) -> Option<u64> {
        let mut before = 0u64;
        for &(lo, hi) in &self.ranges {
            if id < lo {
                return None;
            }
            if id <= hi {
                return Some(before + u64::from(id - lo));
            }
            before += u64::from(hi - lo) + 1;
        }
        None
    }

    /// Range-compressed, with brackets when there is more than one id (`[0-3]`, `5`),
    /// flux-core's `IDSET_FLAG_RANGE | IDSET_FLAG_BRACKETS`.
    pub fn to_bracketed(&self) -> String {
        if self.count() > 1 {
            format!("[{self}]")
        } else {
            self.to_string()
        }
    }
}

/// Iterator over the ids of an [`IdSet`], ascending.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    ranges: std::slice::Iter<'a, (u32, u32)>,
    /// Next id to yield and the end of its range.
    cur: Option<(u32, u32)>,
}

impl Iterator for Iter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let (next, hi) = match self.cur {
            Some(c) => c,
            None => *self.ranges.next()?,
        };
        // `checked_add` stops at u32::MAX instead of overflowing.
        self.cur = next.checked_add(1).filter(|&n| n <= hi).map(|n| (n, hi));
        Some(next)
    }
}

impl<'a> IntoIterator for &'a IdSet {
    type Item = u32;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl FromIterator<u32> for IdSet {
    fn from_iter<T: IntoIterator<Item = u32>>(iter: T) -> Self {
        let mut set = IdSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<u32> for IdSet {
    fn extend<T: IntoIterator<Item = u32>>(&mut self, iter: T) {
        for id in iter {
            self.insert(id);
        }
    }
}

impl fmt::Display for IdSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for IdSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IdSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
