//! Per-vertex subsystem paths: a tiny vector map (most vertices live in one subsystem).

use super::SubsystemId;

/// Subsystem -> path of a vertex, sorted by subsystem id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths(Vec<(SubsystemId, String)>);

impl Paths {
    /// The path in `s`, if any.
    pub fn get(&self, s: &SubsystemId) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == s).map(|(_, p)| p)
    }

    /// Sets the path in `s`.
    pub fn insert(&mut self, s: SubsystemId, path: String) {
        match self.0.binary_search_by_key(&s, |(k, _)| *k) {
            Ok(i) => self.0[i].1 = path,
            Err(i) => self.0.insert(i, (s, path)),
        }
    }

    /// (subsystem, path) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&SubsystemId, &String)> {
        self.0.iter().map(|(k, p)| (k, p))
    }

    /// The paths.
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(_, p)| p)
    }

    /// Number of subsystems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the vertex belongs to no subsystem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<&SubsystemId> for Paths {
    type Output = String;
    fn index(&self, s: &SubsystemId) -> &String {
        // Indexing a missing subsystem is a caller bug, as with map indexing.
        self.get(s)
            .unwrap_or_else(|| panic!("no path in subsystem {s:?}"))
    }
}

impl FromIterator<(SubsystemId, String)> for Paths {
    fn from_iter<I: IntoIterator<Item = (SubsystemId, String)>>(it: I) -> Self {
        let mut p = Paths::default();
        for (s, path) in it {
            p.insert(s, path);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_map_semantics() {
        let mut p: Paths = [(SubsystemId(2), "/b".to_string())].into_iter().collect();
        p.insert(SubsystemId(0), "/a".into());
        p.insert(SubsystemId(2), "/c".into());
        assert_eq!(p.len(), 2);
        assert_eq!(p[&SubsystemId(2)], "/c");
        assert_eq!(p.iter().next().map(|(s, _)| *s), Some(SubsystemId(0)));
        assert!(p.get(&SubsystemId(1)).is_none());
    }
}
