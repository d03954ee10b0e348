//! Time-based resource planners.
//!
//! A [`Planner`] tracks how many of `total` units of one resource are in use over integer
//! time `[base, base + duration)`. Usage is a step function stored as sorted state-change
//! points; candidate times for "earliest fit" searches are only those points.

mod multi;

pub use multi::PlannerMulti;

use crate::error::PlannerError;

/// Id of a span within one planner.
pub type SpanId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: i64,
    end: i64,
    count: i64,
}

/// One resource's usage over time.
///
/// Vertex planners usually hold a handful of spans, so points and spans live in small
/// sorted vectors (no allocation until the first span).
#[derive(Debug, Clone)]
pub struct Planner {
    base: i64,
    duration: i64,
    total: i64,
    /// (time, units in use from this time until the next point), sorted by time;
    /// usage before the first point is 0.
    points: Vec<(i64, i64)>,
    spans: Vec<(SpanId, Span)>,
    next_span: SpanId,
}

impl Planner {
    /// A planner for `total` units over `[base, base + duration)`.
    pub fn new(base: i64, duration: i64, total: i64) -> Self {
        Self {
            base,
            duration,
            total,
            points: Vec::new(),
            spans: Vec::new(),
            next_span: 0,
        }
    }

    /// Start of the planning window.
    pub fn base(&self) -> i64 {
        self.base
    }

    /// Length of the planning window.
    pub fn duration(&self) -> i64 {
        self.duration
    }

    /// Total units.
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Number of live spans.
    pub fn span_count(&self) -> usize {
        self.spans.len()
    }

    fn end(&self) -> i64 {
        self.base.saturating_add(self.duration)
    }

    fn check_window(&self, at: i64, d: i64) -> Result<(), PlannerError> {
        if d < 1 || at < self.base || at.checked_add(d).is_none_or(|e| e > self.end()) {
            return Err(PlannerError::Invalid);
        }
        Ok(())
    }

    /// Index of the first point after `t`.
    fn after(&self, t: i64) -> usize {
        self.points.partition_point(|(pt, _)| *pt <= t)
    }

    fn used_at(&self, t: i64) -> i64 {
        match self.after(t) {
            0 => 0,
            i => self.points[i - 1].1,
        }
    }

    /// Units free at instant `t`.
    pub fn avail_at(&self, t: i64) -> Result<i64, PlannerError> {
        if t < self.base || t >= self.end() {
            return Err(PlannerError::Invalid);
        }
        Ok(self.total - self.used_at(t))
    }

    /// Units free during the whole window `[at, at + d)`.
    pub fn avail_during(&self, at: i64, d: i64) -> Result<i64, PlannerError> {
        self.check_window(at, d)?;
        let end = at + d;
        let mut max_used = self.used_at(at);
        for (t, used) in &self.points[self.after(at)..] {
            if *t >= end {
                break;
            }
            max_used = max_used.max(*used);
        }
        Ok(self.total - max_used)
    }

    /// Whether `n` units are free during `[at, at + d)`.
    pub fn avail_during_n(&self, at: i64, d: i64, n: i64) -> Result<bool, PlannerError> {
        if n > self.total {
            return Err(PlannerError::Range);
        }
        Ok(self.avail_during(at, d)? >= n)
    }

    fn ensure_point(&mut self, t: i64) {
        let i = self.after(t);
        if t >= self.end() || (i > 0 && self.points[i - 1].0 == t) {
            return;
        }
        let used = self.used_at(t);
        self.points.insert(i, (t, used));
    }

    /// Adds `n` to the usage of every point in `[start, end)`.
    fn shift(&mut self, start: i64, end: i64, n: i64) {
        let from = self.points.partition_point(|(t, _)| *t < start);
        for (t, used) in &mut self.points[from..] {
            if *t >= end {
                break;
            }
            *used += n;
        }
    }

    /// Reserves `n` units over `[at, at + d)`; fails if they are not free.
    pub fn add_span(&mut self, at: i64, d: i64, n: i64) -> Result<SpanId, PlannerError> {
        self.check_window(at, d)?;
        if n < 0 || n > self.total {
            return Err(PlannerError::Range);
        }
        if self.avail_during(at, d)? < n {
            return Err(PlannerError::Range);
        }
        let end = at + d;
        self.ensure_point(at);
        self.ensure_point(end);
        self.shift(at, end, n);
        let id = self.next_span;
        self.next_span += 1;
        self.spans.push((
            id,
            Span {
                start: at,
                end,
                count: n,
            },
        ));
        Ok(id)
    }

