//! The job manager's state machine over all jobs, without I/O: events in, state changed,
//! [`Effect`]s out (eventlog appends, scheduler and exec requests). The actor performs the
//! effects; tests drive the same functions and look at the effects.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, JobRecord, JobResult, JobState, Jobspec};

use super::deps::{DepKind, Outcome};

/// Urgency bounds and special values (RFC 30).
pub const URGENCY_HOLD: u32 = 0;
pub const URGENCY_DEFAULT: u32 = 16;
pub const URGENCY_EXPEDITE: u32 = 31;
/// Submit flag: the job may be waited for with `flux job wait`.
pub const FLAG_WAITABLE: u32 = 4;

/// A job handed over by job-ingest.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: JobId,
    pub userid: u32,
    pub urgency: u32,
    pub flags: u32,
    pub t_submit: f64,
    pub jobspec: Arc<Jobspec>,
}

/// What the actor must do after a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Append an event to the job's eventlog (and tell watchers).
    Event(JobId, Entry),
    /// Ask the scheduler for resources (or update a request's priority).
    Alloc { id: JobId, priority: u32 },
    /// Withdraw an outstanding alloc request.
    CancelAlloc(JobId),
    /// Start the job's shells on its R.
    Start(JobId),
    /// Signal a running job's tasks.
    Kill { id: JobId, signum: i32 },
    /// Return the job's resources to the scheduler.
    Free(JobId),
    /// Wake the job at this time (begin-time dependency).
    Timer { id: JobId, at: f64 },
    /// The job became inactive.
    Inactive(JobId),
}

/// Why a request to the job manager was refused (errno on the wire).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    #[error("unknown job id")]
    NoSuchJob,
    #[error("permission denied: job belongs to another user")]
    NotOwner,
    #[error("job is inactive")]
    Inactive,
    #[error("urgency must be between 0 and 31 (guests: 0 to 16)")]
    BadUrgency,
    #[error("{0}")]
    Dependency(String),
    #[error("invalid transition: {0}")]
    Transition(String),
}

/// One job as the manager tracks it.
#[derive(Debug)]
pub struct Job {
    pub id: JobId,
    pub userid: u32,
    pub urgency: u32,
    pub flags: u32,
    pub jobspec: Arc<Jobspec>,
    pub record: JobRecord,
    /// An alloc request is outstanding.
    pub alloc_pending: bool,
    /// Resources are held (alloc'd and not yet freed).
    pub has_resources: bool,
    /// Exec was asked to start and has not released yet.
    pub exec_running: bool,
    deps: Vec<DepKind>,
    /// Someone already waited for this job.
    waited: bool,
}

impl Job {
    pub fn state(&self) -> JobState {
        self.record.state
    }

    /// The priority the default priority plugin gives this urgency.
    fn priority(&self) -> u32 {
        match self.urgency {
            URGENCY_HOLD => 0,
            URGENCY_EXPEDITE => u32::MAX,
            u => u,
        }
    }
}

/// All jobs and their relations.
#[derive(Debug, Default)]
pub struct JobManager {
    jobs: HashMap<JobId, Job>,
    /// Jobs waiting on a target job: target -> dependents.
    dependents: HashMap<JobId, HashSet<JobId>>,
    active: usize,
}

