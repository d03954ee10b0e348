//! A bounded cache of decoded directory objects by blobref.
//!
//! Blobs are immutable, so entries never go stale. Eviction is a cheap two-generation scheme
//! (an approximation of LRU): entries live in `hot`; when `hot` outgrows half the budget it
//! becomes `cold` and the old `cold` is dropped; a hit in `cold` moves the entry back to `hot`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::blobref::Blobref;
use crate::tree::object::Dir;

/// Default budget, counted in directory entries (plus one per directory): about 100 bytes
/// each, so roughly 50 MiB.
pub const DEFAULT_CACHE_ENTRIES: usize = 500_000;

/// Decoded directories by blobref.
pub(crate) struct DirCache {
    hot: HashMap<Blobref, Arc<Dir>>,
    cold: HashMap<Blobref, Arc<Dir>>,
    hot_weight: usize,
    generation_budget: usize,
}

impl DirCache {
    /// A cache holding about `budget` directory entries.
    pub fn new(budget: usize) -> DirCache {
        DirCache {
            hot: HashMap::new(),
            cold: HashMap::new(),
            hot_weight: 0,
            generation_budget: (budget / 2).max(1),
        }
    }

    /// Look up a directory, refreshing it if found.
    pub fn get(&mut self, r: &Blobref) -> Option<Arc<Dir>> {
        if let Some(d) = self.hot.get(r) {
            return Some(Arc::clone(d));
        }
        let d = self.cold.remove(r)?;
        self.insert(*r, Arc::clone(&d));
        Some(d)
    }

    /// Whether a directory is cached (no refresh).
    pub fn contains(&self, r: &Blobref) -> bool {
        self.hot.contains_key(r) || self.cold.contains_key(r)
    }

    /// Add a directory.
    pub fn insert(&mut self, r: Blobref, dir: Arc<Dir>) {
        let weight = 1 + dir.len();
        if self.hot.insert(r, dir).is_none() {
            self.hot_weight += weight;
        }
        if self.hot_weight > self.generation_budget {
            self.cold = std::mem::take(&mut self.hot);
            self.hot_weight = 0;
        }
    }

    /// Number of cached directories.
    pub fn len(&self) -> usize {
        self.hot.len() + self.cold.len()
    }

    /// Drop everything (`content.dropcache`).
    pub fn clear(&mut self) {
        self.hot.clear();
        self.cold.clear();
        self.hot_weight = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobref::HashAlg;

    fn r(i: u32) -> Blobref {
        HashAlg::Sha1.hash(&i.to_be_bytes())
    }

    #[test]
    fn hit_miss_and_eviction() {
        let mut c = DirCache::new(8);
        for i in 0..3 {
            c.insert(r(i), Arc::new(Dir::new()));
        }
        assert!(c.get(&r(0)).is_some());
        assert!(c.get(&r(99)).is_none());
        for i in 3..20 {
            c.insert(r(i), Arc::new(Dir::new()));
        }
        // Bounded: at most two generations of four entries each.
        assert!(c.len() <= 10, "{}", c.len());
        assert!(c.contains(&r(19)));
        assert!(!c.contains(&r(1)));
        c.clear();
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn cold_hit_is_promoted() {
        let mut c = DirCache::new(4);
        c.insert(r(0), Arc::new(Dir::new()));
        c.insert(r(1), Arc::new(Dir::new()));
        c.insert(r(2), Arc::new(Dir::new())); // rotates: 0,1,2 now cold
        assert!(c.get(&r(0)).is_some()); // back to hot
        c.insert(r(3), Arc::new(Dir::new()));
        c.insert(r(4), Arc::new(Dir::new())); // rotates again: cold = {0,3,4}
        assert!(c.contains(&r(0)));
        assert!(!c.contains(&r(1)));
    }
}
