//! Resource set R version 1 (RFC 20): concrete resources (cores and GPUs of execution
//! targets, i.e. broker ranks), as the resource module, scheduler, job-exec and the job
//! shell exchange it.
//!
//! Held per rank; serialized as flux-core's `rlist_to_R` writes it (ranks with identical
//! children grouped, one compressed hostlist, `starttime`/`expiration` always present).

mod json;
mod node;
mod ops;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::hostlist::Hostlist;
use crate::idset::IdSet;

pub use json::RError;
pub use node::Node;

/// Characters not allowed in property names.
const BAD_PROPERTY_CHARS: &[char] = &['!', '&', '\'', '"', '^', '`', '|', '(', ')'];

/// An R version 1 resource set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceSet {
    nodes: BTreeMap<u32, Node>,
    /// Property name -> ranks having it.
    properties: BTreeMap<String, IdSet>,
    /// Start of the allocation, epoch seconds (0 = unset).
    pub starttime: f64,
    /// End of the allocation, epoch seconds (0 = unset).
    pub expiration: f64,
    /// Number of slots, in scheduler allocations.
    pub nslots: Option<u64>,
    /// Opaque scheduler data (`scheduling` key, e.g. Fluxion JGF), passed through.
    pub scheduling: Option<Value>,
}

impl ResourceSet {
    /// An empty set.
    pub fn new() -> Self {
        ResourceSet::default()
    }

    /// Build from `(rank, hostname, cores, gpus)` tuples; errors on a repeated rank.
    pub fn from_nodes<I, S>(nodes: I) -> Result<Self, RError>
    where
        I: IntoIterator<Item = (u32, S, IdSet, IdSet)>,
        S: Into<String>,
    {
        let mut r = ResourceSet::new();
        for (rank, host, cores, gpus) in nodes {
            r.add_node(rank, Some(host.into()), cores, gpus)?;
        }
        Ok(r)
    }

    /// Add one execution target; errors if `rank` is already present.
    pub fn add_node(
        &mut self,
        rank: u32,
        hostname: Option<String>,
        cores: IdSet,
        gpus: IdSet,
    ) -> Result<(), RError> {
        self.insert_node(Node::new(rank, hostname, cores, gpus))
    }

    /// Add a node (with any child types); errors if its rank is already present.
    pub fn insert_node(&mut self, node: Node) -> Result<(), RError> {
        if self.nodes.contains_key(&node.rank) {
            return Err(RError::DuplicateRank(node.rank));
        }
        self.nodes.insert(node.rank, node);
        Ok(())
    }

    /// True if there are no ranks.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The execution targets, by ascending rank.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Node> {
        self.nodes.values()
    }

    /// The execution target `rank`.
    pub fn node(&self, rank: u32) -> Option<&Node> {
        self.nodes.get(&rank)
    }

    /// Number of ranks.
    pub fn nnodes(&self) -> usize {
        self.nodes.len()
    }

    /// Total cores.
    pub fn ncores(&self) -> u64 {
        self.nodes.values().map(|n| n.cores.count()).sum()
    }

    /// Total GPUs.
    pub fn ngpus(&self) -> u64 {
        self.nodes.values().map(|n| n.gpus.count()).sum()
    }

    /// Total resources of child type `kind` (`core`, `gpu`, or another type).
    pub fn count(&self, kind: &str) -> u64 {
        self.nodes.values().map(|n| n.child(kind).count()).sum()
    }

    /// All ranks.
    pub fn ranks(&self) -> IdSet {
        self.nodes.keys().copied().collect()
    }

    /// Host names in rank order (unknown hosts are skipped).
    pub fn nodelist(&self) -> Hostlist {
        self.nodes
            .values()
            .filter_map(|n| n.hostname.as_deref())
            .collect()
    }

    /// Host name of `rank`.
    pub fn hostname(&self, rank: u32) -> Option<&str> {
        self.nodes.get(&rank)?.hostname.as_deref()
    }

    /// Ranks whose host name is `hostname`.
    pub fn ranks_of_host(&self, hostname: &str) -> IdSet {
        self.nodes
            .values()
            .filter(|n| n.hostname.as_deref() == Some(hostname))
            .map(|n| n.rank)
            .collect()
    }

    /// Properties: name -> ranks.
    pub fn properties(&self) -> &BTreeMap<String, IdSet> {
        &self.properties
    }

    /// Ranks having property `name` (empty if none).
    pub fn ranks_with_property(&self, name: &str) -> IdSet {
        self.properties.get(name).cloned().unwrap_or_default()
    }

    /// Add `ranks` to property `name`; the name must be valid and the ranks present.
    pub fn set_property(&mut self, name: &str, ranks: &IdSet) -> Result<(), RError> {
        if name.is_empty() || name.contains(BAD_PROPERTY_CHARS) {
            return Err(RError::PropertyName(name.to_string()));
        }
        let unknown = ranks.difference(&self.ranks());
        if !unknown.is_empty() {
            return Err(RError::PropertyRanks {
                name: name.to_string(),
                ranks: unknown.to_string(),
            });
        }
        if !ranks.is_empty() {
            let entry = self.properties.entry(name.to_string()).or_default();
            *entry = entry.union(ranks);
        }
        Ok(())
    }

    /// Drop instance-local properties (leading `+`), as schedulers must for job R.
    pub fn remove_local_properties(&mut self) {
        self.properties.retain(|name, _| !name.starts_with('+'));
    }

    /// The same resources renumbered 0..n-1 in rank order, as a sub-instance sees them.
    pub fn reranked(&self) -> ResourceSet {
        let map: BTreeMap<u32, u32> = self
            .nodes
            .keys()
            .zip(0u32..)
            .map(|(&r, i)| (r, i))
            .collect();
        let nodes = self
            .nodes
            .values()
            .zip(0u32..)
            .map(|(n, i)| {
                (
                    i,
                    Node {
                        rank: i,
                        ..n.clone()
                    },
                )
            })
            .collect();
        let properties = self
            .properties
            .iter()
            .map(|(k, ranks)| {
                (
                    k.clone(),
                    ranks.iter().filter_map(|r| map.get(&r).copied()).collect(),
                )
            })
            .collect();
        ResourceSet {
            nodes,
            properties,
            ..self.clone()
        }
    }

    /// The compact "rlist" text used in `resource_summary` annotations:
    /// `rank[0-3]/core[0-7] rank4/core0,gpu[0-1]` (core first, brackets only around
    /// more than one id).
    pub fn to_rlist_string(&self) -> String {
        json::group_ranks(self)
            .iter()
            .map(|(ranks, node)| {
                let children: Vec<String> = node
                    .children()
                    .map(|(kind, ids)| format!("{kind}{}", ids.to_bracketed()))
                    .collect();
                format!("rank{}/{}", ranks.to_bracketed(), children.join(","))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests;
