//! The DFU ("depth-first and up") matcher over a resource graph.
//!
//! [`Traverser`] owns the graph and its scheduling state. A match walks the dominant
//! subsystem depth-first ([`select`]), lets the policy score and choose candidates, marks
//! the chosen edges, and then a second walk ([`update`]) books planner spans and emits the
//! selected vertices.

mod admin;
mod find;
mod flexible;
mod jobmap;
mod partial;
mod prune;
mod reconstruct;
mod reconstruct_rv1;
mod request;
mod schedule;
mod scoring;
mod select;
mod slot;
mod state;
mod update;

use std::cmp::Reverse;
use std::collections::BTreeSet;

pub use find::FindExpr;
pub use jobmap::{JobMap, JobSet};
pub use request::Req;
pub use schedule::{MatchOp, MatchOutcome};
pub use scoring::{EGroup, EvalEdge, Scoring};
pub use state::{EdgeSched, JobBook, PruneFilters, VertexSched, X_CHECKER_NJOBS};
pub use update::Emitted;

use crate::error::ConfigError;
use crate::graph::{EdgeId, ResourceGraph, SubsystemId, TypeId, VertexId};
use crate::policy::MatchPolicy;
use crate::vecmap::VecMap;

/// End of the scheduling window used by resource-query (100 years, in seconds).
pub const SYSTEM_MAX_DURATION: i64 = 3_153_600_000;

/// Kind of booking a match makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocType {
    /// Allocation now.
    Alloc,
    /// Allocation or reservation in the future.
    AllocOrReserve,
    /// Probe only; nothing is booked and status is ignored.
    Satisfiability,
}

/// Per-match parameters (`jobmeta_t`).
#[derive(Debug, Clone, Copy)]
pub struct JobMeta {
    /// Job id.
    pub jobid: i64,
    /// Candidate start time.
    pub at: i64,
    /// Current time.
    pub now: i64,
    /// Duration in seconds.
    pub duration: i64,
    /// Booking kind.
    pub alloc_type: AllocType,
}

/// Matcher configuration.
#[derive(Debug, Clone)]
pub struct TraverserConfig {
    /// Match policy.
    pub policy: MatchPolicy,
    /// Pruning filters spec (`HL:LL,...`).
    pub prune_filters: String,
    /// Dominant subsystem name.
    pub subsystem: String,
    /// End of the graph window.
    pub graph_end: i64,
    /// Use the flexible traverser (or-slots).
    pub flexible: bool,
}

impl Default for TraverserConfig {
    fn default() -> Self {
        Self {
            policy: MatchPolicy::default(),
            prune_filters: "ALL:core,ALL:node".into(),
            subsystem: "containment".into(),
            graph_end: SYSTEM_MAX_DURATION,
            flexible: false,
        }
    }
}

/// Dynamic-order key of an out-edge: descending weight, then descending target uniq_id.
type OutEdgeKey = (Reverse<u64>, Reverse<i64>, EdgeId);

/// The matcher: graph, scheduling state and policy.
#[derive(Debug)]
pub struct Traverser {
    /// The resource graph.
    pub graph: ResourceGraph,
    policy: MatchPolicy,
    filters: PruneFilters,
    dom: SubsystemId,
    root: VertexId,
    vs: Vec<VertexSched>,
    es: Vec<EdgeSched>,
    /// Dynamic child order per vertex: descending (weight, uniq_id).
    by_outedges: Vec<BTreeSet<OutEdgeKey>>,
    rt_edge: EdgeSched,
    seq: u64,
    epoch: u64,
    exclusive_types: BTreeSet<TypeId>,
    multilevel: i64,
    last_node_factor: i64,
    node_ty: TypeId,
    slot_ty: TypeId,
    graph_end: i64,
    flexible: bool,
    /// `is_pruning_type` per type id (types interned later fall back to the spec).
    pruning: Vec<bool>,
    /// Number of `node` vertices that are up (the feasibility pre-check).
    nodes_up: usize,
    /// Edges marked by the current select, so the update walk skips unmarked siblings.
    marked: Vec<EdgeId>,
    /// RFC 31 constraint of the request being matched.
    constraint: Option<crate::jobspec::Constraint>,
    preorder: u64,
    postorder: u64,
}

