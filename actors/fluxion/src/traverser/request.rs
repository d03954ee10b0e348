//! The matcher's view of a jobspec: types resolved to graph type ids, plus the
//! per-resource minimum aggregates used to prune subtrees.

use super::Traverser;
use crate::graph::TypeId;
use crate::jobspec::{Count, Resource, Tristate};
use crate::vecmap::VecMap;

/// One resource request with resolved type.
#[derive(Debug, Clone)]
pub struct Req {
    /// Resolved type.
    pub ty: TypeId,
    /// Whether this is a `slot`.
    pub is_slot: bool,
    /// Requested count.
    pub count: Count,
    /// Explicit exclusivity.
    pub exclusive: Tristate,
    /// Children.
    pub with: Vec<Req>,
    /// Slot label.
    pub label: String,
    /// Minimum aggregate amount of each pruning type below one instance.
    pub user_data: Vec<(TypeId, i64)>,
}

impl Traverser {
    /// Resolves jobspec resources against the graph's type names.
    pub fn resolve_request(&mut self, resources: &[Resource]) -> Vec<Req> {
        resources
            .iter()
            .map(|r| Req {
                ty: self.graph.names.intern_type(&r.ty),
                is_slot: r.ty == "slot",
                count: r.count,
                exclusive: r.exclusive,
                with: self.resolve_request(&r.with),
                label: r.label.clone(),
                user_data: Vec::new(),
            })
            .collect()
    }

    /// Fills `user_data` and returns the whole request's aggregates (`prime_jobspec`).
    /// Explicitly exclusive types are registered for this match.
    pub(crate) fn prime_request(&mut self, reqs: &mut [Req]) -> VecMap<TypeId, i64> {
        let mut to_parent = VecMap::new();
        // Or-slots (flexible traverser) are alternatives: per type, the least any one of
        // them needs (0 where a slot does not use the type) must fit, not the sum.
        let mut or_min: Option<VecMap<TypeId, i64>> = None;
        for r in reqs.iter_mut() {
            if r.exclusive == Tristate::True {
                self.exclusive_types.insert(r.ty);
            }
            self.accum_if(r.ty, r.count.min as i64, &mut to_parent);
            let below = self.prime_request(&mut r.with);
            let mut ud: Vec<(TypeId, i64)> = below.into_iter().collect();
            ud.sort();
            if self.flexible && r.is_slot {
                let mine: VecMap<TypeId, i64> = ud
                    .iter()
                    .map(|(t, n)| (*t, r.count.min as i64 * n))
                    .collect();
                or_min = Some(match or_min.take() {
                    None => mine,
                    Some(prev) => {
                        let mut m = VecMap::new();
                        for t in prev.keys().chain(mine.keys()) {
                            let a = prev.get(t).copied().unwrap_or(0);
                            let b = mine.get(t).copied().unwrap_or(0);
                            m.insert(*t, a.min(b));
                        }
                        m
                    }
                });
            } else {
                for (t, n) in &ud {
                    self.accum_if(*t, r.count.min as i64 * n, &mut to_parent);
                }
            }
            r.user_data = ud;
        }
        for (t, n) in or_min.unwrap_or_default() {
            if self.is_pruning(t) {
                let e = to_parent.entry_or(t, n);
                *e = (*e).min(n);
            }
        }
        to_parent
    }
}
