//! Several queues over one resource graph, as flux-sched's qmanager keeps one per named
//! queue (RFC 33): each has its own order and policy, so a job blocked at the head of one
//! queue holds up only that queue. A scheduling loop takes each queue's steps in turn
//! (queues in name order); reservations any queue makes are in the shared graph, so later
//! queues cannot take what they hold.

use std::collections::HashMap;

use super::{Decision, MatchStep, PendingJob, QueueConfig, QueueManager};
use crate::error::MatchError;
use crate::traverser::MatchOutcome;

/// The queues of an instance: one anonymous queue, or named ones.
#[derive(Debug)]
pub struct Queues {
    /// In loop order; the anonymous queue is named `""`.
    queues: Vec<(String, QueueManager)>,
    /// Which queue holds a job.
    of_job: HashMap<i64, usize>,
    /// The queue whose steps the loop in progress is taking.
    at: usize,
}

impl Queues {
    /// The single anonymous queue.
    pub fn anonymous(config: QueueConfig) -> Self {
        Self::named(vec![(String::new(), config)])
    }

    /// Named queues with their configurations (none: one anonymous queue with the
    /// default configuration).
    pub fn named(mut queues: Vec<(String, QueueConfig)>) -> Self {
        if queues.is_empty() {
            queues.push((String::new(), QueueConfig::default()));
        }
        queues.sort_by(|a, b| a.0.cmp(&b.0));
        Queues {
            queues: queues
                .into_iter()
                .map(|(name, config)| (name, QueueManager::new(config)))
                .collect(),
            of_job: HashMap::new(),
            at: 0,
        }
    }

    /// The queues' names and configurations, in loop order.
    pub fn configs(&self) -> impl Iterator<Item = (&str, &QueueConfig)> {
        self.queues.iter().map(|(n, q)| (n.as_str(), &q.config))
    }

    /// Queues a job in `queue` (ignored when there are no named queues). An unknown
    /// queue is an error.
    pub fn submit(&mut self, queue: Option<&str>, job: PendingJob) -> Result<(), String> {
        let index = match (self.queues.as_slice(), queue) {
            ([(anonymous, _)], _) if anonymous.is_empty() => 0,
            (_, Some(name)) => self
                .queues
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| format!("queue '{name}' does not exist"))?,
            (_, None) => return Err("the job names no queue".into()),
        };
        self.of_job.insert(job.id, index);
        self.queues[index].1.submit(job);
        Ok(())
    }

    /// Starts a loop over every queue; returns the reservations of the previous loop,
    /// which the caller must cancel in the matcher first.
    pub fn begin_loop(&mut self) -> Vec<i64> {
        self.at = 0;
        self.queues
            .iter_mut()
            .flat_map(|(_, q)| q.begin_loop())
            .collect()
    }

    /// The next match of the loop in progress (the current queue's, then the next
    /// queue's), or `None` when the loop is over.
    pub fn next_match(&mut self) -> Option<MatchStep> {
        while let Some((_, queue)) = self.queues.get_mut(self.at) {
            if let Some(step) = queue.next_match() {
                return Some(step);
            }
            self.at += 1;
        }
        None
    }

    /// The matcher's answer to the step for job `id`.
    pub fn on_match(
        &mut self,
        id: i64,
        result: Result<MatchOutcome, MatchError>,
    ) -> Option<Decision> {
        // A job removed while its match was out still belongs to the queue in flight.
        let index = self.of_job.get(&id).copied().unwrap_or(self.at);
        let decision = self.queues.get_mut(index)?.1.on_match(id, result);
        if matches!(
            decision,
            Some(Decision::Started { .. } | Decision::Rejected { .. })
        ) {
            self.of_job.remove(&id);
        }
        decision
    }

    /// A queued job by id.
    pub fn job(&self, id: i64) -> Option<&PendingJob> {
        let index = *self.of_job.get(&id)?;
        self.queues[index].1.job(id)
    }

    /// Takes a job out of its queue.
    pub fn remove(&mut self, id: i64) -> Option<PendingJob> {
        let index = self.of_job.remove(&id)?;
        self.queues[index].1.remove(id)
    }

    /// Changes a queued job's priority; `false` if it is not queued.
    pub fn reprioritize(&mut self, id: i64, priority: u32) -> bool {
        match self.of_job.get(&id) {
            Some(&index) => self.queues[index].1.reprioritize(id, priority),
            None => false,
        }
    }

    /// Moves every queue's blocked jobs back to pending.
    pub fn unblock(&mut self) {
        for (_, q) in &mut self.queues {
            q.unblock();
        }
    }

    /// Pending (not blocked) jobs over all queues.
    pub fn pending_len(&self) -> usize {
        self.queues.iter().map(|(_, q)| q.pending_len()).sum()
    }

    /// Blocked jobs over all queues.
    pub fn blocked_len(&self) -> usize {
        self.queues.iter().map(|(_, q)| q.blocked_len()).sum()
    }
}
