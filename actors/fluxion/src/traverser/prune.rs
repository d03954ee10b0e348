//! Pruning: skip vertices and subtrees that cannot satisfy the request in the window.

use super::{AllocType, JobMeta, Req, Traverser, X_CHECKER_NJOBS};
use crate::error::{MatchError, PlannerError};
use crate::graph::VertexId;
use crate::jobspec::Tristate;

/// A planner ERANGE while pruning means "not here", never "never".
pub(super) fn busy_from(e: PlannerError) -> MatchError {
    match e {
        PlannerError::Range => MatchError::Busy,
        other => MatchError::Planner(other),
    }
}

impl Traverser {
    /// A slot is realised at `u` when `u` has a direct child of every type in the slot.
    pub(super) fn slot_match(&self, u: VertexId, slot: &Req) -> bool {
        slot.with.iter().all(|c| {
            self.graph
                .out_edges(u)
                .iter()
                .any(|e| self.graph.vertex(self.graph.edge(*e).target).ty == c.ty)
        })
    }

    pub(super) fn by_excl(
        &self,
        meta: &JobMeta,
        u: VertexId,
        excl_in: bool,
        r: &Req,
    ) -> Result<(), MatchError> {
        if excl_in && r.exclusive == Tristate::False {
            return Err(MatchError::Invalid(
                "exclusivity conflicts with a slot".into(),
            ));
        }
        if excl_in || r.exclusive == Tristate::True {
            let vs = &self.vs[u.idx()];
            if meta.alloc_type == AllocType::Alloc && !vs.jobs().allocations.is_empty() {
                return Err(MatchError::Busy);
            }
            if vs
                .x_checker
                .avail_during(meta.at, meta.duration)
                .map_err(busy_from)?
                < X_CHECKER_NJOBS
            {
                return Err(MatchError::Busy);
            }
        }
        Ok(())
    }

    pub(super) fn by_subplan(
        &self,
        meta: &JobMeta,
        u: VertexId,
        r: &Req,
    ) -> Result<(), MatchError> {
        let Some(p) = &self.vs[u.idx()].subplan else {
            return Ok(());
        };
        if r.user_data.is_empty() {
            return Ok(());
        }
        let counts = p.counts_for(|t| {
            r.user_data
                .iter()
                .find(|(ty, _)| *ty == t)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        });
        match p.avail_during(meta.at, meta.duration, &counts) {
            Ok(true) => Ok(()),
            Ok(false) | Err(PlannerError::Range) => Err(MatchError::Busy),
            Err(e) => Err(MatchError::Planner(e)),
        }
    }

    /// Status, RFC 31 constraint and own-availability checks shared by both traversers.
    pub(super) fn prune_vertex(&self, meta: &JobMeta, u: VertexId) -> Result<(), MatchError> {
        let v = self.graph.vertex(u);
        if meta.alloc_type != AllocType::Satisfiability && v.status != crate::graph::Status::Up {
            return Err(MatchError::Busy);
        }
        // Constraints apply to node (and storage_node) vertices only.
        if let Some(c) = &self.constraint
            && (v.ty == self.node_ty || Some(v.ty) == self.graph.names.find_type("storage_node"))
            && !c.matches(v)
        {
            return Err(MatchError::Busy);
        }
        let plans = &self.vs[u.idx()].plans;
        if plans
            .avail_during(meta.at, meta.duration)
            .map_err(busy_from)?
            == 0
        {
            return Err(MatchError::Busy);
        }
        Ok(())
    }

    pub(super) fn prune(
        &self,
        meta: &JobMeta,
        excl: bool,
        u: VertexId,
        resources: &[Req],
    ) -> Result<(), MatchError> {
        if self.flexible {
            return self.prune_flexible(meta, excl, u, resources);
        }
        self.prune_vertex(meta, u)?;
        let v = self.graph.vertex(u);
        for r in resources.iter().filter(|r| r.ty == v.ty || r.is_slot) {
            if !r.is_slot {
                self.by_excl(meta, u, excl, r)?;
            }
            self.by_subplan(meta, u, r)?;
        }
        Ok(())
    }
}
