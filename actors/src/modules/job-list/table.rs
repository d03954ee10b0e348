//! The job table of `job-list`: every job known, built from job-manager journal events plus
//! the jobspec and R read from the KVS, with sorted indexes so that listings never sort the
//! whole table.
//!
//! Order of a listing (flux-core job-list): pending jobs by priority (highest first) then
//! id, then running jobs most recently started first, then inactive jobs most recently
//! finished first.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, JobRecord, JobResult, JobState, Jobspec, ResourceSet};
use serde_json::Value;

/// Sort key of a timestamp (non-negative floats order like their bits).
fn tkey(t: Option<f64>) -> u64 {
    t.unwrap_or(0.0).max(0.0).to_bits()
}

/// One job as `job-list` knows it.
#[derive(Debug, Clone, Default)]
pub struct JobEntry {
    /// The job id.
    pub id: JobId,
    /// State, result, times and exception, replayed from the journal.
    pub record: JobRecord,
    /// Submitting user.
    pub userid: u32,
    /// Job name (`system.job.name` or the command's basename).
    pub name: Option<String>,
    /// Total tasks.
    pub ntasks: u64,
    /// Nodes: from R once allocated, else the jobspec's node count if it has one.
    pub nnodes: Option<u64>,
    /// Cores: from R once allocated, else slots times cores per slot.
    pub ncores: u64,
    /// Queue name.
    pub queue: Option<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Time limit in seconds (0 = none).
    pub duration: f64,
    /// Time the job entered DEPEND (`validate`).
    pub t_depend: Option<f64>,
    /// Ranks of the allocation (idset text).
    pub ranks: Option<String>,
    /// Hosts of the allocation (hostlist text).
    pub nodelist: Option<String>,
    /// End of the allocation (R expiration), epoch seconds.
    pub expiration: Option<f64>,
    /// Annotations (from `alloc`, merged).
    pub annotations: Option<Value>,
    /// The jobspec was read.
    pub jobspec_loaded: bool,
}

impl JobEntry {
    /// Current state.
    pub fn state(&self) -> JobState {
        self.record.state
    }

    /// Result, once inactive.
    pub fn result(&self) -> Option<JobResult> {
        self.record.result()
    }

    /// Priority, or -1 while none was assigned.
    pub fn priority(&self) -> i64 {
        self.record.priority.unwrap_or(-1)
    }

    fn index_key(&self) -> IndexKey {
        let state = self.state();
        if state == JobState::Inactive {
            IndexKey::Inactive(Reverse(tkey(self.record.t_inactive)), self.id)
        } else if state.is_running() {
            IndexKey::Running(Reverse(tkey(self.record.t_run)), self.id)
        } else {
            IndexKey::Pending(Reverse(self.priority()), self.id)
        }
    }

    /// Fill in what the jobspec tells.
    pub fn set_jobspec(&mut self, spec: &Jobspec) {
        self.name = spec.job_name();
        self.ntasks = spec.ntasks();
        if self.ranks.is_none() {
            self.nnodes = spec.nnodes();
            self.ncores = spec.nslots() * spec.cores_per_slot().max(1);
        }
        self.queue = spec.queue().map(str::to_string);
        self.cwd = spec.cwd().map(str::to_string);
        self.duration = spec.duration();
        self.jobspec_loaded = true;
    }

    /// Fill in what R tells.
    pub fn set_r(&mut self, r: &ResourceSet) {
        self.nnodes = Some(r.nnodes() as u64);
        self.ncores = r.ncores();
        self.ranks = Some(r.ranks().to_string());
        self.nodelist = Some(r.nodelist().to_string());
        self.expiration = (r.expiration > 0.0).then_some(r.expiration);
    }
}

/// Where a job sits in the listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum IndexKey {
    Pending(Reverse<i64>, JobId),
    Running(Reverse<u64>, JobId),
    Inactive(Reverse<u64>, JobId),
}

/// What an event asks the caller to fetch from the KVS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// `job.<id>.jobspec` (on `submit`).
    Jobspec(JobId),
    /// `job.<id>.R` (on `alloc`).
    R(JobId),
}

/// Why an event was not applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// An event for a job whose `submit` was never seen.
    #[error("event '{event}' for unknown job {id}")]
    UnknownJob {
        /// The job.
        id: JobId,
        /// The event name.
        event: String,
    },
    /// The event is not valid in the job's state.
    #[error("job {id}: {reason}")]
    Transition {
        /// The job.
        id: JobId,
        /// Why.
        reason: String,
    },
}

/// Counts for `job-list.stats`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Jobs per state (upper-case names, NEW..INACTIVE).
    pub states: std::collections::BTreeMap<&'static str, u64>,
    /// Inactive jobs per result.
    pub results: std::collections::BTreeMap<&'static str, u64>,
    /// Jobs in all.
    pub total: u64,
}

/// All jobs, by id and in listing order.
#[derive(Debug, Default)]
pub struct JobTable {
    jobs: HashMap<JobId, JobEntry>,
    order: BTreeSet<IndexKey>,
    max_id: JobId,
    states: [u64; 7],
    results: [u64; 4],
}

