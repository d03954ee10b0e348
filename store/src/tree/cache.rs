//! A bounded cache of decoded directory objects by blobref, budgeted in (approximate) bytes.
//!
//! Blobs are immutable, so entries never go stale. Eviction is a cheap two-generation scheme
//! (an approximation of LRU): entries live in `hot`; when `hot` outgrows half the budget it
//! becomes `cold` and the old `cold` is dropped; a hit in `cold` moves the entry back to `hot`.
//! Each directory weighs its approximate heap size, so a few huge directories cannot pin
//! gigabytes the way an entry-count budget let them.

use std::collections::HashMap;

use crate::blobref::Blobref;
use crate::tree::Stored;
use crate::tree::object::TreeObj;

/// Legacy budget, counted in directory entries (see [`DEFAULT_CACHE_BYTES`]).
pub const DEFAULT_CACHE_ENTRIES: usize = 500_000;

/// Approximate bytes per directory entry, to convert an entry budget into bytes.
pub const BYTES_PER_ENTRY: usize = 128;

/// Default budget in bytes: 64 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// Decoded directories by blobref.
pub(crate) struct DirCache {
    hot: HashMap<Blobref, (Stored, usize)>,
    cold: HashMap<Blobref, (Stored, usize)>,
    hot_weight: usize,
    cold_weight: usize,
    generation_budget: usize,
}

/// Approximate heap bytes of one tree object.
fn obj_weight(obj: &TreeObj) -> usize {
    match obj {
        TreeObj::Val(v) => 32 + v.len(),
        TreeObj::ValRef(refs) => 32 + refs.len() * 40,
        TreeObj::DirRef(_) => 48,
        TreeObj::Dir(d) => {
            32 + d
                .iter()
                .map(|(k, v)| 48 + k.len() + obj_weight(v))
                .sum::<usize>()
        }
        TreeObj::Symlink(s) => 64 + s.target.len() + s.namespace.as_ref().map_or(0, String::len),
    }
}

/// Approximate heap bytes of a cached directory.
pub(crate) fn weight(s: &Stored) -> usize {
    match s {
        Stored::Dir(d) => {
            64 + d
                .iter()
                .map(|(k, v)| 48 + k.len() + obj_weight(v))
                .sum::<usize>()
        }
        Stored::Hashed(h) => 64 + h.buckets.len() * 40,
    }
}

impl DirCache {
    /// A cache holding about `budget` bytes of decoded directories.
    pub fn new(budget: usize) -> DirCache {
        DirCache {
            hot: HashMap::new(),
            cold: HashMap::new(),
            hot_weight: 0,
            cold_weight: 0,
            generation_budget: (budget / 2).max(1),
        }
    }

    /// Look up a directory, refreshing it if found.
    pub fn get(&mut self, r: &Blobref) -> Option<Stored> {
        if let Some((d, _)) = self.hot.get(r) {
            return Some(d.clone());
        }
        let (d, w) = self.cold.remove(r)?;
        self.cold_weight -= w;
        self.insert_weighed(*r, d.clone(), w);
        Some(d)
    }

    /// Whether a directory is cached (no refresh).
    pub fn contains(&self, r: &Blobref) -> bool {
        self.hot.contains_key(r) || self.cold.contains_key(r)
    }

    /// Add a directory.
    pub fn insert(&mut self, r: Blobref, dir: Stored) {
        let w = weight(&dir);
        self.insert_weighed(r, dir, w);
    }

    fn insert_weighed(&mut self, r: Blobref, dir: Stored, w: usize) {
        if self.hot.contains_key(&r) {
            return;
        }
        self.hot.insert(r, (dir, w));
        self.hot_weight += w;
        if self.hot_weight > self.generation_budget {
            self.cold = std::mem::take(&mut self.hot);
            self.cold_weight = self.hot_weight;
            self.hot_weight = 0;
        }
    }

    /// Number of cached directories.
    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.hot_weight + self.cold_weight
    }

    /// Drop everything (`content.dropcache`).
    pub fn clear(&mut self) {
        self.hot.clear();
        self.cold.clear();
        self.hot_weight = 0;
        self.cold_weight = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::blobref::HashAlg;
    use crate::tree::object::Dir;

    fn r(i: u32) -> Blobref {
        HashAlg::Sha1.hash(&i.to_be_bytes())
    }

    fn empty() -> Stored {
        Stored::Dir(Arc::new(Dir::new()))
    }

    #[test]
    fn hit_miss_and_eviction() {
        // Empty dirs weigh 64 bytes: four per generation.
        let mut c = DirCache::new(8 * 64);
        for i in 0..3 {
            c.insert(r(i), empty());
        }
        assert!(c.get(&r(0)).is_some());
        assert!(c.get(&r(99)).is_none());
        for i in 3..20 {
            c.insert(r(i), empty());
        }
        // Bounded: at most two generations of about four entries each.
        assert!(c.len() <= 10, "{}", c.len());
        assert!(c.contains(&r(19)));
        assert!(!c.contains(&r(1)));
        assert!(c.bytes() <= 10 * 64);
        c.clear();
        assert_eq!(c.len(), 0);
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn cold_hit_is_promoted() {
        let mut c = DirCache::new(4 * 64);
        c.insert(r(0), empty());
        c.insert(r(1), empty());
        c.insert(r(2), empty()); // rotates: 0,1,2 now cold
        assert!(c.get(&r(0)).is_some()); // back to hot
        c.insert(r(3), empty());
        c.insert(r(4), empty()); // rotates again: cold = {0,3,4}
        assert!(c.contains(&r(0)));
        assert!(!c.contains(&r(1)));
    }

    #[test]
    fn budget_is_in_bytes() {
        let mut big = Dir::new();
        for i in 0..10_000 {
            big.insert(format!("{i:04x}"), TreeObj::Val(vec![0; 100]));
        }
        let big = Stored::Dir(Arc::new(big));
        let w = weight(&big);
        assert!(w > 10_000 * 100, "{w}");
        // A 4 MiB budget holds only a few versions of a 1.8 MB directory.
        let mut c = DirCache::new(4 << 20);
        for i in 0..50 {
            c.insert(r(i), big.clone());
        }
        assert!(c.len() <= 4, "{}", c.len());
        assert!(c.bytes() <= (4 << 20) + 2 * w);
    }
}