    /// Releases a span.
    pub fn rem_span(&mut self, id: SpanId) -> Result<(), PlannerError> {
        let pos = self
            .spans
            .iter()
            .position(|(s, _)| *s == id)
            .ok_or(PlannerError::UnknownSpan)?;
        let (_, span) = self.spans.swap_remove(pos);
        self.shift(span.start, span.end, -span.count);
        // Drop points that no longer change the state.
        self.points.dedup_by(|b, a| a.1 == b.1);
        if self.points.first().is_some_and(|(_, u)| *u == 0) {
            self.points.remove(0);
        }
        Ok(())
    }

    /// State-change points strictly after `t`, in time order.
    pub fn points_after(&self, t: i64) -> impl Iterator<Item = i64> + '_ {
        self.points[self.after(t)..].iter().map(|(t, _)| *t)
    }

    /// Earliest time `>= on_or_after` (that time itself or a later state-change point)
    /// where `n` units are free for `d`.
    pub fn avail_time_first(&self, on_or_after: i64, d: i64, n: i64) -> Result<i64, PlannerError> {
        if n > self.total {
            return Err(PlannerError::Range);
        }
        let candidates = std::iter::once(on_or_after).chain(self.points_after(on_or_after));
        for t in candidates {
            if t.checked_add(d).is_none_or(|e| e > self.end()) {
                break;
            }
            if self.avail_during(t, d)? >= n {
                return Ok(t);
            }
        }
        Err(PlannerError::NoPoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_change_availability() {
        let mut p = Planner::new(0, 1000, 10);
        let a = p.add_span(10, 10, 5).unwrap();
        let _b = p.add_span(20, 10, 3).unwrap();
        assert_eq!(p.avail_at(5).unwrap(), 10);
        assert_eq!(p.avail_at(10).unwrap(), 5);
        assert_eq!(p.avail_at(25).unwrap(), 7);
        assert_eq!(p.avail_during(0, 30).unwrap(), 5);
        assert_eq!(p.avail_during(20, 5).unwrap(), 7);
        // Earliest time for 7 units is t2 (20), for 5 units it is t1 (10).
        assert_eq!(p.avail_time_first(10, 5, 7).unwrap(), 20);
        assert_eq!(p.avail_time_first(10, 5, 5).unwrap(), 10);
        assert_eq!(p.avail_time_first(0, 5, 11), Err(PlannerError::Range));
        p.rem_span(a).unwrap();
        assert_eq!(p.avail_at(10).unwrap(), 10);
        assert_eq!(p.rem_span(a), Err(PlannerError::UnknownSpan));
    }

    #[test]
    fn overbooking_is_refused() {
        let mut p = Planner::new(0, 100, 1);
        p.add_span(0, 50, 1).unwrap();
        assert_eq!(p.add_span(10, 10, 1), Err(PlannerError::Range));
        assert!(p.add_span(50, 10, 1).is_ok());
        assert_eq!(p.avail_time_first(1, 10, 1).unwrap(), 60);
        assert_eq!(p.add_span(90, 20, 1), Err(PlannerError::Invalid));
    }

    #[test]
    fn removal_restores_points() {
        let mut p = Planner::new(0, 100, 4);
        let a = p.add_span(10, 10, 2).unwrap();
        let b = p.add_span(15, 10, 2).unwrap();
        p.rem_span(b).unwrap();
        p.rem_span(a).unwrap();
        assert_eq!(p.points_after(0).count(), 0);
        assert_eq!(p.span_count(), 0);
    }

    proptest::proptest! {
        #[test]
        fn add_then_remove_is_identity(spans in proptest::collection::vec((0i64..90, 1i64..10, 0i64..3), 0..20)) {
            let mut p = Planner::new(0, 100, 8);
            let mut ids = Vec::new();
            for (s, d, n) in spans {
                if let Ok(id) = p.add_span(s, d, n) { ids.push(id); }
                proptest::prop_assert!(p.avail_during(0, 100).unwrap() >= 0);
            }
            for id in ids { p.rem_span(id).unwrap(); }
            proptest::prop_assert_eq!(p.avail_during(0, 100).unwrap(), 8);
        }
    }
}