impl Traverser {
    /// Builds a matcher over `graph` and primes its pruning filters.
    pub fn new(mut graph: ResourceGraph, config: &TraverserConfig) -> Result<Self, ConfigError> {
        let dom = graph.names.intern_subsystem(&config.subsystem);
        let root = graph
            .root(dom)
            .ok_or_else(|| ConfigError::NoRoot(config.subsystem.clone()))?;
        let filters = PruneFilters::parse(&config.prune_filters)?;
        let node_ty = graph.names.intern_type("node");
        let slot_ty = graph.names.intern_type("slot");
        let vs = graph
            .vertices
            .iter()
            .map(|v| VertexSched::new(0, i64::MAX, v.size))
            .collect();
        let es = vec![EdgeSched::default(); graph.edge_count()];
        let mut by_outedges = vec![BTreeSet::new(); graph.vertex_count()];
        for (i, e) in graph.edges.iter().enumerate() {
            let uniq = graph.vertex(e.target).uniq_id;
            by_outedges[e.source.idx()].insert((
                Reverse(u64::MAX),
                Reverse(uniq),
                EdgeId(i as u32),
            ));
        }
        let mut exclusive_types = BTreeSet::new();
        if config.policy.node_exclusive {
            exclusive_types.insert(node_ty);
        }
        let mut t = Self {
            graph,
            policy: config.policy.clone(),
            filters,
            dom,
            root,
            vs,
            es,
            by_outedges,
            rt_edge: EdgeSched::default(),
            seq: 0,
            epoch: 1,
            exclusive_types,
            multilevel: 0,
            last_node_factor: 0,
            node_ty,
            slot_ty,
            graph_end: config.graph_end,
            flexible: config.flexible,
            pruning: Vec::new(),
            nodes_up: 0,
            marked: Vec::new(),
            constraint: None,
            preorder: 0,
            postorder: 0,
        };
        t.prime_filters(root, &mut VecMap::new());
        t.refresh_pruning_cache();
        t.nodes_up = t.graph.nodes_up();
        Ok(t)
    }

    /// The match policy.
    pub fn policy(&self) -> &MatchPolicy {
        &self.policy
    }

    /// The root of the dominant subsystem.
    pub fn root(&self) -> VertexId {
        self.root
    }

    /// End of the graph window.
    pub fn graph_end(&self) -> i64 {
        self.graph_end
    }

    /// Scheduling state of vertex `v`.
    pub fn vertex_sched(&self, v: VertexId) -> &VertexSched {
        &self.vs[v.idx()]
    }

    /// Pre-order and post-order visit counts of the last select.
    pub fn visit_counts(&self) -> (u64, u64) {
        (self.preorder, self.postorder)
    }

    fn new_epoch(&mut self) {
        self.epoch += 1;
    }

    fn visited(&self, v: VertexId) -> bool {
        self.vs[v.idx()].color == self.epoch
    }

    fn dom_children(&self, u: VertexId) -> impl Iterator<Item = EdgeId> + '_ {
        self.graph
            .out_edges(u)
            .iter()
            .copied()
            .filter(move |e| self.graph.edge(*e).subsystem == self.dom)
    }

    /// Whether `ty` is tracked by some pruning filter (cached per type id).
    fn is_pruning(&self, ty: TypeId) -> bool {
        match self.pruning.get(ty.0 as usize) {
            Some(p) => *p,
            None => self.filters.is_pruning_type(self.graph.names.type_name(ty)),
        }
    }

    fn refresh_pruning_cache(&mut self) {
        let n = self.graph.names.type_count();
        self.pruning = (0..n)
            .map(|i| {
                self.filters
                    .is_pruning_type(self.graph.names.type_name(TypeId(i as u32)))
            })
            .collect();
    }

    fn accum_if(&self, ty: TypeId, n: i64, to: &mut VecMap<TypeId, i64>) {
        if self.is_pruning(ty) {
            *to.entry_or(ty, 0) += n;
        }
    }

    /// Builds the subtree aggregate filters below `u` (post-order) and returns into
    /// `to_parent` the aggregates `u` contributes.
    fn prime_filters(&mut self, u: VertexId, to_parent: &mut VecMap<TypeId, i64>) {
        self.vs[u.idx()].color = self.epoch;
        let (ty, size) = (self.graph.vertex(u).ty, self.graph.vertex(u).size);
        self.accum_if(ty, size, to_parent);
        if self.graph.out_edges(u).is_empty() {
            let name = self.graph.names.type_name(ty).to_string();
            if !self.filters.is_pruning_type(&name) {
                // Leaf types are tracked at the cluster so the root filter sees them.
                self.filters.add("cluster", &name);
                self.accum_if(ty, size, to_parent);
            }
            return;
        }
        let mut dfv: VecMap<TypeId, i64> = VecMap::new();
        let children: Vec<VertexId> = self
            .dom_children(u)
            .map(|e| self.graph.edge(e).target)
            .collect();
        for c in children {
            if !self.visited(c) {
                self.prime_filters(c, &mut dfv);
            }
        }
        for (t, n) in &dfv {
            self.accum_if(*t, *n, to_parent);
        }
        let anchor = self.graph.names.type_name(ty).to_string();
        let types = self.filters.types_for(&anchor, &mut self.graph.names);
        if types.is_empty() {
            return;
        }
        let totals: Vec<(TypeId, i64)> = types
            .iter()
            .map(|t| (*t, dfv.get(t).copied().unwrap_or(0)))
            .collect();
        self.vs[u.idx()].subplan = Some(crate::planner::PlannerMulti::new(0, i64::MAX, &totals));
    }
}

#[cfg(test)]
mod tests;
