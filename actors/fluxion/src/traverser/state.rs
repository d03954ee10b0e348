//! Per-vertex and per-edge scheduling state, and the pruning filter configuration.

use std::collections::{BTreeMap, BTreeSet};

use super::jobmap::{JobMap, JobSet};
use crate::error::ConfigError;
use crate::graph::{Interner, TypeId};
use crate::planner::{Planner, PlannerMulti};

/// Total of every exclusivity checker ("job slots").
pub const X_CHECKER_NJOBS: i64 = 0x4000_0000;

/// Per-job bookkeeping of one vertex; most vertices never hold a job, so it is boxed
/// and created on first use.
#[derive(Debug, Clone, Default)]
pub struct JobBook {
    /// jobid -> span in `plans` for allocations.
    pub allocations: JobMap,
    /// jobid -> span in `plans` for reservations.
    pub reservations: JobMap,
    /// Jobs that touch the vertex.
    pub tags: JobSet,
    /// jobid -> span in `x_checker`.
    pub x_spans: JobMap,
    /// jobid -> span in `subplan`.
    pub job2span: JobMap,
}

static NO_JOBS: JobBook = JobBook {
    allocations: JobMap::new(),
    reservations: JobMap::new(),
    tags: JobSet::new(),
    x_spans: JobMap::new(),
    job2span: JobMap::new(),
};

/// Scheduling state of one vertex.
#[derive(Debug, Clone)]
pub struct VertexSched {
    /// Exclusive spans over the vertex's own size.
    pub plans: Planner,
    /// One 1-unit span per job touching the vertex.
    pub x_checker: Planner,
    /// Subtree aggregate filter (dominant subsystem), if the vertex tracks any type.
    pub subplan: Option<PlannerMulti>,
    jobs: Option<Box<JobBook>>,
    /// Traversal colour epoch (visited when equal to the traverser's epoch).
    pub color: u64,
}

impl VertexSched {
    /// Fresh state for a vertex of `size` units over `[base, base + duration)`.
    pub fn new(base: i64, duration: i64, size: i64) -> Self {
        Self {
            plans: Planner::new(base, duration, size),
            x_checker: Planner::new(base, duration, X_CHECKER_NJOBS),
            subplan: None,
            jobs: None,
            color: 0,
        }
    }

    /// The jobs booked on this vertex.
    pub fn jobs(&self) -> &JobBook {
        self.jobs.as_deref().unwrap_or(&NO_JOBS)
    }

    /// Mutable bookkeeping, created on first use.
    pub fn jobs_mut(&mut self) -> &mut JobBook {
        self.jobs.get_or_insert_with(Box::default)
    }
}

/// Traversal marks on one edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeSched {
    /// Units chosen below the edge by the last match that marked it.
    pub needs: i64,
    /// Exclusive claim.
    pub exclusive: bool,
    /// Match sequence number that marked the edge.
    pub seq: u64,
    /// Dynamic-order weight (`first` policy).
    pub weight: u64,
}

impl Default for EdgeSched {
    fn default() -> Self {
        Self {
            needs: 0,
            exclusive: false,
            seq: 0,
            weight: u64::MAX,
        }
    }
}

/// Pruning filter spec: which aggregate types are tracked at which vertex types.
#[derive(Debug, Clone, Default)]
pub struct PruneFilters {
    /// anchor type (None = ALL) -> tracked type names, sorted.
    anchors: BTreeMap<Option<String>, BTreeSet<String>>,
}

impl PruneFilters {
    /// Parses `HL:LL[,HL:LL...]` (`ALL` = any type); empty = no filters.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let mut f = Self::default();
        for pair in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (hl, ll) = pair
                .split_once(':')
                .ok_or_else(|| ConfigError::BadFilter(spec.to_string()))?;
            if hl.is_empty() || ll.is_empty() {
                return Err(ConfigError::BadFilter(spec.to_string()));
            }
            let anchor = if hl == "ALL" {
                None
            } else {
                Some(hl.to_string())
            };
            f.anchors.entry(anchor).or_default().insert(ll.to_string());
        }
        Ok(f)
    }

    /// Tracks `ll` at vertices of type `hl`.
    pub fn add(&mut self, hl: &str, ll: &str) {
        self.anchors
            .entry(Some(hl.to_string()))
            .or_default()
            .insert(ll.to_string());
    }

    /// Whether `ty` is tracked anywhere.
    pub fn is_pruning_type(&self, ty: &str) -> bool {
        self.anchors.values().any(|s| s.contains(ty))
    }

    /// Types tracked at a vertex of type `anchor`: its own set, then the ALL set minus itself.
    pub fn types_for(&self, anchor: &str, names: &mut Interner) -> Vec<TypeId> {
        let mut out = Vec::new();
        if let Some(own) = self.anchors.get(&Some(anchor.to_string())) {
            out.extend(own.iter().map(|t| names.intern_type(t)));
        }
        if let Some(all) = self.anchors.get(&None) {
            out.extend(
                all.iter()
                    .filter(|t| *t != anchor)
                    .map(|t| names.intern_type(t)),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_types_exclude_the_anchor() {
        let mut f = PruneFilters::parse("ALL:core,ALL:node").unwrap();
        f.add("cluster", "gpu");
        let mut names = Interner::default();
        let node = f.types_for("node", &mut names);
        assert_eq!(node.len(), 1);
        assert_eq!(names.type_name(node[0]), "core");
        let cluster: Vec<String> = f
            .types_for("cluster", &mut names)
            .iter()
            .map(|t| names.type_name(*t).to_string())
            .collect();
        assert_eq!(cluster, ["gpu", "core", "node"]);
        assert!(f.is_pruning_type("gpu"));
        assert!(!f.is_pruning_type("memory"));
        assert!(PruneFilters::parse("ALL").is_err());
        assert!(PruneFilters::parse("").unwrap().anchors.is_empty());
    }
}
