//! Turns periodic probe snapshots into what the dashboard shows: message rates over a
//! sliding window, mean and p99 handling time over the same window, and a short history of
//! rates for sparklines.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::ProbeSnapshot;
use super::hist;

/// Samples kept per actor for rates (one a tick: the window is this many ticks).
const WINDOW: usize = 5;
/// Rate points kept per actor for sparklines.
pub const HISTORY: usize = 60;

/// One actor as the dashboard shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ActorStats {
    pub name: String,
    pub kind: String,
    pub rank: u32,
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub mailbox: u64,
    /// Messages handled per second over the window.
    pub rate_in: f64,
    /// Messages sent per second over the window.
    pub rate_out: f64,
    /// Mean handling time over the window (over the actor's life if idle in the window).
    pub handle_mean_us: f64,
    /// 99th percentile of handling time, same window rule.
    pub handle_p99_us: f64,
    pub handle_max_us: f64,
    pub idle_s: Option<f64>,
    /// `rate_in` at each of the last ticks, oldest first.
    pub history: Vec<f64>,
}

struct Sample {
    t: f64,
    msgs_in: u64,
    msgs_out: u64,
    ns_total: u64,
    hist: Vec<u64>,
}

struct Series {
    window: VecDeque<Sample>,
    history: VecDeque<f64>,
    latest: ActorStats,
    seen: u64,
}

/// Per-actor series, keyed by probe id.
#[derive(Default)]
pub struct Aggregator {
    series: HashMap<usize, Series>,
    ticks: u64,
}

impl Aggregator {
    /// Take one round of snapshots taken at time `t` (seconds, any origin). Actors absent
    /// from the round are forgotten.
    pub fn tick(&mut self, t: f64, snaps: impl IntoIterator<Item = (usize, ProbeSnapshot)>) {
        self.ticks += 1;
        let tick = self.ticks;
        for (id, snap) in snaps {
            let series = self.series.entry(id).or_insert_with(|| Series {
                window: VecDeque::with_capacity(WINDOW + 1),
                history: VecDeque::with_capacity(HISTORY + 1),
                latest: stats_of(&snap, 0.0, 0.0, None, None, Vec::new()),
                seen: tick,
            });
            series.seen = tick;
            // Counters only grow: smaller ones mean another probe now has this id (an
            // actor gone and a new one in its place), so its past is not this one's.
            if series.window.back().is_some_and(|prev| {
                snap.msgs_in < prev.msgs_in
                    || snap.msgs_out < prev.msgs_out
                    || snap.handle_ns_total < prev.ns_total
            }) {
                series.window.clear();
                series.history.clear();
            }
            series.window.push_back(Sample {
                t,
                msgs_in: snap.msgs_in,
                msgs_out: snap.msgs_out,
                ns_total: snap.handle_ns_total,
                hist: snap.hist.clone(),
            });
            if series.window.len() > WINDOW {
                series.window.pop_front();
            }
            let (first, last) = (&series.window[0], &series.window[series.window.len() - 1]);
            let dt = last.t - first.t;
            let (rate_in, rate_out) = if dt > 0.0 {
                (
                    last.msgs_in.saturating_sub(first.msgs_in) as f64 / dt,
                    last.msgs_out.saturating_sub(first.msgs_out) as f64 / dt,
                )
            } else {
                (0.0, 0.0)
            };
            let handled = last.msgs_in.saturating_sub(first.msgs_in);
            let (mean, p99) = if handled > 0 {
                let delta: Vec<u64> = last
                    .hist
                    .iter()
                    .zip(&first.hist)
                    .map(|(a, b)| a.saturating_sub(*b))
                    .collect();
                (
                    Some(
                        last.ns_total.saturating_sub(first.ns_total) as f64 / handled as f64 / 1e3,
                    ),
                    hist::quantile_ns(&delta, 0.99).map(|ns| ns / 1e3),
                )
            } else {
                (None, None)
            };
            series.history.push_back(rate_in);
            if series.history.len() > HISTORY {
                series.history.pop_front();
            }
            let history = series.history.iter().copied().collect();
            series.latest = stats_of(&snap, rate_in, rate_out, mean, p99, history);
        }
        self.series.retain(|_, s| s.seen == tick);
    }

