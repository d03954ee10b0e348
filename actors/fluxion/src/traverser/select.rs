//! The selection walk: visit, prune, explore children, score, choose and mark edges.

use std::collections::BTreeSet;

use super::prune::busy_from;
use super::scoring::{EGroup, EvalEdge, Scoring};
use super::slot::ShareTally;
use super::{JobMeta, Req, Traverser};
use crate::error::MatchError;
use crate::graph::{EdgeId, TypeId, VertexId};
use crate::jobspec::Tristate;
use crate::policy::{MATCH_MET, MATCH_UNMET, MatchPolicy};
use crate::vecmap::VecMap;

/// How a vertex relates to the current jobspec level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MatchKind {
    /// A slot is realised at this vertex (it has children of every slot type).
    Slot,
    /// The vertex type is requested at this level.
    Resource,
    /// Nothing matched yet: an omitted prefix (cluster, rack) is skipped over.
    PristineNone,
    /// Mismatch after matching started, or two requests of one type at one level.
    None,
}

/// The jobspec level being matched against the children of a vertex.
#[derive(Debug, Clone, Copy)]
pub(super) struct Level<'r> {
    pub(super) resources: &'r [Req],
    pub(super) pristine: bool,
    pub(super) excl: bool,
    /// How many shares of the level must be found before dynamic exploration stops.
    pub(super) multiplier: u32,
}

impl Traverser {
    pub(super) fn exclusivity(resources: &[Req], ty: TypeId) -> bool {
        resources
            .iter()
            .any(|r| r.ty == ty && r.exclusive == Tristate::True)
    }

