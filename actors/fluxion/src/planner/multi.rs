//! A set of planners, one per resource type, updated together (subtree pruning filters).

use std::collections::{BTreeSet, HashMap};

use super::{Planner, SpanId};
use crate::error::PlannerError;
use crate::graph::TypeId;

#[derive(Debug, Clone)]
struct MultiSpan {
    at: i64,
    duration: i64,
    counts: Vec<i64>,
    ids: Vec<Option<SpanId>>,
}

/// Planners over several resource types sharing one time window.
#[derive(Debug, Clone)]
pub struct PlannerMulti {
    types: Vec<TypeId>,
    planners: Vec<Planner>,
    /// multi-span id -> its window, counts and per-planner span ids (None where 0).
    spans: HashMap<SpanId, MultiSpan>,
    next_span: SpanId,
}

impl PlannerMulti {
    /// One planner per `(type, total)` over `[base, base + duration)`.
    pub fn new(base: i64, duration: i64, totals: &[(TypeId, i64)]) -> Self {
        Self {
            types: totals.iter().map(|(t, _)| *t).collect(),
            planners: totals
                .iter()
                .map(|(_, n)| Planner::new(base, duration, *n))
                .collect(),
            spans: HashMap::new(),
            next_span: 0,
        }
    }

    /// The tracked types, in planner order.
    pub fn types(&self) -> &[TypeId] {
        &self.types
    }

    /// Number of live multi-spans.
    pub fn span_count(&self) -> usize {
        self.spans.len()
    }

    /// Start of the window.
    pub fn base(&self) -> i64 {
        self.planners.first().map(Planner::base).unwrap_or(0)
    }

    /// Length of the window.
    pub fn duration(&self) -> i64 {
        self.planners.first().map(Planner::duration).unwrap_or(0)
    }

    /// Request vector in planner order from a type → count lookup (0 where absent).
    pub fn counts_for(&self, lookup: impl Fn(TypeId) -> i64) -> Vec<i64> {
        self.types.iter().map(|t| lookup(*t)).collect()
    }

    /// Units of planner `i` free at `t`.
    pub fn avail_at(&self, t: i64, i: usize) -> Result<i64, PlannerError> {
        self.planners
            .get(i)
            .ok_or(PlannerError::Invalid)?
            .avail_at(t)
    }

    /// Whether every count is free during `[at, at + d)`. ERANGE if one exceeds a total.
    pub fn avail_during(&self, at: i64, d: i64, counts: &[i64]) -> Result<bool, PlannerError> {
        let mut ok = true;
        for (p, n) in self.planners.iter().zip(counts) {
            if !p.avail_during_n(at, d, *n)? {
                ok = false;
            }
        }
        Ok(ok)
    }

    /// Adds one span per type (types with count 0 get none).
    pub fn add_span(&mut self, at: i64, d: i64, counts: &[i64]) -> Result<SpanId, PlannerError> {
        let mut ids = Vec::with_capacity(self.planners.len());
        for (i, p) in self.planners.iter_mut().enumerate() {
            let n = counts.get(i).copied().unwrap_or(0);
            if n == 0 {
                ids.push(None);
                continue;
            }
            match p.add_span(at, d, n) {
                Ok(id) => ids.push(Some(id)),
                Err(e) => {
                    // Roll back what was added so the set stays consistent.
                    for (j, id) in ids.iter().enumerate() {
                        if let Some(id) = id {
                            let _ = self.planners_rem(j, *id);
                        }
                    }
                    return Err(e);
                }
            }
        }
        let id = self.next_span;
        self.next_span += 1;
        let counts = (0..self.planners.len())
            .map(|i| counts.get(i).copied().unwrap_or(0))
            .collect();
        self.spans.insert(
            id,
            MultiSpan {
                at,
                duration: d,
                counts,
                ids,
            },
        );
        Ok(id)
    }

    fn planners_rem(&mut self, i: usize, id: SpanId) -> Result<(), PlannerError> {
        self.planners
            .get_mut(i)
            .ok_or(PlannerError::Invalid)?
            .rem_span(id)
    }

    /// Removes a multi-span.
    pub fn rem_span(&mut self, id: SpanId) -> Result<(), PlannerError> {
        let span = self.spans.remove(&id).ok_or(PlannerError::UnknownSpan)?;
        for (i, sid) in span.ids.into_iter().enumerate() {
            if let Some(sid) = sid {
                self.planners_rem(i, sid)?;
            }
        }
        Ok(())
    }

    /// Lowers the counts of span `id` by `released` (partial release). Returns the id of
    /// the span that replaces it, or None when nothing is left.
    pub fn reduce_span(
        &mut self,
        id: SpanId,
        released: &[i64],
    ) -> Result<Option<SpanId>, PlannerError> {
        let span = self
            .spans
            .get(&id)
            .ok_or(PlannerError::UnknownSpan)?
            .clone();
        let left: Vec<i64> = span
            .counts
            .iter()
            .enumerate()
            .map(|(i, c)| (c - released.get(i).copied().unwrap_or(0)).max(0))
            .collect();
        self.rem_span(id)?;
        if left.iter().all(|c| *c == 0) {
            return Ok(None);
        }
        self.add_span(span.at, span.duration, &left).map(Some)
    }

    /// Earliest time `>= on_or_after` (or a later state-change point of any planner)
    /// where all counts fit for `d`.
    pub fn avail_time_first(
        &self,
        on_or_after: i64,
        d: i64,
        counts: &[i64],
    ) -> Result<i64, PlannerError> {
        self.avail_times(on_or_after, d, counts)?
            .next()
            .ok_or(PlannerError::NoPoint)
    }

    /// All candidate times, in order, where the counts fit (lazy).
    pub fn avail_times<'a>(
        &'a self,
        on_or_after: i64,
        d: i64,
        counts: &'a [i64],
    ) -> Result<impl Iterator<Item = i64> + 'a, PlannerError> {
        for (p, n) in self.planners.iter().zip(counts) {
            if *n > p.total() {
                return Err(PlannerError::Range);
            }
        }
        let mut points: BTreeSet<i64> = BTreeSet::new();
        points.insert(on_or_after);
        for p in &self.planners {
            points.extend(p.points_after(on_or_after));
        }
        let end = self.base().saturating_add(self.duration());
        Ok(points
            .into_iter()
            .take_while(move |t| t.checked_add(d).is_some_and(|e| e <= end))
            .filter(move |t| self.avail_during(*t, d, counts).unwrap_or(false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_spans_move_together() {
        let (a, b) = (TypeId(0), TypeId(1));
        let mut m = PlannerMulti::new(0, 100, &[(a, 4), (b, 2)]);
        let s = m.add_span(0, 10, &[4, 1]).unwrap();
        assert!(!m.avail_during(0, 5, &[1, 0]).unwrap());
        assert!(m.avail_during(0, 5, &[0, 1]).unwrap());
        assert_eq!(m.avail_time_first(1, 5, &[1, 1]).unwrap(), 10);
        assert_eq!(m.avail_during(0, 5, &[5, 0]), Err(PlannerError::Range));
        let s = m.reduce_span(s, &[2, 0]).unwrap().unwrap();
        assert!(m.avail_during(0, 5, &[2, 0]).unwrap());
        assert!(!m.avail_during(0, 5, &[3, 0]).unwrap());
        assert_eq!(m.reduce_span(s, &[2, 1]).unwrap(), None);
        assert_eq!(m.avail_time_first(1, 5, &[4, 2]).unwrap(), 1);
        assert_eq!(m.counts_for(|t| if t == b { 7 } else { 0 }), vec![0, 7]);
    }
}
