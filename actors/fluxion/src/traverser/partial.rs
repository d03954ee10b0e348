//! Partial cancel: release the part of a job held on some broker ranks (housekeeping,
//! shrink), keeping the rest booked.

use super::Traverser;
use crate::error::MatchError;
use crate::graph::{TypeId, VertexId};
use crate::vecmap::VecMap;

impl Traverser {
    fn holds(&self, v: VertexId, jobid: i64) -> bool {
        let b = self.vs[v.idx()].jobs();
        b.allocations.contains_key(&jobid) || b.reservations.contains_key(&jobid)
    }

    /// Amounts of the pruning types the job booked in the subtree of `u`.
    fn booked_below(&self, u: VertexId, jobid: i64, out: &mut VecMap<TypeId, i64>) {
        if !self.vs[u.idx()].jobs().tags.contains(&jobid) {
            return;
        }
        if self.holds(u, jobid) {
            let v = self.graph.vertex(u);
            self.accum_if(v.ty, v.size, out);
        }
        for e in self.dom_children(u) {
            self.booked_below(self.graph.edge(e).target, jobid, out);
        }
    }

    fn holds_below(&self, u: VertexId, jobid: i64) -> bool {
        self.vs[u.idx()].jobs().tags.contains(&jobid)
            && (self.holds(u, jobid)
                || self
                    .dom_children(u)
                    .any(|e| self.holds_below(self.graph.edge(e).target, jobid)))
    }

    /// The top vertex of `rank` in the dominant subsystem (shortest path).
    fn rank_root(&self, rank: i64) -> Option<VertexId> {
        self.graph
            .by_rank
            .get(&rank)?
            .iter()
            .filter_map(|v| {
                self.graph
                    .vertex(*v)
                    .paths
                    .get(&self.dom)
                    .map(|p| (p.len(), *v))
            })
            .min()
            .map(|(_, v)| v)
    }

    /// Releases what job `jobid` holds on `ranks`. Returns true when the job holds nothing
    /// more, in which case it has been cancelled completely.
    pub fn partial_cancel(&mut self, jobid: i64, ranks: &[i64]) -> Result<bool, MatchError> {
        for &rank in ranks {
            let Some(sub) = self.rank_root(rank) else {
                continue;
            };
            if !self.vs[sub.idx()].jobs().tags.contains(&jobid) {
                continue;
            }
            let mut released = VecMap::new();
            self.booked_below(sub, jobid, &mut released);
            self.new_epoch();
            self.rem_dfv(sub, jobid)?;
            // Ancestors keep their tags until the final cancel; only their aggregate
            // spans shrink.
            let mut cur = sub;
            while let Some(pe) = self.graph.parent_edge(cur, self.dom) {
                cur = self.graph.edge(pe).source;
                let vs = &mut self.vs[cur.idx()];
                let Some(span) = vs.jobs().job2span.get(&jobid).copied() else {
                    continue;
                };
                let Some(p) = vs.subplan.as_mut() else {
                    continue;
                };
                let counts = p.counts_for(|t| released.get(&t).copied().unwrap_or(0));
                match p.reduce_span(span, &counts)? {
                    Some(new) => vs.jobs_mut().job2span.insert(jobid, new),
                    None => vs.jobs_mut().job2span.remove(&jobid),
                };
            }
        }
        if self.holds_below(self.root, jobid) {
            return Ok(false);
        }
        self.cancel(jobid)?;
        Ok(true)
    }
}
