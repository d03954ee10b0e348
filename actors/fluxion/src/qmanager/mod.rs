//! Queue manager core (`sched-fluxion-qmanager` without the broker): pending-job order
//! and the queue policies fcfs, easy, hybrid and conservative.
//!
//! One [`QueueManager::schedule`] call is one scheduling loop: it walks up to
//! `queue_depth` pending jobs in priority order and asks the matcher for each. fcfs stops
//! at the first job that cannot start now; the backfill family first drops the previous
//! loop's reservations, reserves for the first `reservation_depth` blocked jobs and lets
//! later jobs start only where they do not delay those reservations.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use crate::error::MatchError;
use crate::jobspec::Jobspec;
use crate::traverser::{MatchOutcome, Traverser};

mod cycle;
mod queues;

pub use cycle::MatchStep;
pub use queues::Queues;

/// Upper bound on reservations per loop (`max-reservation-depth`).
pub const MAX_RESERVATION_DEPTH: usize = 100_000;

/// Queue policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueuePolicy {
    /// First come first served, no backfill.
    Fcfs,
    /// EASY backfill: only the first blocked job gets a reservation.
    Easy,
    /// Up to `reservation_depth` reservations per loop.
    Hybrid,
    /// Every considered job gets a reservation.
    Conservative,
}

impl std::str::FromStr for QueuePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fcfs" => Ok(Self::Fcfs),
            "easy" => Ok(Self::Easy),
            "hybrid" => Ok(Self::Hybrid),
            "conservative" => Ok(Self::Conservative),
            other => Err(format!("unknown queue policy {other}")),
        }
    }
}

/// Queue parameters (`queue-params`, `policy-params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// The policy.
    pub policy: QueuePolicy,
    /// Pending jobs considered per loop.
    pub queue_depth: usize,
    /// Reservations per loop for `hybrid`.
    pub reservation_depth: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            policy: QueuePolicy::Fcfs,
            queue_depth: 32,
            reservation_depth: 64,
        }
    }
}

impl QueueConfig {
    /// Reservations the policy makes per loop.
    pub fn effective_reservation_depth(&self) -> usize {
        match self.policy {
            QueuePolicy::Fcfs => 0,
            QueuePolicy::Easy => 1,
            QueuePolicy::Hybrid => self.reservation_depth.min(MAX_RESERVATION_DEPTH),
            QueuePolicy::Conservative => self.queue_depth.min(MAX_RESERVATION_DEPTH),
        }
    }
}

/// A job waiting for resources.
#[derive(Debug, Clone)]
pub struct PendingJob {
    /// Job id (also the matcher's job id).
    pub id: i64,
    /// Priority; higher goes first.
    pub priority: u32,
    /// Submit time; earlier goes first among equal priorities.
    pub t_submit: u64,
    /// The request.
    pub jobspec: std::sync::Arc<Jobspec>,
}

/// What a scheduling loop decided for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allocated now; `backfilled` when a reservation was ahead of it in this loop.
    Started {
        /// Job id.
        id: i64,
        /// What was allocated.
        outcome: MatchOutcome,
        /// Whether a reservation was ahead of it in this loop.
        backfilled: bool,
    },
    /// Holds a reservation at `at` until the next loop.
    Reserved {
        /// Job id.
        id: i64,
        /// Reserved start time.
        at: i64,
    },
    /// Can never run (ENODEV) or the request is invalid.
    Rejected {
        /// Job id.
        id: i64,
        /// Why.
        reason: String,
    },
    /// Cannot even be reserved now (e.g. down or constrained nodes); parked until
    /// [`QueueManager::unblock`].
    Blocked {
        /// Job id.
        id: i64,
    },
}

type Key = (Reverse<u32>, u64, u64);

/// Pending, blocked and reserved jobs of one queue.
#[derive(Debug, Default)]
pub struct QueueManager {
    config: QueueConfig,
    pending: BTreeMap<Key, PendingJob>,
    blocked: BTreeMap<Key, PendingJob>,
    /// Where each queued job (pending or blocked) is keyed.
    keys: HashMap<i64, Key>,
    reserved: Vec<i64>,
    seq: u64,
    /// The loop in progress (see [`QueueManager::begin_loop`]).
    cursor: cycle::Cursor,
}

impl QueueManager {
    /// An empty queue.
    pub fn new(config: QueueConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Number of pending (not blocked) jobs.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Number of blocked jobs.
    pub fn blocked_len(&self) -> usize {
        self.blocked.len()
    }

    /// Queues a job.
    pub fn submit(&mut self, job: PendingJob) {
        self.seq += 1;
        let key = (Reverse(job.priority), job.t_submit, self.seq);
        self.keys.insert(job.id, key);
        self.pending.insert(key, job);
    }

    /// Moves blocked jobs back to pending (after a resource status change).
    pub fn unblock(&mut self) {
        self.pending.append(&mut self.blocked);
    }

    /// Releases a finished job's resources.
    pub fn free(&mut self, traverser: &mut Traverser, id: i64) -> Result<(), MatchError> {
        traverser.cancel(id)
    }

    /// One scheduling loop at time `now`, run to completion against `traverser`.
    pub fn schedule(&mut self, traverser: &mut Traverser, now: i64) -> Vec<Decision> {
        for id in self.begin_loop() {
            // A reservation that is already gone needs no cancel.
            let _ = traverser.cancel(id);
        }
        let mut decisions = Vec::new();
        while let Some(step) = self.next_match() {
            let result = match self.job(step.id) {
                Some(job) => traverser.run(&job.jobspec, step.op, step.id, now),
                None => continue,
            };
            decisions.extend(self.on_match(step.id, result));
        }
        decisions
    }
}

#[cfg(test)]
mod tests;