    /// Classifies `u` against the jobspec level (`test`); returns the next level's
    /// resources, the slot count and label.
    fn test<'r>(
        &self,
        u: VertexId,
        resources: &'r [Req],
        pristine: &mut bool,
    ) -> (MatchKind, &'r [Req], u32, &'r str) {
        let uty = self.graph.vertex(u).ty;
        let mut slot: Option<&Req> = None;
        let mut res: Option<&Req> = None;
        let mut nslots = 0;
        let mut matched = false;
        for r in resources {
            if r.ty == uty {
                if matched {
                    return (MatchKind::None, resources, 0, "");
                }
                res = Some(r);
                for c in r.with.iter().filter(|c| c.is_slot) {
                    slot = Some(c);
                    nslots = c.count.effective_max();
                }
                matched = true;
            } else if r.is_slot {
                if matched {
                    return (MatchKind::None, resources, 0, "");
                }
                slot = Some(r);
                nslots = r.count.effective_max();
                matched = true;
            }
        }
        if let Some(s) = slot.filter(|s| self.slot_match(u, s)) {
            *pristine = false;
            return (MatchKind::Slot, &s.with, nslots, &s.label);
        }
        if let Some(r) = res {
            *pristine = false;
            return (MatchKind::Resource, &r.with, nslots, "");
        }
        let kind = if *pristine {
            MatchKind::PristineNone
        } else {
            MatchKind::None
        };
        (kind, resources, nslots, "")
    }

    /// `dom_discover_vtx`: node-centric policies add the node factor to every score inside
    /// the node's subtree, so the node choice outranks the ids below it.
    fn discover(&mut self, u: VertexId) {
        let v = self.graph.vertex(u);
        if self.policy.node_centric && v.ty == self.node_ty {
            self.last_node_factor = MatchPolicy::node_factor(v.id, v.uniq_id);
            self.multilevel += self.last_node_factor;
        }
    }

    /// Post-order check of the children counts and best-k choice (`dom_finish_vtx`).
    fn finish_vtx(
        &mut self,
        u: VertexId,
        resources: &[Req],
        dfu: &mut Scoring,
    ) -> Result<(), MatchError> {
        let (uty, uid) = (self.graph.vertex(u).ty, self.graph.vertex(u).id);
        let mut score = MATCH_MET;
        for r in resources.iter().filter(|r| r.ty == uty) {
            for c in &r.with {
                let count = c.count.select(dfu.qualified_count(c.ty));
                if count == 0 {
                    score = MATCH_UNMET;
                    break;
                }
                dfu.choose_best_k(c.ty, count, self.policy.preference);
            }
        }
        if self.policy.node_centric && uty == self.node_ty {
            self.multilevel -= self.last_node_factor;
        }
        dfu.overall = if score != MATCH_MET {
            score
        } else if self.policy.variation {
            score + MatchPolicy::perf_class(&self.graph.vertex(u).properties)
        } else {
            score + self.multilevel + uid + 1
        };
        if score == MATCH_MET {
            Ok(())
        } else {
            Err(MatchError::Busy)
        }
    }

    fn child_group(dfu: &Scoring, x: bool, e: EdgeId) -> EGroup {
        let count = dfu.avail;
        EGroup {
            score: dfu.overall,
            count,
            needs: 0,
            exclusive: x,
            root: false,
            label: String::new(),
            edges: vec![EvalEdge {
                count,
                needs: count,
                exclusive: x,
                edge: Some(e),
            }],
        }
    }

    /// Explores the children of `u` (static or dynamic order); Ok if any matched.
    pub(super) fn explore(
        &mut self,
        meta: &JobMeta,
        u: VertexId,
        level: Level,
        dfu: &mut Scoring,
    ) -> Result<(), MatchError> {
        let Level {
            resources,
            pristine,
            excl,
            multiplier,
        } = level;
        let mut any = false;
        if !self.policy.stop_on_1_matches {
            let children: Vec<EdgeId> = self.dom_children(u).collect();
            for e in children {
                let tgt = self.graph.edge(e).target;
                if self.visited(tgt) {
                    continue;
                }
                let mut x = excl;
                if self
                    .dom_dfv(meta, tgt, resources, pristine, &mut x, dfu)
                    .is_ok()
                {
                    let ty = self.graph.vertex(tgt).ty;
                    dfu.add(ty, Self::child_group(dfu, x, e));
                    any = true;
                }
            }
            return if any { Ok(()) } else { Err(MatchError::Busy) };
        }
        let mut tallies: VecMap<TypeId, ShareTally> = VecMap::new();
        for r in resources {
            tallies.entry_or(r.ty, ShareTally::default()).per_share = r.count.effective_max();
        }
        let mut sat: BTreeSet<TypeId> = BTreeSet::new();
        // The order set of `u` is only re-keyed by updates, never during a select, and
        // the walk below never revisits `u`; borrow it out instead of copying it, since
        // stopping early is the point of this order.
        let order = std::mem::take(&mut self.by_outedges[u.idx()]);
        for &(_, _, e) in &order {
            let edge = self.graph.edge(e);
            let tgt = edge.target;
            if edge.subsystem != self.dom
                || self.visited(tgt)
                || sat.contains(&self.graph.vertex(tgt).ty)
            {
                continue;
            }
            let mut x = excl;
            if self
                .dom_dfv(meta, tgt, resources, pristine, &mut x, dfu)
                .is_err()
            {
                continue;
            }
            let ty = self.graph.vertex(tgt).ty;
            dfu.add(ty, Self::child_group(dfu, x, e));
            any = true;
            for (t, tally) in tallies.iter_mut() {
                let total = dfu.total_count(*t);
                if total > tally.prev_total {
                    let delta = total - tally.prev_total;
                    tally.prev_total = total;
                    tally.add(delta);
                }
            }
            let done = |r: &Req| tallies.get(&r.ty).is_some_and(|t| t.shares >= multiplier);
            for r in resources.iter().filter(|r| done(r)) {
                sat.insert(r.ty);
            }
            if resources.iter().all(done) {
                break;
            }
        }
        self.by_outedges[u.idx()] = order;
        if any { Ok(()) } else { Err(MatchError::Busy) }
    }

    /// Depth-first visit of `u` (`dom_dfv`). On success `to_parent` receives `u`'s
    /// availability and score plus any candidates not yet enforced.
    pub(crate) fn dom_dfv(
        &mut self,
        meta: &JobMeta,
        u: VertexId,
        resources: &[Req],
        pristine: bool,
        excl: &mut bool,
        to_parent: &mut Scoring,
    ) -> Result<(), MatchError> {
        let uty = self.graph.vertex(u).ty;
        let x_in = *excl || Self::exclusivity(resources, uty);
        let mut check_pres = pristine;
        let (kind, next, nslots, label) = if self.flexible {
            let (k, n, s) = self.test_flexible(u, resources, &mut check_pres);
            (k, n, s, "")
        } else {
            self.test(u, resources, &mut check_pres)
        };
        self.preorder += 1;
        if kind == MatchKind::None {
            return Err(MatchError::Busy);
        }
        self.prune(meta, x_in, u, resources)?;
        self.discover(u);
        self.vs[u.idx()].color = self.epoch;
        let mut dfu = Scoring::new();
        if kind == MatchKind::Slot && self.flexible {
            let _ = self.dom_slot_flexible(meta, u, next, nslots, check_pres, &mut dfu);
        } else if kind == MatchKind::Slot {
            let _ = self.dom_slot(meta, u, next, nslots, check_pres, label, &mut dfu);
        } else {
            let level = Level {
                resources: next,
                pristine: check_pres,
                excl: x_in,
                multiplier: 1,
            };
            let _ = self.explore(meta, u, level, &mut dfu);
        }
        *excl = x_in;
        let avail = self.vs[u.idx()]
            .plans
            .avail_during(meta.at, meta.duration)
            .map_err(busy_from)?;
        if avail == 0 {
            return Err(MatchError::Busy);
        }
        self.finish_vtx(u, resources, &mut dfu)?;
        let overall = dfu.overall;
        self.resolve(dfu, to_parent);
        to_parent.avail = u32::try_from(avail).unwrap_or(u32::MAX);
        to_parent.overall = overall;
        self.postorder += 1;
        Ok(())
    }

    fn resolve(&mut self, dfu: Scoring, to_parent: &mut Scoring) {
        if dfu.overall > MATCH_UNMET {
            if dfu.hier_constrain_now() {
                self.enforce(&dfu, false);
            } else {
                to_parent.merge(dfu);
            }
        }
    }

    pub(super) fn mark(&mut self, e: EdgeId, needs: i64, exclusive: bool) {
        self.marked.push(e);
        let s = &mut self.es[e.idx()];
        s.needs = needs;
        s.exclusive = exclusive;
        s.seq = self.seq;
    }

    /// Marks the chosen edges; with `unconstrained`, also marks shared parent edges up to
    /// the root for chosen resources whose ancestors were not chosen themselves.
    fn enforce(&mut self, dfu: &Scoring, unconstrained: bool) {
        for t in dfu.types() {
            for g in dfu.chosen(t).iter().filter(|g| !g.root) {
                for ee in &g.edges {
                    let Some(e) = ee.edge else { continue };
                    self.mark(e, ee.needs as i64, ee.exclusive);
                    if !unconstrained {
                        continue;
                    }
                    let mut parent_v = self.graph.edge(e).source;
                    while let Some(pe) = self.graph.parent_edge(parent_v, self.dom) {
                        if self.es[pe.idx()].seq == self.seq {
                            break;
                        }
                        parent_v = self.graph.edge(pe).source;
                        let tgt = self.graph.edge(pe).target;
                        let tty = self.graph.vertex(tgt).ty;
                        if dfu.contains(tty) && dfu.best_k(tty) == 0 {
                            let size = self.graph.vertex(tgt).size;
                            self.mark(pe, size, false);
                        }
                    }
                }
            }
        }
    }

    /// One full selection at `meta.at` (`select`): walk from the root, choose at the top
    /// level and mark the root's virtual edge.
    pub(crate) fn select(
        &mut self,
        reqs: &[Req],
        meta: &JobMeta,
        excl: bool,
    ) -> Result<(), MatchError> {
        self.seq += 1;
        self.marked.clear();
        self.new_epoch();
        self.preorder = 0;
        self.postorder = 0;
        let root = self.root;
        let mut dfu = Scoring::new();
        let mut x_in = excl;
        self.dom_dfv(meta, root, reqs, true, &mut x_in, &mut dfu)?;
        let root_ty = self.graph.vertex(root).ty;
        let avail = dfu.avail;
        dfu.add(
            root_ty,
            EGroup {
                score: dfu.overall,
                count: avail,
                needs: 0,
                exclusive: excl,
                root: true,
                label: String::new(),
                edges: vec![EvalEdge {
                    count: avail,
                    needs: avail,
                    exclusive: excl,
                    edge: None,
                }],
            },
        );
        let needs = self
            .resolve_graph(root_ty, reqs, &mut dfu)
            .ok_or(MatchError::Unsatisfiable)?;
        self.rt_edge = super::EdgeSched {
            needs: needs as i64,
            exclusive: x_in,
            seq: self.seq,
            weight: 0,
        };
        Ok(())
    }

    fn resolve_graph(&mut self, root_ty: TypeId, reqs: &[Req], dfu: &mut Scoring) -> Option<u32> {
        // dom_finish_graph
        let mut runs_scores: Vec<i64> = Vec::new();
        for r in reqs {
            let count = r.count.select(dfu.qualified_count(r.ty));
            if count == 0 {
                self.multilevel = 0;
                return None;
            }
            if self.policy.locality {
                // Runs accumulate over the top-level types, as the C++ comparator's set does.
                runs_scores.extend(dfu.scores(r.ty));
                let runs = MatchPolicy::score_runs(&runs_scores);
                let before = |a: &EGroup, b: &EGroup| {
                    MatchPolicy::run_of(&runs, a.score) > MatchPolicy::run_of(&runs, b.score)
                };
                dfu.choose_best_k_by(r.ty, count, &before);
            } else {
                dfu.choose_best_k(r.ty, count, self.policy.preference);
            }
        }
        self.multilevel = 0;
        let mut needs = 1;
        for r in reqs.iter().filter(|r| r.ty == root_ty) {
            let count = r.count.select(dfu.avail);
            if count == 0 {
                return None;
            }
            needs = count;
        }
        if dfu.types().iter().any(|t| dfu.qualified_count(*t) == 0) {
            return None;
        }
        self.enforce(dfu, true);
        Some(needs)
    }
}
