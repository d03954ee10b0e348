//! The counters of one actor.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::hist;

/// Shared counters; written by the actor (and by senders for `queued`), read by the tracer.
pub(crate) struct Counters {
    name: String,
    kind: &'static str,
    rank: u32,
    created: Instant,
    /// Messages handed to the actor's mailbox.
    queued: AtomicU64,
    /// Messages the actor has handled.
    msgs_in: AtomicU64,
    /// Messages the actor has sent.
    msgs_out: AtomicU64,
    handle_ns_total: AtomicU64,
    handle_ns_max: AtomicU64,
    /// Nanoseconds since `created` of the last handled message (0: never).
    last_active_ns: AtomicU64,
    /// Handling times by bucket (see [`hist`]), for percentiles.
    hist: [AtomicU64; hist::BUCKETS],
}

/// The probe an actor updates as it works. Cloning shares the counters.
#[derive(Clone)]
pub struct Probe(Arc<Counters>);

/// A point-in-time copy of a probe, as reported to tools.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSnapshot {
    pub name: String,
    pub kind: String,
    pub rank: u32,
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub mailbox: u64,
    pub handle_mean_us: f64,
    pub handle_max_us: f64,
    /// Seconds since the last handled message; `None` if it never handled one.
    pub idle_s: Option<f64>,
    pub uptime_s: f64,
    /// Total handling time, for means over a window.
    #[serde(skip)]
    pub handle_ns_total: u64,
    /// Handling-time histogram (see [`hist`]), for percentiles over a window.
    #[serde(skip)]
    pub hist: Vec<u64>,
}

impl Probe {
    /// A probe for the actor `name` of the given kind (`module`, `session`, `broker`, ...).
    pub fn new(name: impl Into<String>, kind: &'static str, rank: u32) -> Self {
        Probe(Arc::new(Counters {
            name: name.into(),
            kind,
            rank,
            created: Instant::now(),
            queued: AtomicU64::new(0),
            msgs_in: AtomicU64::new(0),
            msgs_out: AtomicU64::new(0),
            handle_ns_total: AtomicU64::new(0),
            handle_ns_max: AtomicU64::new(0),
            last_active_ns: AtomicU64::new(0),
            hist: std::array::from_fn(|_| AtomicU64::new(0)),
        }))
    }

    pub(crate) fn from_counters(c: Arc<Counters>) -> Self {
        Probe(c)
    }

    pub(crate) fn downgrade(&self) -> Weak<Counters> {
        Arc::downgrade(&self.0)
    }

    /// A sender put a message in this actor's mailbox.
    pub fn queued(&self) {
        self.0.queued.fetch_add(1, Relaxed);
    }

    /// The actor sent a message.
    pub fn sent(&self) {
        self.0.msgs_out.fetch_add(1, Relaxed);
    }

    /// Start timing the handling of one message; the guard records it when dropped.
    pub fn handling(&self) -> Handling {
        Handling {
            probe: self.clone(),
            start: Instant::now(),
        }
    }

    fn record(&self, start: Instant, elapsed: Duration) {
        let c = &self.0;
        let ns = elapsed.as_nanos() as u64;
        c.msgs_in.fetch_add(1, Relaxed);
        c.handle_ns_total.fetch_add(ns, Relaxed);
        c.handle_ns_max.fetch_max(ns, Relaxed);
        c.hist[hist::bucket(ns)].fetch_add(1, Relaxed);
        let since = start.saturating_duration_since(c.created).as_nanos() as u64;
        c.last_active_ns.store(since.max(1), Relaxed);
    }

    /// An id for this probe that stays the same for its life (for series over time).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The actor's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Copy the counters.
    pub fn snapshot(&self) -> ProbeSnapshot {
        let c = &self.0;
        let msgs_in = c.msgs_in.load(Relaxed);
        let queued = c.queued.load(Relaxed);
        let total = c.handle_ns_total.load(Relaxed);
        let last = c.last_active_ns.load(Relaxed);
        let uptime = c.created.elapsed();
        ProbeSnapshot {
            name: c.name.clone(),
            kind: c.kind.to_string(),
            rank: c.rank,
            msgs_in,
            msgs_out: c.msgs_out.load(Relaxed),
            // Only messages that went through `queued` are counted as waiting.
            mailbox: queued.saturating_sub(msgs_in),
            handle_mean_us: if msgs_in == 0 {
                0.0
            } else {
                total as f64 / msgs_in as f64 / 1e3
            },
            handle_max_us: c.handle_ns_max.load(Relaxed) as f64 / 1e3,
            idle_s: (last != 0).then(|| {
                uptime
                    .saturating_sub(Duration::from_nanos(last))
                    .as_secs_f64()
            }),
            uptime_s: uptime.as_secs_f64(),
            handle_ns_total: total,
            hist: c.hist.iter().map(|b| b.load(Relaxed)).collect(),
        }
    }
}

/// Times one message; see [`Probe::handling`].
pub struct Handling {
    probe: Probe,
    start: Instant,
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.probe.record(self.start, self.start.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_messages_and_mailbox_depth() {
        let probe = Probe::new("kvs", "module", 0);
        for _ in 0..3 {
            probe.queued();
        }
        {
            let _h = probe.handling();
        }
        probe.sent();
        let s = probe.snapshot();
        assert_eq!((s.msgs_in, s.msgs_out, s.mailbox), (1, 1, 2));
        assert!(s.idle_s.is_some());
        assert_eq!(s.name, "kvs");
    }

    #[test]
    fn a_fresh_probe_was_never_active() {
        let s = Probe::new("x", "module", 3).snapshot();
        assert_eq!(s.idle_s, None);
        assert_eq!(s.handle_mean_us, 0.0);
        assert_eq!(s.rank, 3);
    }
}
