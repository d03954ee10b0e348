//! Tiny vector-backed job maps for per-vertex bookkeeping: a vertex is touched by a few
//! jobs at a time, so a linear scan beats tree or hash maps in both memory and speed.

/// jobid -> span id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobMap(Vec<(i64, i64)>);

impl JobMap {
    /// An empty map (no allocation).
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Whether no job is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `job` is recorded.
    pub fn contains_key(&self, job: &i64) -> bool {
        self.0.iter().any(|(j, _)| j == job)
    }

    /// The value of `job`.
    pub fn get(&self, job: &i64) -> Option<&i64> {
        self.0.iter().find(|(j, _)| j == job).map(|(_, v)| v)
    }

    /// Sets the value of `job`, returning the previous one.
    pub fn insert(&mut self, job: i64, value: i64) -> Option<i64> {
        match self.0.iter_mut().find(|(j, _)| *j == job) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((job, value));
                None
            }
        }
    }

    /// Removes `job`, returning its value.
    pub fn remove(&mut self, job: &i64) -> Option<i64> {
        let i = self.0.iter().position(|(j, _)| j == job)?;
        Some(self.0.swap_remove(i).1)
    }

    /// The recorded jobs.
    pub fn keys(&self) -> impl Iterator<Item = &i64> {
        self.0.iter().map(|(j, _)| j)
    }
}

/// A set of job ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSet(Vec<i64>);

impl JobSet {
    /// An empty set (no allocation).
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Whether `job` is in the set.
    pub fn contains(&self, job: &i64) -> bool {
        self.0.contains(job)
    }

    /// Adds `job`; false if it was present.
    pub fn insert(&mut self, job: i64) -> bool {
        if self.contains(&job) {
            return false;
        }
        self.0.push(job);
        true
    }

    /// Removes `job`; false if it was absent.
    pub fn remove(&mut self, job: &i64) -> bool {
        match self.0.iter().position(|j| j == job) {
            Some(i) => {
                self.0.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The jobs.
    pub fn iter(&self) -> impl Iterator<Item = &i64> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_and_set() {
        let mut m = JobMap::new();
        assert_eq!(m.insert(3, 30), None);
        assert_eq!(m.insert(3, 31), Some(30));
        assert_eq!(m.get(&3), Some(&31));
        assert_eq!(m.remove(&3), Some(31));
        assert!(m.is_empty());
        let mut s = JobSet::new();
        assert!(s.insert(1) && !s.insert(1));
        assert!(s.remove(&1) && !s.remove(&1));
    }
}
