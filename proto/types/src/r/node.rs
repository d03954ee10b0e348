//! The resources of one execution target (rank).

use std::collections::BTreeMap;

use crate::idset::IdSet;

/// The resources of one execution target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    /// Broker rank.
    pub rank: u32,
    /// Host name, if R has a nodelist.
    pub hostname: Option<String>,
    /// Logical core ids.
    pub cores: IdSet,
    /// Logical GPU ids.
    pub gpus: IdSet,
    /// Other child resource types (e.g. Fluxion's `asic`), type -> ids; never empty sets.
    pub other: BTreeMap<String, IdSet>,
}

impl Node {
    /// A node with cores and GPUs only.
    pub fn new(rank: u32, hostname: Option<String>, cores: IdSet, gpus: IdSet) -> Self {
        Node {
            rank,
            hostname,
            cores,
            gpus,
            other: BTreeMap::new(),
        }
    }

    /// True if it has no resources of any type.
    pub fn is_empty(&self) -> bool {
        self.cores.is_empty() && self.gpus.is_empty() && self.other.values().all(IdSet::is_empty)
    }

    /// Non-empty children as (type, ids): `core`, `gpu`, then other types by name (the
    /// order R and the rlist text write them).
    pub fn children(&self) -> impl Iterator<Item = (&str, &IdSet)> {
        [("core", &self.cores), ("gpu", &self.gpus)]
            .into_iter()
            .chain(self.other.iter().map(|(k, v)| (k.as_str(), v)))
            .filter(|(_, ids)| !ids.is_empty())
    }

    /// The ids of child type `kind` (empty if none).
    pub fn child(&self, kind: &str) -> IdSet {
        match kind {
            "core" => self.cores.clone(),
            "gpu" => self.gpus.clone(),
            _ => self.other.get(kind).cloned().unwrap_or_default(),
        }
    }

    /// Set the ids of child type `kind`.
    pub fn set_child(&mut self, kind: &str, ids: IdSet) {
        match kind {
            "core" => self.cores = ids,
            "gpu" => self.gpus = ids,
            _ if ids.is_empty() => {
                self.other.remove(kind);
            }
            _ => {
                self.other.insert(kind.to_string(), ids);
            }
        }
    }

    /// A copy whose every child set is `f(self's ids, other's ids)`.
    pub(super) fn zip_with(&self, other: &Node, f: impl Fn(&IdSet, &IdSet) -> IdSet) -> Node {
        let mut out = Node::new(
            self.rank,
            self.hostname.clone(),
            f(&self.cores, &other.cores),
            f(&self.gpus, &other.gpus),
        );
        for kind in self.other.keys().chain(other.other.keys()) {
            out.set_child(kind, f(&self.child(kind), &other.child(kind)));
        }
        out
    }

    /// True if every resource of `self` is in `other` (ranks not compared).
    pub fn is_subset_of(&self, other: &Node) -> bool {
        self.children()
            .all(|(kind, ids)| ids.is_subset(&other.child(kind)))
    }
}
