//! A small map backed by a vector, for the handful of resource types a match deals
//! with: no hashing and no allocation until the first insert.

/// Insertion-ordered map with linear lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: PartialEq + Copy, V> VecMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        self.0.iter().find(|(x, _)| x == k).map(|(_, v)| v)
    }

    /// The value of `k`, inserting `default` first if absent.
    pub fn entry_or(&mut self, k: K, default: V) -> &mut V {
        let i = match self.0.iter().position(|(x, _)| *x == k) {
            Some(i) => i,
            None => {
                self.0.push((k, default));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    /// Sets the value of `k`.
    pub fn insert(&mut self, k: K, v: V) {
        match self.0.iter_mut().find(|(x, _)| *x == k) {
            Some((_, old)) => *old = v,
            None => self.0.push((k, v)),
        }
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Mutable entries in insertion order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: PartialEq + Copy, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(it: I) -> Self {
        let mut m = Self::new();
        for (k, v) in it {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map() {
        let mut m: VecMap<u32, i64> = VecMap::new();
        *m.entry_or(1, 0) += 5;
        *m.entry_or(1, 0) += 5;
        m.insert(2, 7);
        m.insert(2, 8);
        assert_eq!(m.get(&1), Some(&10));
        assert_eq!(m.get(&2), Some(&8));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        let n: VecMap<u32, i64> = m.into_iter().collect();
        assert!(!n.is_empty());
    }
}
