//! What the qmanager actor does without I/O: translate match rpc answers into the
//! queue core's terms, keep the `sched.alloc` requests and what each pending job waits
//! for, and turn the core's decisions into responses.

use std::collections::{BTreeMap, BTreeSet};

use flux_fluxion::error::MatchError;
use flux_fluxion::qmanager::Decision;
use flux_fluxion::traverser::{MatchOp, MatchOutcome};
use flux_proto::{Envelope, Error, errno};
use serde::Serialize;
use serde_json::{Value, json};

use crate::modules::sched_fluxion_resource::{ENODEV, MatchResponse};
use crate::modules::sched_protocol::AllocResponse;

/// The wire name of a match operation.
pub fn op_name(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Allocate => "allocate",
        MatchOp::AllocateWithSatisfiability => "allocate_with_satisfiability",
        MatchOp::AllocateOrElseReserve => "allocate_orelse_reserve",
        MatchOp::Satisfiability => "satisfiability",
    }
}

/// A `sched-fluxion-resource.match` answer, as the queue core sees it.
#[derive(Debug)]
pub enum MatchReply {
    /// Allocated or reserved; `r` is the allocation's R.
    Matched {
        /// For the queue core.
        outcome: MatchOutcome,
        /// R version 1.
        r: Value,
    },
    /// The matcher said no (busy, never, invalid).
    Failed(MatchError),
    /// The resource module is gone or not ready: the loop must stop.
    Lost(String),
}

/// Classify the answer to a match request.
pub fn match_reply(rsp: Result<MatchResponse, Error>) -> MatchReply {
    match rsp {
        Ok(m) => MatchReply::Matched {
            outcome: MatchOutcome {
                at: m.at,
                end: m.at,
                reserved: m.status == "RESERVED",
                emitted: Vec::new(),
            },
            r: m.r,
        },
        Err(Error::Payload(e)) => {
            MatchReply::Failed(MatchError::Invalid(format!("bad match response: {e}")))
        }
        Err(e) => match e.errnum() {
            errno::EBUSY => MatchReply::Failed(MatchError::Busy),
            ENODEV => MatchReply::Failed(MatchError::Unsatisfiable),
            errno::EINVAL | errno::EPROTO => MatchReply::Failed(MatchError::Invalid(
                e.to_string()
                    .trim_start_matches("invalid request: ")
                    .to_string(),
            )),
            _ => MatchReply::Lost(e.to_string()),
        },
    }
}

/// The errno of a rejection: ENOSPC for a request that can never be met, EINVAL for a
/// bad one.
pub fn reject_errno(e: &MatchError) -> i32 {
    match e {
        MatchError::Unsatisfiable | MatchError::Busy => errno::ENOSPC,
        MatchError::Invalid(_)
        | MatchError::Planner(_)
        | MatchError::UnknownRank(_)
        | MatchError::UnknownResource { .. }
        | MatchError::AlreadyAllocated { .. }
        | MatchError::JobExists(_) => errno::EINVAL,
    }
}

/// A job waiting in the queue.
pub struct Waiting {
    /// Its `sched.alloc` request (answered once allocated, rejected or cancelled).
    pub msg: Envelope,
    /// The jobspec as sent to the matcher.
    pub jobspec: Value,
    /// Its priority (for the status report).
    pub priority: u32,
    /// Why it is not running, once a loop has looked at it.
    pub reason: Option<&'static str>,
    /// The start time of its reservation, if it holds one.
    pub t_estimate: Option<i64>,
    /// The reason and estimate last told to the job manager.
    pub announced: Option<(&'static str, Option<i64>)>,
}

/// One pending job in `sched-fluxion-qmanager.status`.
#[derive(Debug, Serialize)]
pub struct PendingStatus {
    /// Job id.
    pub id: i64,
    /// Priority.
    pub priority: u32,
    /// `{sched.reason_pending}`.
    pub reason_pending: &'static str,
    /// `{sched.t_estimate}` (seconds since the epoch), when reserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t_estimate: Option<i64>,
}

/// The `sched.alloc` requests by job id.
#[derive(Default)]
pub struct Waiters {
    pub jobs: BTreeMap<i64, Waiting>,
    /// Jobs whose reason or estimate may have changed since last announced: only these
    /// are looked at after a loop (a loop sees queue-depth jobs, not every pending one).
    changed: BTreeSet<i64>,
}

impl Waiters {
    /// The response a decision produces (for a job still waiting), and what it notes on
    /// jobs that stay.
    pub fn on_decision(
        &mut self,
        d: Decision,
        r: Value,
        error: Option<&MatchError>,
    ) -> Option<Envelope> {
        match d {
            Decision::Started { id, backfilled, .. } => {
                let w = self.jobs.remove(&id)?;
                let selection = match (backfilled, w.t_estimate.is_some()) {
                    (_, true) => "reserved",
                    (true, false) => "backfill",
                    (false, false) => "immediate",
                };
                Some(w.msg.response_json(&AllocResponse {
                    id: id as u64,
                    r,
                    annotations: Some(json!({"sched": {"selection_type": selection}})),
                }))
            }
            Decision::Reserved { id, at } => {
                let w = self.jobs.get_mut(&id)?;
                self.changed.insert(id);
                w.reason = Some("insufficient resources");
                w.t_estimate = Some(at);
                None
            }
            Decision::Blocked { id } => {
                let w = self.jobs.get_mut(&id)?;
                self.changed.insert(id);
                w.reason = Some("resources unavailable");
                w.t_estimate = None;
                None
            }
            Decision::Rejected { id, reason } => {
                let w = self.jobs.remove(&id)?;
                let errnum = error.map_or(errno::ENOSPC, reject_errno);
                Some(w.msg.error_response(errnum, reason))
            }
        }
    }

    /// A job the loop looked at but could not start now (and did not reserve).
    pub fn on_busy(&mut self, id: i64) {
        if let Some(w) = self.jobs.get_mut(&id) {
            self.changed.insert(id);
            w.reason = Some("insufficient resources");
            w.t_estimate = None;
        }
    }

    /// The `job-manager.annotate` payloads for jobs whose reason or estimate changed since
    /// they were last announced (which they now are).
    pub fn unannounced(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        for id in std::mem::take(&mut self.changed) {
            let Some(w) = self.jobs.get_mut(&id) else {
                continue;
            };
            let Some(reason) = w.reason else { continue };
            let now = (reason, w.t_estimate);
            if w.announced == Some(now) {
                continue;
            }
            w.announced = Some(now);
            let mut sched = json!({ "reason_pending": reason });
            if let Some(t) = w.t_estimate {
                sched["t_estimate"] = json!(t as f64);
            }
            out.push(json!({ "id": id, "annotations": { "sched": sched } }));
        }
        out
    }

    /// The pending jobs, as `sched-fluxion-qmanager.status` shows them.
    pub fn status(&self) -> Vec<PendingStatus> {
        self.jobs
            .iter()
            .map(|(id, w)| PendingStatus {
                id: *id,
                priority: w.priority,
                reason_pending: w.reason.unwrap_or("waiting for a scheduling loop"),
                t_estimate: w.t_estimate,
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "glue_tests.rs"]
mod tests;
