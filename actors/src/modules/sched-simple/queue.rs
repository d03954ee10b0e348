//! The pending alloc requests of sched-simple, in scheduling order: higher priority
//! first, then earlier id.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// Orders pending requests; `T` is what the actor keeps per request.
#[derive(Debug)]
pub struct AllocQueue<T> {
    order: BTreeMap<(Reverse<u32>, u64), T>,
    priority: HashMap<u64, u32>,
}

impl<T> Default for AllocQueue<T> {
    fn default() -> Self {
        AllocQueue {
            order: BTreeMap::new(),
            priority: HashMap::new(),
        }
    }
}

impl<T> AllocQueue<T> {
    /// Add a request (replacing one with the same id).
    pub fn push(&mut self, id: u64, priority: u32, item: T) {
        self.remove(id);
        self.priority.insert(id, priority);
        self.order.insert((Reverse(priority), id), item);
    }

    /// Take a request out.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let priority = self.priority.remove(&id)?;
        self.order.remove(&(Reverse(priority), id))
    }

    /// Change a request's priority; false if it is not queued.
    pub fn reprioritize(&mut self, id: u64, priority: u32) -> bool {
        match self.remove(id) {
            Some(item) => {
                self.push(id, priority, item);
                true
            }
            None => false,
        }
    }

    /// The next request to consider.
    pub fn first(&self) -> Option<(u64, &T)> {
        self.order.iter().next().map(|((_, id), item)| (*id, item))
    }

    /// Every request, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.order.iter().map(|((_, id), item)| (*id, item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_then_id() {
        let mut q = AllocQueue::default();
        q.push(3, 16, "c");
        q.push(1, 16, "a");
        q.push(2, 31, "b");
        let order: Vec<u64> = q.iter().map(|(id, _)| id).collect();
        assert_eq!(order, [2, 1, 3]);
        assert!(q.reprioritize(3, 20));
        assert_eq!(q.first(), Some((2, &"b")));
        assert_eq!(q.remove(2), Some("b"));
        assert_eq!(q.first(), Some((3, &"c")));
        assert!(!q.reprioritize(9, 1));
        assert_eq!(q.iter().count(), 2);
    }
}
