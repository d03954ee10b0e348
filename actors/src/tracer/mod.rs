//! Per-actor counters: messages in and out, mailbox depth and handling time.
//!
//! Every actor owns a [`Probe`]; updating it is a few relaxed atomic adds, so tracing costs
//! almost nothing when nobody looks. The [`Tracer`] actor (one per process) keeps a weak list
//! of all probes and takes snapshots on request (`flux module list`, `flux module stats`,
//! later the dashboard).

mod probe;

use actix::prelude::*;
use std::sync::Weak;

use probe::Counters;
pub use probe::{Probe, ProbeSnapshot};

/// Holds every probe of this process.
#[derive(Default)]
pub struct Tracer {
    probes: Vec<Weak<Counters>>,
}

impl Actor for Tracer {
    type Context = Context<Self>;
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
