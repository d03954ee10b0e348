//! Set algebra on resource sets, per rank and per resource type, as a scheduler needs
//! to allocate (intersect/subtract from the pool) and free (union back).
//!
//! Results keep `self`'s times, nslots and scheduling data; properties are restricted
//! to the ranks that remain. Ranks left with no cores and no GPUs are dropped.

use std::collections::BTreeMap;

use super::{Node, RError, ResourceSet};
use crate::idset::IdSet;

impl ResourceSet {
    /// Resources in both sets.
    pub fn intersect(&self, other: &ResourceSet) -> ResourceSet {
        self.combine(|rank, n| {
            let o = other.node(rank)?;
            Some((n.cores.intersection(&o.cores), n.gpus.intersection(&o.gpus)))
        })
    }

    /// Resources of `self` not in `other` (e.g. the pool minus an allocation).
    pub fn subtract(&self, other: &ResourceSet) -> ResourceSet {
        self.combine(|rank, n| match other.node(rank) {
            Some(o) => Some((n.cores.difference(&o.cores), n.gpus.difference(&o.gpus))),
            None => Some((n.cores.clone(), n.gpus.clone())),
        })
    }

    /// Resources in either set (e.g. freeing an allocation back into the pool). Host
    /// names must agree on shared ranks; properties are merged.
    pub fn union(&self, other: &ResourceSet) -> Result<ResourceSet, RError> {
        let mut out = self.clone();
        for o in other.nodes() {
            match out.nodes.get_mut(&o.rank) {
                Some(n) => {
                    match (&n.hostname, &o.hostname) {
                        (Some(a), Some(b)) if a != b => {
                            return Err(RError::HostnameMismatch(o.rank));
                        }
                        (None, Some(b)) => n.hostname = Some(b.clone()),
                        _ => {}
                    }
                    n.cores = n.cores.union(&o.cores);
                    n.gpus = n.gpus.union(&o.gpus);
                }
                None => {
                    out.nodes.insert(o.rank, o.clone());
                }
            }
        }
        for (name, ranks) in other.properties() {
            let entry = out.properties.entry(name.clone()).or_default();
            *entry = entry.union(ranks);
        }
        Ok(out)
    }

    /// True if every core and GPU of `other` is in `self`.
    pub fn contains(&self, other: &ResourceSet) -> bool {
        other.nodes().all(|o| {
            self.node(o.rank)
                .is_some_and(|n| o.cores.is_subset(&n.cores) && o.gpus.is_subset(&n.gpus))
        })
    }

    /// Only the given ranks (e.g. what a partial `release` returns).
    pub fn copy_ranks(&self, ranks: &IdSet) -> ResourceSet {
        self.combine(|rank, n| {
            ranks
                .contains(rank)
                .then(|| (n.cores.clone(), n.gpus.clone()))
        })
    }

    /// All but the given ranks.
    pub fn remove_ranks(&self, ranks: &IdSet) -> ResourceSet {
        self.combine(|rank, n| (!ranks.contains(rank)).then(|| (n.cores.clone(), n.gpus.clone())))
    }

    /// Rebuild with new (cores, gpus) per rank from `f`; `None` or empty drops the rank.
    fn combine<F>(&self, f: F) -> ResourceSet
    where
        F: Fn(u32, &Node) -> Option<(IdSet, IdSet)>,
    {
        let nodes: BTreeMap<u32, Node> = self
            .nodes()
            .filter_map(|n| {
                let (cores, gpus) = f(n.rank, n)?;
                let node = Node {
                    rank: n.rank,
                    hostname: n.hostname.clone(),
                    cores,
                    gpus,
                };
                (!node.is_empty()).then_some((n.rank, node))
            })
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