fn state_slot(s: JobState) -> usize {
    s.bits().trailing_zeros() as usize
}

fn result_slot(r: JobResult) -> usize {
    r.bits().trailing_zeros() as usize
}

impl JobTable {
    /// An empty table.
    pub fn new() -> Self {
        JobTable::default()
    }

    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// True when no job is known.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The largest id seen.
    pub fn max_id(&self) -> JobId {
        self.max_id
    }

    /// One job.
    pub fn get(&self, id: JobId) -> Option<&JobEntry> {
        self.jobs.get(&id)
    }

    fn count(&mut self, job: &JobEntry, add: bool) {
        let delta = |n: &mut u64| {
            *n = if add { *n + 1 } else { n.saturating_sub(1) };
        };
        delta(&mut self.states[state_slot(job.state())]);
        if let Some(r) = job.result() {
            delta(&mut self.results[result_slot(r)]);
        }
    }

    /// Apply one journal event; returns what to fetch from the KVS, if anything.
    pub fn apply(&mut self, id: JobId, entry: &Entry) -> Result<Option<Fetch>, TableError> {
        if entry.name == "submit" {
            if self.jobs.contains_key(&id) {
                return Err(TableError::Transition {
                    id,
                    reason: "submitted twice".into(),
                });
            }
            let mut job = JobEntry {
                id,
                ..JobEntry::default()
            };
            job.record
                .apply(entry)
                .map_err(|e| TableError::Transition {
                    id,
                    reason: e.to_string(),
                })?;
            job.userid = job.record.userid.unwrap_or(0).try_into().unwrap_or(0);
            self.max_id = self.max_id.max(id);
            self.insert(job);
            return Ok(Some(Fetch::Jobspec(id)));
        }
        if entry.name == "annotations" {
            // The scheduler's word on a pending job: not a state change.
            let Some(job) = self.jobs.get_mut(&id) else {
                return Err(TableError::UnknownJob {
                    id,
                    event: entry.name.clone(),
                });
            };
            job.annotations = entry
                .context
                .get("annotations")
                .filter(|a| !a.is_null())
                .cloned();
            return Ok(None);
        }
        let Some(mut job) = self.remove(id) else {
            return Err(TableError::UnknownJob {
                id,
                event: entry.name.clone(),
            });
        };
        let applied = job.record.apply(entry);
        if applied.is_ok() {
            match entry.name.as_str() {
                "validate" => job.t_depend = Some(entry.timestamp),
                // The allocation's annotations replace the pending ones.
                "alloc" => job.annotations = entry.context.get("annotations").cloned(),
                _ => {}
            }
        }
        self.insert(job);
        match applied {
            Ok(_) if entry.name == "alloc" => Ok(Some(Fetch::R(id))),
            Ok(_) => Ok(None),
            Err(e) => Err(TableError::Transition {
                id,
                reason: e.to_string(),
            }),
        }
    }

    fn insert(&mut self, job: JobEntry) {
        self.count(&job, true);
        self.order.insert(job.index_key());
        self.jobs.insert(job.id, job);
    }

    fn remove(&mut self, id: JobId) -> Option<JobEntry> {
        let job = self.jobs.remove(&id)?;
        self.order.remove(&job.index_key());
        self.count(&job, false);
        Some(job)
    }

    /// Change a job's details (never its state or ordering keys).
    pub fn update(&mut self, id: JobId, f: impl FnOnce(&mut JobEntry)) -> bool {
        match self.jobs.get_mut(&id) {
            Some(job) => {
                f(job);
                true
            }
            None => false,
        }
    }

    /// Jobs in listing order, from the groups `mask` selects (pending, running,
    /// inactive: the index is walked only through those groups).
    pub fn iter_ordered(&self, mask: u32) -> impl Iterator<Item = &JobEntry> {
        let pending = mask & 0x0f != 0;
        let running = mask & 0x30 != 0;
        let inactive = mask & 0x40 != 0;
        let p_lo = IndexKey::Pending(Reverse(i64::MAX), JobId(0));
        let r_lo = IndexKey::Running(Reverse(u64::MAX), JobId(0));
        let i_lo = IndexKey::Inactive(Reverse(u64::MAX), JobId(0));
        let p = pending
            .then(|| self.order.range(p_lo..r_lo))
            .into_iter()
            .flatten();
        let r = running
            .then(|| self.order.range(r_lo..i_lo))
            .into_iter()
            .flatten();
        let i = inactive
            .then(|| self.order.range(i_lo..))
            .into_iter()
            .flatten();
        p.chain(r)
            .chain(i)
            .filter_map(|key| self.jobs.get(&key_id(key)))
    }

    /// Counts per state and result.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            total: self.jobs.len() as u64,
            ..Stats::default()
        };
        for s in JobState::ALL {
            stats.states.insert(s.name(), self.states[state_slot(s)]);
        }
        for r in JobResult::ALL {
            stats.results.insert(r.name(), self.results[result_slot(r)]);
        }
        stats
    }
}

fn key_id(key: &IndexKey) -> JobId {
    match key {
        IndexKey::Pending(_, id) | IndexKey::Running(_, id) | IndexKey::Inactive(_, id) => *id,
    }
}
