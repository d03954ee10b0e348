//! The update walk: follow the edges marked by the last select, book spans in the
//! planners and filters, and emit the selected vertices in post-order. Also cancel.

use std::cmp::Reverse;

use super::{AllocType, JobMeta, Traverser};
use crate::error::MatchError;
use crate::graph::{EdgeId, TypeId, VertexId};
use crate::vecmap::VecMap;

/// One emitted vertex or edge of a match, in post-order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitted {
    /// A vertex at `level` (root = 1) with the units taken and exclusivity.
    Vertex {
        /// The vertex.
        v: VertexId,
        /// Depth, root = 1.
        level: u32,
        /// Units taken.
        needs: i64,
        /// Exclusive.
        exclusive: bool,
    },
    /// An edge, emitted after its child's subtree.
    Edge(EdgeId),
}

struct UpdCtx<'a> {
    meta: &'a JobMeta,
    out: &'a mut Vec<Emitted>,
    level: u32,
    /// The select's marked edges sorted by (source, edge id): each vertex's marked
    /// children in adjacency order, without scanning unmarked siblings.
    marked: Vec<(VertexId, EdgeId)>,
}

impl Traverser {
    /// Books the last selection for `meta` and returns what was emitted.
    pub(crate) fn update(&mut self, meta: &JobMeta) -> Result<Vec<Emitted>, MatchError> {
        if self.rt_edge.seq != self.seq {
            return Err(MatchError::Invalid(
                "resource state wasn't set up for update".into(),
            ));
        }
        self.new_epoch();
        let mut out = Vec::new();
        let mut marked: Vec<(VertexId, EdgeId)> = self
            .marked
            .iter()
            .map(|e| (self.graph.edge(*e).source, *e))
            .collect();
        marked.sort_unstable();
        marked.dedup();
        let mut ctx = UpdCtx {
            meta,
            out: &mut out,
            level: 0,
            marked,
        };
        let (needs, excl) = (self.rt_edge.needs, self.rt_edge.exclusive);
        let mut to_parent = VecMap::new();
        let n = self.upd_dfv(&mut ctx, self.root, needs, excl, false, &mut to_parent)?;
        if n == 0 {
            return Err(MatchError::Invalid("nothing was selected".into()));
        }
        Ok(out)
    }

    fn upd_dfv(
        &mut self,
        ctx: &mut UpdCtx,
        u: VertexId,
        needs: i64,
        excl: bool,
        emit_shadow: bool,
        to_parent: &mut VecMap<TypeId, i64>,
    ) -> Result<u32, MatchError> {
        let uty = self.graph.vertex(u).ty;
        let shadow = emit_shadow || self.exclusive_types.contains(&uty);
        let excl = excl || shadow;
        ctx.level += 1;
        self.vs[u.idx()].color = self.epoch;
        let mut dfu: VecMap<TypeId, i64> = VecMap::new();
        let mut n = 0;
        let children: Vec<EdgeId> = if shadow {
            self.dom_children(u).collect()
        } else {
            let from = ctx.marked.partition_point(|(s, _)| *s < u);
            ctx.marked[from..]
                .iter()
                .take_while(|(s, _)| *s == u)
                .map(|(_, e)| *e)
                .collect()
        };
        for e in children {
            let tgt = self.graph.edge(e).target;
            if self.visited(tgt) {
                continue;
            }
            let es = self.es[e.idx()];
            if es.seq != self.seq && !shadow {
                continue;
            }
            let x = es.exclusive || shadow;
            let cneeds = if shadow {
                self.graph.vertex(tgt).size
            } else {
                es.needs
            };
            let sub = self.upd_dfv(ctx, tgt, cneeds, x, shadow, &mut dfu)?;
            if sub > 0 {
                if self.policy.stop_on_1_matches {
                    self.upd_by_outedges(ctx.meta, u, e);
                }
                ctx.out.push(Emitted::Edge(e));
                n += sub;
            }
        }
        let n = self.upd_sched(ctx, u, needs, excl, n, &dfu, to_parent)?;
        ctx.level -= 1;
        Ok(n)
    }

