//! Per-actor counters: messages in and out, mailbox depth and handling time; and the
//! sampled ring of recent messages each broker keeps ([`TraceRing`]).
//!
//! Every actor owns a [`Probe`]; updating it is a few relaxed atomic adds, so tracing costs
//! almost nothing when nobody looks. The [`Tracer`] actor (one per process) keeps a weak list
//! of all probes, takes snapshots on request (`flux module list`, `flux module stats`) and,
//! once a second, feeds them to an [`Aggregator`] for rates, p99 and sparklines (the
//! dashboard, `flux top`).

mod aggregate;
pub mod hist;
mod probe;
mod ring;

use actix::prelude::*;
use std::sync::Weak;
use std::time::{Duration, Instant};

pub use aggregate::{ActorStats, Aggregator, HISTORY};
use probe::Counters;
pub use probe::{Probe, ProbeSnapshot};
pub use ring::{Sampler, TraceEntry, TraceFilter, TraceRing, jobs_of};

/// How often rates are computed.
const TICK: Duration = Duration::from_secs(1);

/// Holds every probe of this process.
pub struct Tracer {
    probes: Vec<Weak<Counters>>,
    aggregator: Aggregator,
    epoch: Instant,
}

impl Default for Tracer {
    fn default() -> Self {
        Tracer {
            probes: Vec::new(),
            aggregator: Aggregator::default(),
            epoch: Instant::now(),
        }
    }
}

impl Actor for Tracer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(TICK, |act, _| act.tick());
    }
}

impl Tracer {
    fn tick(&mut self) {
        self.probes.retain(|p| p.strong_count() > 0);
        let snaps: Vec<(usize, ProbeSnapshot)> = self
            .probes
            .iter()
            .filter_map(Weak::upgrade)
            .map(|c| {
                let probe = Probe::from_counters(c);
                (probe.id(), probe.snapshot())
            })
            .collect();
        self.aggregator
            .tick(self.epoch.elapsed().as_secs_f64(), snaps);
    }
}

/// The aggregated figures of every actor (of one rank if given), busiest first.
#[derive(Message)]
#[rtype(result = "Vec<ActorStats>")]
pub struct Stats {
    pub rank: Option<u32>,
}

impl Handler<Stats> for Tracer {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, msg: Stats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.aggregator.stats(msg.rank))
    }
}

/// Register a probe with the tracer.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Register(pub Probe);

/// Snapshot every live probe (optionally of one rank only).
#[derive(Message)]
#[rtype(result = "Vec<ProbeSnapshot>")]
pub struct Snapshot {
    pub rank: Option<u32>,
}

impl Handler<Register> for Tracer {
    type Result = ();

    fn handle(&mut self, msg: Register, _: &mut Context<Self>) {
        // Prune dead probes here, so the list stays bounded by the live actors.
        self.probes.retain(|p| p.strong_count() > 0);
        self.probes.push(msg.0.downgrade());
    }
}

impl Handler<Snapshot> for Tracer {
    type Result = MessageResult<Snapshot>;

    fn handle(&mut self, msg: Snapshot, _: &mut Context<Self>) -> Self::Result {
        let snaps = self
            .probes
            .iter()
            .filter_map(Weak::upgrade)
            .map(|c| Probe::from_counters(c).snapshot())
            .filter(|s| msg.rank.is_none_or(|r| r == s.rank))
            .collect();
        MessageResult(snaps)
    }
}
