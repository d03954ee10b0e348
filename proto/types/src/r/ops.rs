//! Set algebra on resource sets, per rank and per resource type, as a scheduler needs
//! to allocate (intersect/subtract from the pool) and free (union back).
//!
//! Results keep `self`'s times, nslots and scheduling data; properties are restricted
//! to the ranks that remain. Ranks left with no resources are dropped.

use std::collections::BTreeMap;

use super::{Node, RError, ResourceSet};
use crate::idset::IdSet;

impl ResourceSet {
    /// Resources in both sets.
    pub fn intersect(&self, other: &ResourceSet) -> ResourceSet {
        self.rebuild(|n| Some(n.zip_with(other.node(n.rank)?, IdSet::intersection)))
    }

    /// Resources of `self` not in `other` (e.g. the pool minus an allocation).
    pub fn subtract(&self, other: &ResourceSet) -> ResourceSet {
        self.rebuild(|n| match other.node(n.rank) {
            Some(o) => Some(n.zip_with(o, IdSet::difference)),
            None => Some(n.clone()),
        })
    }

    /// Resources in either set (e.g. freeing an allocation back into the pool). Host
    /// names must agree on shared ranks; properties are merged.
    pub fn union(&self, other: &ResourceSet) -> Result<ResourceSet, RError> {
        let mut out = self.clone();
        for o in other.nodes() {
            let merged = match out.nodes.get(&o.rank) {
                Some(n) => {
                    let hostname = match (&n.hostname, &o.hostname) {
                        (Some(a), Some(b)) if a != b => {
                            return Err(RError::HostnameMismatch(o.rank));
                        }
                        (a, b) => a.clone().or_else(|| b.clone()),
                    };
                    Node {
                        hostname,
                        ..n.zip_with(o, IdSet::union)
                    }
                }
                None => o.clone(),
            };
            out.nodes.insert(o.rank, merged);
        }
        for (name, ranks) in other.properties() {
            let entry = out.properties.entry(name.clone()).or_default();
            *entry = entry.union(ranks);
        }
        Ok(out)
    }

    /// True if every resource of `other` is in `self`.
    pub fn contains(&self, other: &ResourceSet) -> bool {
        other
            .nodes()
            .all(|o| self.node(o.rank).is_some_and(|n| o.is_subset_of(n)))
    }

    /// Only the given ranks (e.g. what a partial `release` returns).
    pub fn copy_ranks(&self, ranks: &IdSet) -> ResourceSet {
        self.rebuild(|n| ranks.contains(n.rank).then(|| n.clone()))
    }

    /// All but the given ranks.
    pub fn remove_ranks(&self, ranks: &IdSet) -> ResourceSet {
        self.rebuild(|n| (!ranks.contains(n.rank)).then(|| n.clone()))
    }

    /// Rebuild with each node replaced by `f(node)`; `None` or empty drops the rank.
    fn rebuild<F>(&self, f: F) -> ResourceSet
    where
        F: Fn(&Node) -> Option<Node>,
    {
        let nodes: BTreeMap<u32, Node> = self
            .nodes()
            .filter_map(f)
            .filter(|n| !n.is_empty())
            .map(|n| (n.rank, n))
            .collect();
        let ranks: IdSet = nodes.keys().copied().collect();
        let properties = self
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.intersection(&ranks)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        ResourceSet {
            nodes,
            properties,
            ..self.clone()
        }
    }
}