impl JobManager {
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    /// Replace a job's jobspec (by a lighter copy once it is no longer needed in full).
    pub fn set_jobspec(&mut self, id: JobId, jobspec: Arc<Jobspec>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.jobspec = jobspec;
        }
    }

    /// Number of jobs not yet inactive.
    pub fn active_count(&self) -> usize {
        self.active
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Record an event: check the transition and keep the job's record in step.
    fn post(&mut self, id: JobId, entry: Entry, out: &mut Vec<Effect>) {
        if let Some(job) = self.jobs.get_mut(&id)
            && job.record.apply(&entry).is_ok()
        {
            out.push(Effect::Event(id, entry));
        }
    }

    /// Bring back a job found in the KVS after a restart, its eventlog replayed into
    /// `record`. Inactive jobs stay as they were; pending ones are scheduled again; jobs
    /// that were running are ended with an exception, since their processes are gone.
    pub fn restore(&mut self, new: NewJob, record: JobRecord, now: f64, out: &mut Vec<Effect>) {
        let id = new.id;
        let state = record.state;
        let deps: Vec<DepKind> = record
            .dependencies
            .iter()
            .filter_map(|d| DepKind::from_description(d))
            .collect();
        self.jobs.insert(
            id,
            Job {
                id,
                userid: new.userid,
                urgency: record.urgency.map(|u| u as u32).unwrap_or(new.urgency),
                flags: new.flags,
                jobspec: new.jobspec,
                record,
                alloc_pending: false,
                has_resources: false,
                exec_running: false,
                deps: deps.clone(),
                waited: false,
            },
        );
        if !state.is_active() {
            return;
        }
        self.active += 1;
        for dep in &deps {
            match dep {
                DepKind::BeginTime(at) => out.push(Effect::Timer { id, at: *at }),
                _ => {
                    if let Some(target) = dep.target() {
                        self.dependents.entry(target).or_default().insert(id);
                    }
                }
            }
        }
        match state {
            JobState::Depend => self.maybe_depend(id, now, out),
            JobState::Priority => self.prioritize(id, now, out),
            JobState::Sched => {
                // flux-restart sends a scheduled job back to PRIORITY, then it is queued again.
                self.post(id, Entry::new(now, "flux-restart"), out);
                self.prioritize(id, now, out);
            }
            JobState::Run | JobState::Cleanup => {
                let _ = self.raise(
                    id,
                    "exec",
                    0,
                    "job was running when the instance restarted",
                    None,
                    now,
                    out,
                );
                self.maybe_clean(id, now, out);
            }
            _ => {}
        }
    }

    /// Settle dependencies of restored jobs whose targets are already done (call once all
    /// jobs are restored).
    pub fn settle_restored(&mut self, now: f64, out: &mut Vec<Effect>) {
        let targets: Vec<JobId> = self.dependents.keys().copied().collect();
        for target in targets {
            self.reevaluate(target, None, now, out);
        }
    }

    /// The largest job id known (to resume id generation after it).
    pub fn max_id(&self) -> Option<JobId> {
        self.jobs.keys().max().copied()
    }

    /// Check a new job's dependencies before accepting it.
    pub fn check_dependencies(&self, jobspec: &Jobspec) -> Result<Vec<DepKind>, JobError> {
        let deps = jobspec
            .attributes
            .system
            .dependencies
            .as_deref()
            .unwrap_or_default();
        deps.iter()
            .map(|d| {
                let kind =
                    DepKind::from_jobspec(d).map_err(|e| JobError::Dependency(e.to_string()))?;
                match kind.target() {
                    Some(target) if !self.jobs.contains_key(&target) => Err(JobError::Dependency(
                        format!("dependency {}: job {} not found", d.scheme, target.to_f58()),
                    )),
                    _ => Ok(kind),
                }
            })
            .collect()
    }

    /// Accept a job: submit, validate, dependencies, priority; alloc unless held back.
    pub fn submit(&mut self, new: NewJob, deps: Vec<DepKind>, now: f64, out: &mut Vec<Effect>) {
        let id = new.id;
        self.jobs.insert(
            id,
            Job {
                id,
                userid: new.userid,
                urgency: new.urgency,
                flags: new.flags,
                jobspec: new.jobspec,
                record: JobRecord::new(),
                alloc_pending: false,
                has_resources: false,
                exec_running: false,
                deps: Vec::new(),
                waited: false,
            },
        );
        self.active += 1;
        let submit = Entry::submit(new.t_submit, new.userid, new.urgency, new.flags);
        self.post(id, submit, out);
        self.post(id, Entry::new(now, "validate"), out);
        for dep in deps {
            self.post(id, Entry::dependency(now, true, &dep.description()), out);
            if let Some(job) = self.jobs.get_mut(&id) {
                job.deps.push(dep);
            }
            match dep {
                DepKind::BeginTime(at) => out.push(Effect::Timer { id, at }),
                _ => {
                    if let Some(target) = dep.target() {
                        self.dependents.entry(target).or_default().insert(id);
                    }
                }
            }
        }
        // Targets may already be where the dependency needs them.
        let targets: Vec<JobId> = self.jobs[&id]
            .deps
            .iter()
            .filter_map(DepKind::target)
            .collect();
        for target in targets {
            self.reevaluate(target, Some(id), now, out);
        }
        self.maybe_depend(id, now, out);
    }

    /// DEPEND -> PRIORITY -> SCHED once no dependency is outstanding.
    fn maybe_depend(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        if job.state() != JobState::Depend || !job.deps.is_empty() {
            return;
        }
        self.post(id, Entry::new(now, "depend"), out);
        self.prioritize(id, now, out);
    }

    /// Assign a priority and (re)submit to the scheduler.
    fn prioritize(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let priority = job.priority();
        self.post(id, Entry::priority(now, priority), out);
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        if job.state() == JobState::Sched {
            // Held jobs (priority 0) are never scheduled.
            if priority > 0 {
                job.alloc_pending = true;
                out.push(Effect::Alloc { id, priority });
            } else if job.alloc_pending {
                job.alloc_pending = false;
                out.push(Effect::CancelAlloc(id));
            }
        }
    }

    /// A dependency's target moved on: settle what can be settled. `only` limits the
    /// check to one dependent.
    fn reevaluate(&mut self, target: JobId, only: Option<JobId>, now: f64, out: &mut Vec<Effect>) {
        let Some(t) = self.jobs.get(&target) else {
            return;
        };
        let (started, result) = (
            t.record.started || t.record.t_run.is_some(),
            t.record.result(),
        );
        let dependents: Vec<JobId> = match only {
            Some(id) => vec![id],
            None => self
                .dependents
                .get(&target)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
        };
        for id in dependents {
            let Some(job) = self.jobs.get(&id) else {
                continue;
            };
            let mut settled = Vec::new();
            let mut never = None;
            for dep in job.deps.iter().filter(|d| d.target() == Some(target)) {
                match dep.outcome(started, result) {
                    Outcome::Satisfied => settled.push(*dep),
                    Outcome::Never => never = Some(*dep),
                    Outcome::Waiting => {}
                }
            }
            if let Some(dep) = never {
                let note = format!("dependency {} can never be satisfied", dep.description());
                let _ = self.raise(id, "dependency", 0, &note, None, now, out);
                continue;
            }
            for dep in settled {
                self.remove_dep(id, dep, now, out);
            }
            if let Some(set) = self.dependents.get_mut(&target)
                && self
                    .jobs
                    .get(&id)
                    .is_none_or(|j| !j.deps.iter().any(|d| d.target() == Some(target)))
            {
                set.remove(&id);
            }
            self.maybe_depend(id, now, out);
        }
    }

    fn remove_dep(&mut self, id: JobId, dep: DepKind, now: f64, out: &mut Vec<Effect>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.deps.retain(|d| *d != dep);
        }
        self.post(id, Entry::dependency(now, false, &dep.description()), out);
    }

    /// A begin-time dependency's time has come.
    pub fn on_timer(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let due: Vec<DepKind> = match self.jobs.get(&id) {
            Some(job) => job
                .deps
                .iter()
                .filter(|d| matches!(d, DepKind::BeginTime(at) if *at <= now))
                .copied()
                .collect(),
            None => return,
        };
        for dep in due {
            self.remove_dep(id, dep, now, out);
        }
        self.maybe_depend(id, now, out);
    }

    /// The scheduler allocated resources (its R is stored by the actor).
    pub fn on_alloc(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        job.alloc_pending = false;
        job.has_resources = true;
        if job.state() != JobState::Sched {
            // Canceled while the request was in flight: give the resources back.
            self.free(id, now, out);
            return;
        }
        self.post(id, Entry::new(now, "alloc"), out);
        if let Some(job) = self.jobs.get_mut(&id) {
            job.exec_running = true;
        }
        out.push(Effect::Start(id));
        self.reevaluate(id, None, now, out);
    }

    /// The scheduler can never satisfy the request.
    pub fn on_alloc_denied(&mut self, id: JobId, note: &str, now: f64, out: &mut Vec<Effect>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.alloc_pending = false;
        }
        let _ = self.raise(id, "alloc", 0, note, None, now, out);
    }

    /// Exec started the job's shells.
    pub fn on_start(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        self.post(id, Entry::new(now, "start"), out);
        self.reevaluate(id, None, now, out);
    }

    /// The job's tasks finished with this wait status.
    pub fn on_finish(&mut self, id: JobId, status: i32, now: f64, out: &mut Vec<Effect>) {
        // A job canceled while running is already in CLEANUP; its finish is still logged.
        if self.jobs.get(&id).is_some_and(|j| j.exec_running) {
            self.post(id, Entry::finish(now, status), out);
        }
    }

    /// Exec is done with the job: free its resources and clean up.
    pub fn on_release(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        if !job.exec_running {
            return;
        }
        job.exec_running = false;
        self.post(id, Entry::release(now, "all", true), out);
        self.maybe_clean(id, now, out);
    }

    fn free(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        if job.has_resources {
            job.has_resources = false;
            out.push(Effect::Free(id));
            if job.state() == JobState::Cleanup {
                self.post(id, Entry::new(now, "free"), out);
            }
        }
    }

    /// In CLEANUP with exec done: free, clean, inactive; then settle dependents.
    fn maybe_clean(&mut self, id: JobId, now: f64, out: &mut Vec<Effect>) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        if job.state() != JobState::Cleanup || job.exec_running {
            return;
        }
        self.free(id, now, out);
        self.post(id, Entry::new(now, "clean"), out);
        if self
            .jobs
            .get(&id)
            .is_some_and(|j| j.state() == JobState::Inactive)
        {
            self.active -= 1;
            out.push(Effect::Inactive(id));
            self.reevaluate(id, None, now, out);
            self.dependents.remove(&id);
        }
    }

    /// Raise an exception on a job (`flux cancel`, `flux job raise`, time limit, ...).
    /// `by` is the requesting user (`None`: the instance itself, or its owner).
    #[allow(clippy::too_many_arguments)]
    pub fn raise(
        &mut self,
        id: JobId,
        kind: &str,
        severity: u8,
        note: &str,
        by: Option<u32>,
        now: f64,
        out: &mut Vec<Effect>,
    ) -> Result<(), JobError> {
        let job = self.jobs.get(&id).ok_or(JobError::NoSuchJob)?;
        if by.is_some_and(|uid| uid != job.userid) {
            return Err(JobError::NotOwner);
        }
        if !job.state().is_active() {
            return Err(JobError::Inactive);
        }
        let mut entry = Entry::exception(now, kind, severity, note);
        if let Some(uid) = by {
            entry = entry.with("userid", uid);
        }
        let was = job.state();
        self.post(id, entry, out);
        if severity != 0 {
            return Ok(());
        }
        let Some(job) = self.jobs.get_mut(&id) else {
            return Ok(());
        };
        if job.alloc_pending {
            job.alloc_pending = false;
            out.push(Effect::CancelAlloc(id));
        }
        if was == JobState::Run && job.exec_running {
            out.push(Effect::Kill {
                id,
                signum: libc::SIGTERM,
            });
        }
        self.maybe_clean(id, now, out);
        Ok(())
    }

    /// Change a job's urgency (RFC 30). Returns the old urgency.
    pub fn set_urgency(
        &mut self,
        id: JobId,
        urgency: u32,
        by: u32,
        by_owner: bool,
        now: f64,
        out: &mut Vec<Effect>,
    ) -> Result<u32, JobError> {
        let job = self.jobs.get_mut(&id).ok_or(JobError::NoSuchJob)?;
        if !by_owner && by != job.userid {
            return Err(JobError::NotOwner);
        }
        if urgency > URGENCY_EXPEDITE || (!by_owner && urgency > URGENCY_DEFAULT) {
            return Err(JobError::BadUrgency);
        }
        if !job.state().is_pending() {
            return Err(JobError::Transition(
                "urgency can only change while pending".into(),
            ));
        }
        let old = job.urgency;
        job.urgency = urgency;
        let state = job.state();
        self.post(id, Entry::urgency(now, urgency, by), out);
        if state == JobState::Sched {
            self.prioritize(id, now, out);
        }
        Ok(old)
    }

    /// Claim a finished waitable job for `flux job wait`: its result, once. `Ok(None)` means
    /// it is not inactive yet.
    pub fn claim_wait(&mut self, id: JobId, by: u32) -> Result<Option<(bool, String)>, JobError> {
        let job = self.jobs.get_mut(&id).ok_or(JobError::NoSuchJob)?;
        if job.flags & FLAG_WAITABLE == 0 || job.waited || job.userid != by {
            return Err(JobError::Transition("job is not waitable".into()));
        }
        let Some(result) = job.record.result() else {
            return Ok(None);
        };
        job.waited = true;
        let text = match (&job.record.fatal_exception, job.record.exit_code()) {
            (Some(e), _) => format!("job {} exception: {}", e.kind, e.note),
            (None, Some(code)) if code != 0 => format!("task(s) exited with exit code {code}"),
            _ => String::new(),
        };
        Ok(Some((result == JobResult::Completed, text)))
    }

    /// Active jobs of `userid` (all users if `None`) in any of `states`.
    pub fn select(&self, userid: Option<u32>, states: impl Fn(JobState) -> bool) -> Vec<JobId> {
        let mut ids: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| userid.is_none_or(|u| u == j.userid) && states(j.state()))
            .map(|j| j.id)
            .collect();
        ids.sort();
        ids
    }
}
