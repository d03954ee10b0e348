//! Slot packing (`dom_slot`): bundle whole child groups into task slots.

use super::scoring::{EGroup, EvalEdge, Scoring};
use super::select::Level;
use super::{JobMeta, Req, Traverser};
use crate::error::MatchError;
use crate::graph::{TypeId, VertexId};
use crate::policy::MATCH_MET;
use crate::vecmap::VecMap;

/// Progress toward `multiplier` shares of one type (dynamic exploration, slot packing):
/// whole bundles are accumulated until a share's count is reached.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ShareTally {
    pub(super) per_share: u32,
    pub(super) cur: u32,
    pub(super) shares: u32,
    pub(super) prev_total: u32,
}

impl ShareTally {
    pub(super) fn add(&mut self, n: u32) {
        self.cur += n;
        if self.cur >= self.per_share {
            self.shares += 1;
            self.cur = 0;
        }
    }
}

impl Traverser {
    /// Packs the children of `u` into whole slots (`dom_slot`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dom_slot(
        &mut self,
        meta: &JobMeta,
        u: VertexId,
        shape: &[Req],
        nslots: u32,
        pristine: bool,
        label: &str,
        dfu: &mut Scoring,
    ) -> Result<(), MatchError> {
        let mut ds = Scoring::new();
        let level = Level {
            resources: shape,
            pristine,
            excl: true,
            multiplier: nslots,
        };
        self.explore(meta, u, level, &mut ds)?;
        for t in ds.types() {
            ds.choose_all(t, self.policy.slot_preference());
        }
        // Qualified slots: disjoint bundles of whole groups per type, minimum over types.
        let mut qual = u32::MAX;
        for elem in shape {
            let count = elem.count.select(ds.qualified_count(elem.ty));
            let mut tally = ShareTally {
                per_share: count,
                ..Default::default()
            };
            if count != 0 {
                for g in ds.get(elem.ty).map(|e| e.groups.as_slice()).unwrap_or(&[]) {
                    tally.add(g.edges.first().map(|e| e.count).unwrap_or(0));
                }
            }
            qual = qual.min(if count == 0 { 0 } else { tally.shares });
        }
        let mut cursors: VecMap<TypeId, usize> = VecMap::new();
        let mut slots = Vec::new();
        for _ in 0..qual {
            let mut g = EGroup {
                score: MATCH_MET,
                count: 1,
                needs: 0,
                exclusive: true,
                root: false,
                label: label.to_string(),
                edges: Vec::new(),
            };
            for elem in shape {
                let count = elem.count.select(ds.qualified_count(elem.ty));
                let groups = ds.get(elem.ty).map(|e| e.groups.as_slice()).unwrap_or(&[]);
                let cur = cursors.entry_or(elem.ty, 0);
                let mut j = 0;
                while j < count {
                    let Some(src) = groups.get(*cur) else {
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
            slots.push(g);
        }
        for g in slots {
            dfu.add(self.slot_ty, g);
        }
        if qual > 0 {
            Ok(())
        } else {
            Err(MatchError::Busy)
        }
    }
}
