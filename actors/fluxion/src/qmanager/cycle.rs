//! A scheduling loop taken one match at a time, so that the matcher can live elsewhere
//! (in another module, behind an rpc): [`QueueManager::begin_loop`], then
//! [`QueueManager::next_match`] / [`QueueManager::on_match`] until `next_match` says the
//! loop is over. Jobs may be submitted, removed or reprioritized between steps.

use std::collections::VecDeque;

use super::{Decision, Key, PendingJob, QueueManager, QueuePolicy};
use crate::error::MatchError;
use crate::traverser::{MatchOp, MatchOutcome};

/// Where the loop in progress stands.
#[derive(Debug, Default)]
pub(super) struct Cursor {
    /// Jobs still to consider, in priority order.
    todo: VecDeque<Key>,
    /// The job whose match is outstanding.
    in_flight: Option<(Key, i64)>,
}

/// One match the loop asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchStep {
    /// The job (also the matcher's job id).
    pub id: i64,
    /// The operation to run for it.
    pub op: MatchOp,
}

impl QueueManager {
    /// Starts a loop; returns the reservations of the previous loop, which the caller must
    /// cancel in the matcher before the first match of this one.
    pub fn begin_loop(&mut self) -> Vec<i64> {
        self.cursor = Cursor {
            todo: self
                .pending
                .keys()
                .take(self.config.queue_depth)
                .copied()
                .collect(),
            in_flight: None,
        };
        std::mem::take(&mut self.reserved)
    }

    /// Whether a loop is in progress (begun, with matches left or outstanding).
    pub fn in_loop(&self) -> bool {
        self.cursor.in_flight.is_some() || !self.cursor.todo.is_empty()
    }

    /// The next match of the loop in progress, or `None` when the loop is over. Jobs
    /// removed or reprioritized since the loop began are skipped.
    pub fn next_match(&mut self) -> Option<MatchStep> {
        while let Some(key) = self.cursor.todo.pop_front() {
            let Some(job) = self.pending.get(&key) else {
                continue;
            };
            let op = if self.reserved.len() < self.config.effective_reservation_depth() {
                MatchOp::AllocateOrElseReserve
            } else {
                MatchOp::AllocateWithSatisfiability
            };
            self.cursor.in_flight = Some((key, job.id));
            return Some(MatchStep { id: job.id, op });
        }
        None
    }

    /// A queued job (pending or blocked) by id.
    pub fn job(&self, id: i64) -> Option<&PendingJob> {
        if let Some((key, job_id)) = self.cursor.in_flight
            && job_id == id
            && let Some(job) = self.pending.get(&key)
        {
            return Some(job);
        }
        self.key_of(id).and_then(|(key, blocked)| {
            if blocked {
                self.blocked.get(&key)
            } else {
                self.pending.get(&key)
            }
        })
    }

    /// The key of a queued job, and whether it is blocked.
    fn key_of(&self, id: i64) -> Option<(Key, bool)> {
        let key = *self.keys.get(&id)?;
        Some((key, self.blocked.contains_key(&key)))
    }

    /// The matcher's answer to the step for job `id`. A job removed while its match was
    /// outstanding gets no decision; if the matcher booked resources for it, they are
    /// released with the next loop's cancels.
    pub fn on_match(
        &mut self,
        id: i64,
        result: Result<MatchOutcome, MatchError>,
    ) -> Option<Decision> {
        let in_flight = self.cursor.in_flight.take();
        let key = match in_flight {
            Some((key, job_id)) if job_id == id && self.pending.contains_key(&key) => Some(key),
            _ => self
                .key_of(id)
                .and_then(|(k, blocked)| (!blocked).then_some(k)),
        };
        let Some(key) = key else {
            if result.is_ok() {
                self.reserved.push(id);
            }
            return None;
        };
        match result {
            Ok(outcome) if !outcome.reserved => {
                self.pending.remove(&key);
                self.keys.remove(&id);
                Some(Decision::Started {
                    id,
                    outcome,
                    backfilled: !self.reserved.is_empty(),
                })
            }
            Ok(outcome) => {
                self.reserved.push(id);
                Some(Decision::Reserved { id, at: outcome.at })
            }
            Err(MatchError::Busy) if self.config.policy == QueuePolicy::Fcfs => {
                self.cursor.todo.clear();
                None
            }
            Err(MatchError::Busy) => {
                let reserving = self.reserved.len() < self.config.effective_reservation_depth();
                if !reserving {
                    return None;
                }
                if let Some(job) = self.pending.remove(&key) {
                    self.blocked.insert(key, job);
                }
                Some(Decision::Blocked { id })
            }
            Err(e) => {
                self.pending.remove(&key);
                self.keys.remove(&id);
                Some(Decision::Rejected {
                    id,
                    reason: e.to_string(),
                })
            }
        }
    }

    /// Takes a job out of the queue (pending or blocked). A reservation it holds is
    /// cancelled with the next loop's cancels.
    pub fn remove(&mut self, id: i64) -> Option<PendingJob> {
        let (key, blocked) = self.key_of(id)?;
        self.keys.remove(&id);
        if blocked {
            self.blocked.remove(&key)
        } else {
            self.pending.remove(&key)
        }
    }

    /// Changes a queued job's priority; `false` if it is not queued.
    pub fn reprioritize(&mut self, id: i64, priority: u32) -> bool {
        let Some((key, blocked)) = self.key_of(id) else {
            return false;
        };
        let map = if blocked {
            &mut self.blocked
        } else {
            &mut self.pending
        };
        let Some(mut job) = map.remove(&key) else {
            return false;
        };
        job.priority = priority;
        let key = (std::cmp::Reverse(priority), key.1, key.2);
        map.insert(key, job);
        self.keys.insert(id, key);
        true
    }
}
