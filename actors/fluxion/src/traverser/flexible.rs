//! The flexible traverser (`-T flexible`): sibling slots at one level are alternatives
//! ("or-slots"); the best combination is chosen by memoised search over the counts found.

use std::collections::{BTreeMap, HashMap};

use super::scoring::{EGroup, EvalEdge, Scoring};
use super::select::{Level, MatchKind};
use super::{JobMeta, Req, Traverser};
use crate::error::MatchError;
use crate::graph::{TypeId, VertexId};
use crate::policy::MATCH_MET;
use crate::vecmap::VecMap;

/// Available counts per type -> (counts after taking the best slot, slots packable, slot index).
type OrConfig = HashMap<BTreeMap<TypeId, i64>, (BTreeMap<TypeId, i64>, i64, i64)>;

impl Traverser {
    /// `test` of the flexible traverser: a slot list (or-slots) matches when `u` has
    /// direct children for any one of them.
    pub(super) fn test_flexible<'r>(
        &self,
        u: VertexId,
        resources: &'r [Req],
        pristine: &mut bool,
    ) -> (MatchKind, &'r [Req], u32) {
        let uty = self.graph.vertex(u).ty;
        let (mut matched, mut or_matched) = (false, false);
        let mut slots: Option<&'r [Req]> = None;
        let mut res: Option<&'r Req> = None;
        let mut nslots = 0;
        for r in resources {
            if r.ty == uty {
                if matched || or_matched {
                    return (MatchKind::None, resources, 0);
                }
                res = Some(r);
                for c in r.with.iter().filter(|c| c.is_slot) {
                    slots = Some(&r.with);
                    nslots = c.count.effective_max();
                }
                matched = true;
            } else if r.is_slot {
                if matched {
                    return (MatchKind::None, resources, 0);
                }
                slots = Some(resources);
                // As in Fluxion, the last or-slot sibling decides nslots.
                nslots = r.count.effective_max();
                or_matched = true;
            }
        }
        let none = if *pristine {
            MatchKind::PristineNone
        } else {
            MatchKind::None
        };
        if let Some(list) = slots {
            if list.iter().any(|r| self.slot_match(u, r)) {
                *pristine = false;
                return (MatchKind::Slot, list, nslots);
            }
            return (none, resources, nslots);
        }
        if let Some(r) = res {
            *pristine = false;
            return (MatchKind::Resource, &r.with, nslots);
        }
        (none, resources, nslots)
    }

    /// `prune` of the flexible traverser: a failing or-slot filter only fails the visit
    /// when no later resource at the level passes.
    pub(super) fn prune_flexible(
        &self,
        meta: &JobMeta,
        excl: bool,
        u: VertexId,
        resources: &[Req],
    ) -> Result<(), MatchError> {
        self.prune_vertex(meta, u)?;
        let uty = self.graph.vertex(u).ty;
        let mut rc = Ok(());
        for r in resources.iter().filter(|r| r.ty == uty || r.is_slot) {
            if r.is_slot {
                rc = self.by_subplan(meta, u, r);
            } else {
                self.by_excl(meta, u, excl, r)?;
                self.by_subplan(meta, u, r)?;
                rc = Ok(());
            }
        }
        rc
    }

    fn select_or_config(
        slots: &[Req],
        counts: &BTreeMap<TypeId, i64>,
        memo: &mut OrConfig,
    ) -> (BTreeMap<TypeId, i64>, i64, i64) {
        if let Some(c) = memo.get(counts) {
            return c.clone();
        }
        let mut best = -1;
        for (i, slot) in slots.iter().enumerate() {
            let mut updated = counts.clone();
            let mut ok = true;
            for elem in &slot.with {
                let qc = counts.get(&elem.ty).copied().unwrap_or(0).max(0);
                let count = elem.count.select(u32::try_from(qc).unwrap_or(u32::MAX));
                if count == 0 {
                    ok = false;
                    break;
                }
                *updated.entry(elem.ty).or_insert(0) -= count as i64;
            }
            if !ok {
                continue;
            }
            let test = Self::select_or_config(slots, &updated, memo).1;
            if best < test {
                best = test;
                memo.insert(counts.clone(), (updated, best + 1, i as i64));
            }
        }
        if best < 0 {
            memo.insert(counts.clone(), (BTreeMap::new(), 0, -1));
        }
        memo.get(counts)
            .cloned()
            .unwrap_or((BTreeMap::new(), 0, -1))
    }

    /// `dom_slot` of the flexible traverser: explore the union of the or-slots' shapes,
    /// then pack the best combination of alternatives.
    pub(super) fn dom_slot_flexible(
        &mut self,
        meta: &JobMeta,
        u: VertexId,
        slots: &[Req],
        nslots: u32,
        pristine: bool,
        dfu: &mut Scoring,
    ) -> Result<(), MatchError> {
        let mut union: Vec<Req> = Vec::new();
        let mut counts: BTreeMap<TypeId, i64> = BTreeMap::new();
        // One request per type; where or-slots disagree keep the largest count, so that
        // dynamic (first) exploration finds enough for every alternative.
        for r in slots.iter().flat_map(|s| s.with.iter()) {
            match union.iter_mut().find(|u| u.ty == r.ty) {
                Some(u) if u.count.effective_max() < r.count.effective_max() => *u = r.clone(),
                Some(_) => {}
                None => {
                    counts.insert(r.ty, 0);
                    union.push(r.clone());
                }
            }
        }
        let mut ds = Scoring::new();
        let level = Level {
            resources: &union,
            pristine,
            excl: true,
            multiplier: nslots,
        };
        self.explore(meta, u, level, &mut ds)?;
        for t in ds.types() {
            ds.choose_all(t, self.policy.slot_preference());
        }
        for (t, c) in counts.iter_mut() {
            *c = ds.qualified_count(*t) as i64;
        }
        let mut memo = OrConfig::new();
        let mut config = Self::select_or_config(slots, &counts, &mut memo);
        let qual = config.1.max(0);
        let mut cursors: VecMap<TypeId, usize> = VecMap::new();
        let mut groups = Vec::new();
        for _ in 0..qual {
            let Some(slot) = usize::try_from(config.2).ok().and_then(|i| slots.get(i)) else {
                return Err(MatchError::Busy);
            };
            let mut g = EGroup {
                score: MATCH_MET,
                count: 1,
                needs: 0,
                exclusive: true,
                root: false,
                label: String::new(),
                edges: Vec::new(),
            };
            for elem in &slot.with {
                let count = elem.count.select(ds.qualified_count(elem.ty));
                let avail = ds.get(elem.ty).map(|e| e.groups.as_slice()).unwrap_or(&[]);
                let cur = cursors.entry_or(elem.ty, 0);
                let mut j = 0;
                while j < count {
                    let Some(src) = avail.get(*cur) else {
                        return Err(MatchError::Busy);
                    };
                    *cur += 1;
                    let Some(first) = src.edges.first() else {
                        continue;
                    };
                    g.edges.push(EvalEdge {
                        count: first.count,
                        needs: first.count,
                        exclusive: true,
                        edge: first.edge,
                    });
                    g.score += src.score;
                    j += first.count;
                }
            }
            groups.push(g);
            config = memo
                .get(&config.0)
                .cloned()
                .unwrap_or((BTreeMap::new(), 0, 0));
        }
        for g in groups {
            dfu.add(self.slot_ty, g);
        }
        if qual > 0 {
            Ok(())
        } else {
            Err(MatchError::Busy)
        }
    }
}