    #[allow(clippy::too_many_arguments)]
    fn upd_sched(
        &mut self,
        ctx: &mut UpdCtx,
        u: VertexId,
        needs: i64,
        excl: bool,
        mut n: u32,
        dfu: &VecMap<TypeId, i64>,
        to_parent: &mut VecMap<TypeId, i64>,
    ) -> Result<u32, MatchError> {
        let meta = ctx.meta;
        let (ty, size) = (self.graph.vertex(u).ty, self.graph.vertex(u).size);
        if excl {
            n += 1;
            let vs = &mut self.vs[u.idx()];
            let span = vs.plans.add_span(meta.at, meta.duration, needs)?;
            match meta.alloc_type {
                AllocType::Alloc => {
                    vs.jobs_mut().allocations.insert(meta.jobid, span);
                }
                AllocType::AllocOrReserve => {
                    vs.jobs_mut().reservations.insert(meta.jobid, span);
                }
                AllocType::Satisfiability => {}
            }
        }
        if n > 0 {
            let vs = &mut self.vs[u.idx()];
            vs.jobs_mut().tags.insert(meta.jobid);
            let xs = vs.x_checker.add_span(meta.at, meta.duration, 1)?;
            vs.jobs_mut().x_spans.insert(meta.jobid, xs);
            if let Some(p) = vs.subplan.as_mut().filter(|_| !dfu.is_empty()) {
                let counts = p.counts_for(|t| dfu.get(&t).copied().unwrap_or(0));
                let span = p.add_span(meta.at, meta.duration, &counts)?;
                vs.jobs_mut().job2span.insert(meta.jobid, span);
            }
            self.accum_if(ty, if excl { size } else { size - needs }, to_parent);
            for (t, c) in dfu {
                self.accum_if(*t, *c, to_parent);
            }
            ctx.out.push(Emitted::Vertex {
                v: u,
                level: ctx.level,
                needs,
                exclusive: excl,
            });
        }
        Ok(n)
    }

    /// Re-keys edge `e` of `u` in the dynamic order by the target's current availability
    /// of its last filter type.
    fn upd_by_outedges(&mut self, meta: &JobMeta, u: VertexId, e: EdgeId) {
        let tgt = self.graph.edge(e).target;
        let Some(p) = &self.vs[tgt.idx()].subplan else {
            return;
        };
        let len = p.types().len();
        if len == 0 {
            return;
        }
        let avail = p.avail_at(meta.now, len - 1).unwrap_or(-1);
        if avail == 0 && p.span_count() == 0 {
            return;
        }
        let uniq = self.graph.vertex(tgt).uniq_id;
        let old = self.es[e.idx()].weight;
        let set = &mut self.by_outedges[u.idx()];
        set.remove(&(Reverse(old), Reverse(uniq), e));
        let w = if avail < 0 { 0 } else { avail as u64 };
        self.es[e.idx()].weight = w;
        set.insert((Reverse(w), Reverse(uniq), e));
    }

    /// Releases everything job `jobid` holds (allocations and reservations).
    pub fn cancel(&mut self, jobid: i64) -> Result<(), MatchError> {
        self.new_epoch();
        let root = self.root;
        if self.vs[root.idx()].jobs().tags.contains(&jobid) {
            self.rem_dfv(root, jobid)
        } else {
            // Exhaustive removal when the job was not booked through this root.
            for v in 0..self.vs.len() {
                self.rem_plan(VertexId(v as u32), jobid)?;
            }
            Ok(())
        }
    }

    fn rem_plan(&mut self, u: VertexId, jobid: i64) -> Result<(), MatchError> {
        let vs = &mut self.vs[u.idx()];
        if vs.jobs().allocations.is_empty() && vs.jobs().reservations.is_empty() {
            return Ok(());
        }
        let book = vs.jobs_mut();
        let span = book
            .allocations
            .remove(&jobid)
            .or_else(|| book.reservations.remove(&jobid));
        if let Some(span) = span {
            vs.plans.rem_span(span)?;
        }
        Ok(())
    }

    pub(super) fn rem_dfv(&mut self, u: VertexId, jobid: i64) -> Result<(), MatchError> {
        if !self.vs[u.idx()].jobs().tags.contains(&jobid) {
            return Ok(());
        }
        self.rem_vertex(u, jobid)?;
        let children: Vec<VertexId> = self
            .dom_children(u)
            .map(|e| self.graph.edge(e).target)
            .collect();
        for c in children {
            self.rem_dfv(c, jobid)?;
        }
        Ok(())
    }

    /// Drops what job `jobid` holds on vertex `u` alone (tag, exclusivity and aggregate
    /// spans, allocation or reservation).
    fn rem_vertex(&mut self, u: VertexId, jobid: i64) -> Result<(), MatchError> {
        let vs = &mut self.vs[u.idx()];
        if vs.jobs().tags.contains(&jobid) {
            let book = vs.jobs_mut();
            book.tags.remove(&jobid);
            let (xs, agg) = (book.x_spans.remove(&jobid), book.job2span.remove(&jobid));
            if let Some(s) = xs {
                vs.x_checker.rem_span(s)?;
            }
            if let (Some(s), Some(p)) = (agg, vs.subplan.as_mut()) {
                p.rem_span(s)?;
            }
        }
        self.rem_plan(u, jobid)
    }

    /// Drops every trace of job `jobid` from every vertex, even from a booking walk that
    /// stopped half way (which left the root untagged).
    pub(super) fn forget(&mut self, jobid: i64) -> Result<(), MatchError> {
        for v in 0..self.vs.len() {
            self.rem_vertex(VertexId(v as u32), jobid)?;
        }
        Ok(())
    }
}
