//! `job-list.list` requests: filters over the [`JobTable`] and the job objects returned
//! (flux-core's attribute names; attributes a job does not have yet are left out).

use flux_proto::types::JobState;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::table::{JobEntry, JobTable};

/// Default `max_entries` when a request gives none.
pub const DEFAULT_MAX: usize = 1000;

/// Every attribute a job object may carry.
pub const ATTRS: &[&str] = &[
    "userid",
    "urgency",
    "priority",
    "t_submit",
    "t_depend",
    "t_run",
    "t_cleanup",
    "t_inactive",
    "state",
    "name",
    "cwd",
    "queue",
    "ntasks",
    "ncores",
    "duration",
    "nnodes",
    "ranks",
    "nodelist",
    "success",
    "exception_occurred",
    "exception_type",
    "exception_severity",
    "exception_note",
    "result",
    "expiration",
    "annotations",
    "waitstatus",
    "dependencies",
];

/// Whose jobs: one user's or everybody's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Users {
    /// Every user (`"all"`, or flux-core's `FLUX_USERID_UNKNOWN`).
    #[default]
    All,
    /// One user.
    One(u32),
}

impl<'de> Deserialize<'de> for Users {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) if s == "all" => Ok(Users::All),
            Value::Number(n) => match n.as_u64() {
                Some(0xffff_ffff) => Ok(Users::All),
                Some(u) => u32::try_from(u)
                    .map(Users::One)
                    .map_err(serde::de::Error::custom),
                None => Err(serde::de::Error::custom("userid must be a uid or \"all\"")),
            },
            Value::Null => Ok(Users::All),
            other => Err(serde::de::Error::custom(format!(
                "userid must be a uid or \"all\", not {other}"
            ))),
        }
    }
}

/// A `job-list.list` request.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ListRequest {
    /// At most this many jobs; 0 = no limit. Default 1000.
    pub max_entries: Option<usize>,
    /// Whose jobs.
    pub userid: Users,
    /// State mask (bits of [`JobState`]); 0 = all.
    pub states: u32,
    /// Result mask (bits of `JobResult`); 0 = any. Selects inactive jobs only.
    pub results: u32,
    /// Only inactive jobs that became inactive after this time (active ones always).
    pub since: f64,
    /// Only jobs of this name.
    pub name: Option<String>,
    /// Only jobs of this queue.
    pub queue: Option<String>,
    /// Attributes to return (`"all"` for every one); `id` is always returned.
    pub attrs: Vec<String>,
}

impl ListRequest {
    /// The unknown attribute names asked for, if any.
    pub fn check_attrs(&self) -> Result<(), String> {
        match self
            .attrs
            .iter()
            .find(|a| *a != "all" && *a != "id" && !ATTRS.contains(&a.as_str()))
        {
            Some(a) => Err(format!("unknown attribute '{a}'")),
            None => Ok(()),
        }
    }

    /// The states selected: all when none given; results imply INACTIVE.
    fn state_mask(&self) -> u32 {
        match (self.states, self.results) {
            (0, 0) => 0x7f,
            (0, _) => JobState::Inactive.bits(),
            (s, 0) => s,
            (s, _) => s | JobState::Inactive.bits(),
        }
    }

    fn selects(&self, job: &JobEntry) -> bool {
        let state = job.state();
        if let Users::One(u) = self.userid
            && job.userid != u
        {
            return false;
        }
        if self.state_mask() & state.bits() == 0 {
            return false;
        }
        if self.results != 0
            && state == JobState::Inactive
            && job.result().is_none_or(|r| r.bits() & self.results == 0)
        {
            return false;
        }
        if state == JobState::Inactive
            && self.since > 0.0
            && job.record.t_inactive.unwrap_or(0.0) <= self.since
        {
            return false;
        }
        if let Some(name) = &self.name
            && job.name.as_deref() != Some(name.as_str())
        {
            return false;
        }
        if let Some(queue) = &self.queue
            && job.queue.as_deref() != Some(queue.as_str())
        {
            return false;
        }
        true
    }

    /// The jobs selected, in listing order, as JSON objects.
    pub fn run(&self, table: &JobTable) -> Vec<Value> {
        let mask = self.state_mask();
        let max = match self.max_entries {
            None => DEFAULT_MAX,
            Some(0) => usize::MAX,
            Some(n) => n,
        };
        let mut out = Vec::new();
        for job in table.iter_ordered(mask) {
            if out.len() >= max {
                break;
            }
            // The inactive group is ordered by t_inactive: nothing older can follow.
            if job.state() == JobState::Inactive
                && self.since > 0.0
                && job.record.t_inactive.unwrap_or(0.0) <= self.since
            {
                break;
            }
            if self.selects(job) {
                out.push(to_json(job, &self.attrs));
            }
        }
        out
    }
}

/// A job as a JSON object with `attrs` (every attribute when empty or `all`).
pub fn to_json(job: &JobEntry, attrs: &[String]) -> Value {
    let all = attrs.is_empty() || attrs.iter().any(|a| a == "all");
    let want = |name: &str| all || attrs.iter().any(|a| a == name);
    let mut obj = Map::new();
    obj.insert("id".into(), json!(job.id.0));
    let rec = &job.record;
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value
            && want(name)
        {
            obj.insert(name.to_string(), v);
        }
    };
    put("userid", Some(json!(job.userid)));
    put("urgency", rec.urgency.map(|u| json!(u)));
    put("priority", rec.priority.map(|p| json!(p)));
    put("t_submit", rec.t_submit.map(|t| json!(t)));
    put("t_depend", job.t_depend.map(|t| json!(t)));
    put("t_run", rec.t_run.map(|t| json!(t)));
    put("t_cleanup", rec.t_cleanup.map(|t| json!(t)));
    put("t_inactive", rec.t_inactive.map(|t| json!(t)));
    put("state", Some(json!(job.state().bits())));
    put("name", job.name.as_ref().map(|n| json!(n)));
    put("cwd", job.cwd.as_ref().map(|c| json!(c)));
    put("queue", job.queue.as_ref().map(|q| json!(q)));
    let loaded = job.jobspec_loaded;
    put("ntasks", loaded.then(|| json!(job.ntasks)));
    let sized = loaded || job.ranks.is_some();
    put("ncores", sized.then(|| json!(job.ncores)));
    put("duration", loaded.then(|| json!(job.duration)));
    put("nnodes", job.nnodes.map(|n| json!(n)));
    put("ranks", job.ranks.as_ref().map(|r| json!(r)));
    put("nodelist", job.nodelist.as_ref().map(|n| json!(n)));
    put("expiration", job.expiration.map(|e| json!(e)));
    put("annotations", job.annotations.clone());
    put("dependencies", Some(json!(rec.dependencies)));
    if let Some(result) = job.result() {
        put("result", Some(json!(result.bits())));
        put("success", Some(json!(result.bits() == 1)));
        put("waitstatus", rec.wait_status().map(|w| json!(w)));
        let exc = rec.fatal_exception.as_ref();
        put("exception_occurred", Some(json!(exc.is_some())));
        if let Some(e) = exc {
            put("exception_type", Some(json!(e.kind)));
            put("exception_severity", Some(json!(e.severity)));
            put("exception_note", Some(json!(e.note)));
        }
    }
    Value::Object(obj)
}
