//! A job's state and the facts the job manager keeps, rebuilt by replaying its eventlog.

use std::collections::BTreeSet;

use super::machine::exception_severity;
use super::{JobResult, JobState, TransitionError, WaitStatus, next_state};
use crate::eventlog::Entry;

/// An `exception` event.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// Exception type (`cancel`, `timeout`, `exec`, ...).
    pub kind: String,
    /// 0 (fatal) to 7.
    pub severity: i64,
    /// Free text, may be empty.
    pub note: String,
    /// Wait status to report instead of the shells' (optional).
    pub wait_status: Option<i32>,
    /// When it was raised.
    pub timestamp: f64,
}

/// What replaying a job eventlog yields: the state plus the data needed to resume
/// (urgency, priority, pending dependencies) and to report (times, result).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRecord {
    /// Current state (NEW before any event).
    pub state: JobState,
    /// Submitting user (`submit.userid`).
    pub userid: Option<i64>,
    /// Urgency 0-31 (`submit`, then `urgency` events).
    pub urgency: Option<i64>,
    /// Submit flags.
    pub flags: i64,
    /// Last priority assigned.
    pub priority: Option<i64>,
    /// Descriptions of `dependency-add` not yet matched by `dependency-remove`.
    pub dependencies: BTreeSet<String>,
    /// The first severity-0 exception (root cause of the failure).
    pub fatal_exception: Option<Exception>,
    /// Number of exceptions of any severity.
    pub exception_count: usize,
    /// `finish.status`.
    pub finish_status: Option<i32>,
    /// Time of `submit`.
    pub t_submit: Option<f64>,
    /// Time the job entered RUN (`alloc`).
    pub t_run: Option<f64>,
    /// Time the job entered CLEANUP.
    pub t_cleanup: Option<f64>,
    /// Time the job became INACTIVE.
    pub t_inactive: Option<f64>,
    /// Job shells were started (`start`).
    pub started: bool,
    /// Resources were freed back to the scheduler (`free`).
    pub freed: bool,
}

impl JobRecord {
    /// A job before its first event.
    pub fn new() -> Self {
        JobRecord::default()
    }

    /// Replay a whole eventlog; the error carries the 0-based index of the bad event.
    pub fn replay<'a>(
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<Self, (usize, TransitionError)> {
        let mut job = JobRecord::new();
        for (i, e) in entries.into_iter().enumerate() {
            job.apply(e).map_err(|err| (i, err))?;
        }
        Ok(job)
    }

    /// Apply one event: check the transition, then record its data. On error the
    /// record is unchanged.
    pub fn apply(&mut self, entry: &Entry) -> Result<JobState, TransitionError> {
        let next = next_state(self.state, entry)?;
        let ctx = &entry.context;
        match entry.name.as_str() {
            "submit" => {
                self.t_submit = Some(entry.timestamp);
                self.userid = ctx.get_i64("userid");
                self.urgency = ctx.get_i64("urgency");
                self.flags = ctx.get_i64("flags").unwrap_or(0);
            }
            "urgency" => self.urgency = ctx.get_i64("urgency").or(self.urgency),
            "priority" => self.priority = ctx.get_i64("priority").or(self.priority),
            "dependency-add" => {
                if let Some(d) = ctx.get_str("description") {
                    self.dependencies.insert(d.to_string());
                }
            }
            "dependency-remove" => {
                if let Some(d) = ctx.get_str("description") {
                    self.dependencies.remove(d);
                }
            }
            "start" => self.started = true,
            "free" => self.freed = true,
            "finish" => {
                self.finish_status = ctx.get_i64("status").and_then(|s| i32::try_from(s).ok());
            }
            "exception" => {
                self.exception_count += 1;
                let severity = exception_severity(entry)?;
                if severity == 0 && self.fatal_exception.is_none() {
                    self.fatal_exception = Some(Exception {
                        kind: ctx.get_str("type").unwrap_or_default().to_string(),
                        severity,
                        note: ctx.get_str("note").unwrap_or_default().to_string(),
                        wait_status: ctx
                            .get_i64("wait_status")
                            .and_then(|s| i32::try_from(s).ok()),
                        timestamp: entry.timestamp,
                    });
                }
            }
            _ => {}
        }
        if next != self.state {
            match next {
                JobState::Run => self.t_run = Some(entry.timestamp),
                JobState::Cleanup => self.t_cleanup = Some(entry.timestamp),
                JobState::Inactive => self.t_inactive = Some(entry.timestamp),
                _ => {}
            }
            self.state = next;
        }
        Ok(next)
    }

    /// The wait status to report: the first fatal exception's `wait_status` if it has
    /// one, else `finish.status`.
    pub fn wait_status(&self) -> Option<i32> {
        self.fatal_exception
            .as_ref()
            .and_then(|e| e.wait_status)
            .or(self.finish_status)
    }

    /// The result, once INACTIVE.
    pub fn result(&self) -> Option<JobResult> {
        (self.state == JobState::Inactive).then(|| {
            JobResult::compute(
                self.wait_status(),
                self.fatal_exception.as_ref().map(|e| e.kind.as_str()),
            )
        })
    }

    /// Exit code as `flux run` reports it: 128+signal or the exit status; 1 if a fatal
    /// exception occurred but the status is 0 or the job never finished.
    pub fn exit_code(&self) -> Option<i32> {
        if self.state != JobState::Inactive {
            return None;
        }
        let code = self.wait_status().map(|s| WaitStatus(s).exit_code());
        Some(match (code, &self.fatal_exception) {
            (Some(0), Some(_)) | (None, _) => 1,
            (Some(c), _) => c,
        })
    }

    /// `flux jobs` ST: the state letter while active, the result abbreviation after.
    pub fn status_abbrev(&self) -> &'static str {
        match self.result() {
            Some(r) => r.abbrev(),
            None => self.state.abbrev(),
        }
    }
}

#[cfg(test)]
mod tests;
