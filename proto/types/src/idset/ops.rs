//! Set algebra on [`IdSet`], linear in the number of ranges.

use std::ops::{BitAnd, BitOr, Sub};

use super::IdSet;

impl IdSet {
    /// Ids in either set.
    pub fn union(&self, other: &IdSet) -> IdSet {
        let (a, b) = (&self.ranges, &other.ranges);
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            // Take the range that starts first, then merge it into the tail if they touch.
            let next = if j >= b.len() || (i < a.len() && a[i].0 <= b[j].0) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            match out.last_mut() {
                Some(last) if u64::from(next.0) <= u64::from(last.1) + 1 => {
                    last.1 = last.1.max(next.1);
                }
                _ => out.push(next),
            }
        }
        IdSet { ranges: out }
    }

    /// Ids in both sets.
    pub fn intersection(&self, other: &IdSet) -> IdSet {
        let mut out = Vec::new();
        let (a, b) = (&self.ranges, &other.ranges);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            // Advance whichever range ends first.
            if a[i].1 < b[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        // Pieces of disjoint, non-adjacent inputs are themselves disjoint and non-adjacent.
        IdSet { ranges: out }
    }

    /// Ids in `self` but not in `other`.
    pub fn difference(&self, other: &IdSet) -> IdSet {
        let b = &other.ranges;
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.ranges {
            while j < b.len() && b[j].1 < lo {
                j += 1;
            }
            // `cur` is the start of what is left of [lo, hi]; u64 since hi + 1 may overflow.
            let mut cur = u64::from(lo);
            let mut k = j;
            while k < b.len() && b[k].0 <= hi {
                if u64::from(b[k].0) > cur {
                    // cur < b[k].0 <= u32::MAX, so the casts are lossless.
                    out.push((cur as u32, b[k].0 - 1));
                }
                cur = cur.max(u64::from(b[k].1) + 1);
                k += 1;
            }
            if cur <= u64::from(hi) {
                out.push((cur as u32, hi));
            }
        }
        IdSet { ranges: out }
    }

    /// True if every id of `self` is in `other`.
    pub fn is_subset(&self, other: &IdSet) -> bool {
        self.difference(other).is_empty()
    }

    /// True if the sets share no id.
    pub fn is_disjoint(&self, other: &IdSet) -> bool {
        self.intersection(other).is_empty()
    }
}

impl BitOr for &IdSet {
    type Output = IdSet;

    fn bitor(self, rhs: &IdSet) -> IdSet {
        self.union(rhs)
    }
}

impl BitAnd for &IdSet {
    type Output = IdSet;

    fn bitand(self, rhs: &IdSet) -> IdSet {
        self.intersection(rhs)
    }
}

impl Sub for &IdSet {
    type Output = IdSet;

    fn sub(self, rhs: &IdSet) -> IdSet {
        self.difference(rhs)
    }
}