    /// The latest figures of every actor (of one rank if given), busiest first.
    pub fn stats(&self, rank: Option<u32>) -> Vec<ActorStats> {
        let mut out: Vec<ActorStats> = self
            .series
            .values()
            .filter(|s| rank.is_none_or(|r| r == s.latest.rank))
            .map(|s| s.latest.clone())
            .collect();
        out.sort_by(|a, b| {
            (b.rate_in + b.rate_out)
                .total_cmp(&(a.rate_in + a.rate_out))
                .then_with(|| a.name.cmp(&b.name))
        });
        out
    }
}

fn stats_of(
    snap: &ProbeSnapshot,
    rate_in: f64,
    rate_out: f64,
    mean: Option<f64>,
    p99: Option<f64>,
    history: Vec<f64>,
) -> ActorStats {
    ActorStats {
        name: snap.name.clone(),
        kind: snap.kind.clone(),
        rank: snap.rank,
        msgs_in: snap.msgs_in,
        msgs_out: snap.msgs_out,
        mailbox: snap.mailbox,
        rate_in,
        rate_out,
        handle_mean_us: mean.unwrap_or(snap.handle_mean_us),
        handle_p99_us: p99
            .or_else(|| hist::quantile_ns(&snap.hist, 0.99).map(|ns| ns / 1e3))
            .unwrap_or(0.0),
        handle_max_us: snap.handle_max_us,
        idle_s: snap.idle_s,
        history,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracer::Probe;

    fn handle(probe: &Probe, n: usize) {
        for _ in 0..n {
            probe.queued();
            let _h = probe.handling();
        }
    }

    #[test]
    fn rates_follow_the_window() {
        let probe = Probe::new("kvs", "module", 0);
        let mut agg = Aggregator::default();
        for t in 0..10 {
            handle(&probe, 100);
            probe.sent();
            agg.tick(t as f64, [(probe.id(), probe.snapshot())]);
        }
        let s = &agg.stats(Some(0))[0];
        assert_eq!(s.rate_in, 100.0);
        assert_eq!(s.rate_out, 1.0);
        assert_eq!(s.history.len(), 10);
        assert_eq!(s.history[0], 0.0, "no rate from a single sample");
        assert!(s.handle_p99_us > 0.0);
        // Idle from now on: the rate decays to zero once the window has passed.
        for t in 10..20 {
            agg.tick(t as f64, [(probe.id(), probe.snapshot())]);
        }
        let s = &agg.stats(None)[0];
        assert_eq!(s.rate_in, 0.0);
        assert!(s.handle_mean_us > 0.0, "falls back to the lifetime mean");
        assert_eq!(s.history.len(), HISTORY.min(20));
    }

    #[test]
    fn history_is_bounded_and_gone_actors_are_forgotten() {
        let a = Probe::new("a", "module", 0);
        let b = Probe::new("b", "session", 1);
        let mut agg = Aggregator::default();
        for t in 0..(HISTORY + 10) {
            handle(&a, 1);
            agg.tick(t as f64, [(a.id(), a.snapshot()), (b.id(), b.snapshot())]);
        }
        assert_eq!(agg.stats(None).len(), 2);
        assert_eq!(agg.stats(Some(1)).len(), 1);
        assert_eq!(agg.stats(Some(0))[0].history.len(), HISTORY);
        agg.tick(1000.0, [(b.id(), b.snapshot())]);
        let names: Vec<_> = agg.stats(None).into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn a_new_actor_under_an_old_id_starts_afresh() {
        let old = Probe::new("kvs", "module", 0);
        let mut agg = Aggregator::default();
        for t in 0..3 {
            handle(&old, 50);
            agg.tick(t as f64, [(7, old.snapshot())]);
        }
        // Same id, counters from zero: no wrapped-around rate, no panic.
        let new = Probe::new("kvs", "module", 0);
        handle(&new, 1);
        agg.tick(3.0, [(7, new.snapshot())]);
        let s = &agg.stats(None)[0];
        assert_eq!(s.rate_in, 0.0);
        assert_eq!(s.history.len(), 1);
    }

    #[test]
    fn busiest_first() {
        let (a, b) = (Probe::new("a", "module", 0), Probe::new("b", "module", 0));
        let mut agg = Aggregator::default();
        for t in 0..3 {
            handle(&b, 10);
            handle(&a, 1);
            agg.tick(t as f64, [(a.id(), a.snapshot()), (b.id(), b.snapshot())]);
        }
        assert_eq!(agg.stats(None)[0].name, "b");
    }
}
