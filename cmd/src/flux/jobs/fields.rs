//! The fields of `flux jobs` formats: a job object from `job-list` plus what is derived from
//! it (status, contextual time and info, return code ...), with their headings.

use std::collections::HashMap;

use flux_proto::types::{JobId, JobResult, JobState, WaitStatus};
use serde_json::Value as Json;

use super::format::{Row, Value, fsd};

/// Every field `flux jobs -o` knows (besides `annotations.*`, `sched.*`, `user.*`) and
/// its heading.
pub const FIELDS: &[(&str, &str)] = &[
    ("id", "JOBID"),
    ("id.dec", "JOBID"),
    ("id.hex", "JOBID"),
    ("id.f58", "JOBID"),
    ("id.f58plain", "JOBID"),
    ("id.dothex", "JOBID"),
    ("id.words", "JOBID"),
    ("id.emoji", "JOBID"),
    ("userid", "UID"),
    ("username", "USER"),
    ("urgency", "URG"),
    ("priority", "PRI"),
    ("state", "STATE"),
    ("state_single", "S"),
    ("state_emoji", "STATE"),
    ("result", "RESULT"),
    ("result_abbrev", "RS"),
    ("result_emoji", "RESULT"),
    ("success", "SUCCESS"),
    ("status", "STATUS"),
    ("status_abbrev", "ST"),
    ("status_emoji", "STATUS"),
    ("name", "NAME"),
    ("cwd", "CWD"),
    ("queue", "QUEUE"),
    ("ntasks", "NTASKS"),
    ("ncores", "NCORES"),
    ("nnodes", "NNODES"),
    ("ranks", "RANKS"),
    ("nodelist", "NODELIST"),
    ("duration", "DURATION"),
    ("expiration", "EXPIRATION"),
    ("t_submit", "T_SUBMIT"),
    ("t_depend", "T_DEPEND"),
    ("t_run", "T_RUN"),
    ("t_cleanup", "T_CLEANUP"),
    ("t_inactive", "T_INACTIVE"),
    ("runtime", "RUNTIME"),
    ("t_remaining", "T_REMAINING"),
    ("returncode", "RC"),
    ("waitstatus", "WSTATUS"),
    ("exception.occurred", "EXCEPTION-OCCURRED"),
    ("exception.severity", "EXCEPTION-SEVERITY"),
    ("exception.type", "EXCEPTION-TYPE"),
    ("exception.note", "EXCEPTION-NOTE"),
    ("dependencies", "DEPENDENCIES"),
    ("annotations", "ANNOTATIONS"),
    ("inactive_reason", "INACTIVE-REASON"),
    ("contextual_info", "INFO"),
    ("contextual_time", "TIME"),
];

/// Whether `name` is a field of `flux jobs`.
pub fn known(name: &str) -> bool {
    FIELDS.iter().any(|(f, _)| *f == name)
        || ["annotations.", "sched.", "user."]
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// Field name -> heading.
pub fn headings() -> HashMap<&'static str, &'static str> {
    FIELDS.iter().copied().collect()
}

/// One job to format.
pub struct JobRow<'a> {
    /// The job object from `job-list`.
    pub job: &'a Json,
    /// The submitter's login name.
    pub username: String,
    /// Current time (for running jobs' runtime).
    pub now: f64,
}

impl JobRow<'_> {
    fn num(&self, key: &str) -> Option<f64> {
        self.job.get(key).and_then(Json::as_f64)
    }

    fn int(&self, key: &str) -> Option<i64> {
        self.job.get(key).and_then(Json::as_i64)
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.job.get(key).and_then(Json::as_str)
    }

    /// The job id.
    pub fn id(&self) -> JobId {
        JobId(self.job.get("id").and_then(Json::as_u64).unwrap_or(0))
    }

    /// The job state.
    pub fn state(&self) -> JobState {
        self.int("state")
            .and_then(|s| JobState::from_bits(s as u32))
            .unwrap_or_default()
    }

    /// The result, if inactive.
    pub fn result(&self) -> Option<JobResult> {
        let bits = self.int("result")?;
        JobResult::ALL
            .into_iter()
            .find(|r| i64::from(r.bits()) == bits)
    }

    fn runtime(&self) -> f64 {
        match self.num("t_run") {
            Some(run) if run > 0.0 => {
                let end = self.num("t_cleanup").unwrap_or(self.now);
                (end - run).max(0.0)
            }
            _ => 0.0,
        }
    }

    fn returncode(&self) -> Value {
        let Some(result) = self.result() else {
            return Value::Empty;
        };
        match self.int("waitstatus") {
            Some(w) => Value::Int(i64::from(WaitStatus(w as i32).returncode())),
            None if result == JobResult::Canceled => Value::Int(-128),
            None => Value::Int(1),
        }
    }

    fn dependencies(&self) -> String {
        self.job
            .get("dependencies")
            .and_then(Json::as_array)
            .map(|d| {
                d.iter()
                    .filter_map(Json::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    }

    fn annotation(&self, path: &str) -> Value {
        let mut v = self.job.get("annotations");
        for part in path.split('.') {
            v = v.and_then(|x| x.get(part));
        }
        json_value(v)
    }

    fn contextual_info(&self) -> String {
        match self.state() {
            JobState::New | JobState::Depend => format!("depends:{}", self.dependencies()),
            JobState::Priority => "priority-wait".into(),
            JobState::Sched => {
                if self.int("urgency") == Some(0) {
                    "held".into()
                } else if self.int("priority") == Some(0) {
                    "priority-hold".into()
                } else if let Some(eta) = self
                    .job
                    .pointer("/annotations/sched/t_estimate")
                    .and_then(Json::as_f64)
                {
                    format!("eta:{}", fsd((eta - self.now).max(0.0)))
                } else {
                    match self.annotation("sched.reason_pending") {
                        Value::Str(r) => r,
                        _ => String::new(),
                    }
                }
            }
            _ => self.str("nodelist").unwrap_or_default().to_string(),
        }
    }

    fn inactive_reason(&self) -> String {
        let Some(result) = self.result() else {
            return String::new();
        };
        let note = self.str("exception_note").unwrap_or_default();
        match result {
            JobResult::Completed => "Exit 0".into(),
            JobResult::Canceled if note.is_empty() => "Canceled".into(),
            JobResult::Canceled => format!("Canceled: {note}"),
            JobResult::Timeout => "Timeout".into(),
            JobResult::Failed => {
                if self.job.get("exception_occurred") == Some(&Json::Bool(true)) {
                    let kind = self.str("exception_type").unwrap_or_default();
                    if note.is_empty() {
                        format!("Exception: type={kind}")
                    } else {
                        format!("Exception: type={kind} note={note}")
                    }
                } else {
                    match self.int("waitstatus").map(|w| WaitStatus(w as i32)) {
                        Some(w) if w.is_signaled() => {
                            format!("Killed by signal {}", w.signal().unwrap_or(0))
                        }
                        Some(w) => format!("Exit {}", w.exit_status().unwrap_or(1)),
                        None => "Failed".into(),
                    }
                }
            }
        }
    }

    fn status(&self) -> &'static str {
        match self.result() {
            Some(r) => r.name(),
            None => self.state().name(),
        }
    }

    fn status_abbrev(&self) -> &'static str {
        match self.result() {
            Some(r) => r.abbrev(),
            None => self.state().abbrev(),
        }
    }
}

fn json_value(v: Option<&Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::Empty,
        Some(Json::String(s)) => Value::Str(s.clone()),
        Some(Json::Bool(b)) => Value::Bool(*b),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Some(other) => Value::Str(other.to_string()),
    }
}

fn state_emoji(s: JobState) -> &'static str {
    match s {
        JobState::New | JobState::Depend => "🕐",
        JobState::Priority | JobState::Sched => "⏳",
        JobState::Run => "🏃",
        JobState::Cleanup => "🧹",
        JobState::Inactive => "💤",
    }
}

fn result_emoji(r: JobResult) -> &'static str {
    match r {
        JobResult::Completed => "✅",
        JobResult::Failed => "❌",
        JobResult::Canceled => "🚫",
        JobResult::Timeout => "⌛",
    }
}

impl Row for JobRow<'_> {
    fn get(&self, name: &str) -> Value {
        let s = |v: &str| Value::Str(v.to_string());
        let id = self.id();
        match name {
            "id" | "id.f58" => s(&id.to_f58()),
            "id.dec" => Value::Int(id.0 as i64),
            "id.hex" => s(&format!("{:#018x}", id.0)),
            "id.f58plain" => s(&id.to_f58_plain()),
            "id.dothex" => s(&id.to_dothex()),
            "id.words" => s(&id.to_words()),
            "id.emoji" => s(&id.to_emoji()),
            "username" => s(&self.username),
            "state" => s(self.state().name()),
            "state_single" => s(self.state().abbrev()),
            "state_emoji" => s(state_emoji(self.state())),
            "result" => self.result().map_or(Value::Empty, |r| s(r.name())),
            "result_abbrev" => self.result().map_or(Value::Empty, |r| s(r.abbrev())),
            "result_emoji" => self.result().map_or(Value::Empty, |r| s(result_emoji(r))),
            "status" => s(self.status()),
            "status_abbrev" => s(self.status_abbrev()),
            "status_emoji" => match self.result() {
                Some(r) => s(result_emoji(r)),
                None => s(state_emoji(self.state())),
            },
            "runtime" => Value::Float(self.runtime()),
            "t_remaining" => match (self.state(), self.num("expiration")) {
                (JobState::Run, Some(e)) if e > 0.0 => Value::Float((e - self.now).max(0.0)),
                _ => Value::Float(0.0),
            },
            "duration" => Value::Float(self.num("duration").unwrap_or(0.0)),
            "returncode" => self.returncode(),
            "exception.occurred" => json_value(self.job.get("exception_occurred")),
            "exception.severity" => json_value(self.job.get("exception_severity")),
            "exception.type" => json_value(self.job.get("exception_type")),
            "exception.note" => json_value(self.job.get("exception_note")),
            "dependencies" => s(&self.dependencies()),
            "contextual_info" => s(&self.contextual_info()),
            "contextual_time" => Value::Float(if self.state().is_pending() {
                self.num("duration").unwrap_or(0.0)
            } else {
                self.runtime()
            }),
            "inactive_reason" => s(&self.inactive_reason()),
            "annotations" => json_value(self.job.get("annotations")),
            n if n.starts_with("annotations.") => self.annotation(&n["annotations.".len()..]),
            n if n.starts_with("sched.") || n.starts_with("user.") => self.annotation(n),
            n => json_value(self.job.get(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(job: &Json) -> JobRow<'_> {
        JobRow {
            job,
            username: "alice".into(),
            now: 100.0,
        }
    }

    #[test]
    fn derived_fields() {
        let running = json!({"id": 1, "state": 16, "t_run": 90.0, "nodelist": "node[0-1]",
            "expiration": 130.0, "duration": 40.0});
        let r = row(&running);
        assert_eq!(r.get("status_abbrev"), Value::Str("R".into()));
        assert_eq!(r.get("contextual_time"), Value::Float(10.0));
        assert_eq!(r.get("contextual_info"), Value::Str("node[0-1]".into()));
        assert_eq!(r.get("t_remaining"), Value::Float(30.0));
        assert_eq!(r.get("returncode"), Value::Empty);
        let held = json!({"id": 2, "state": 8, "urgency": 0, "priority": 0, "duration": 60.0});
        assert_eq!(row(&held).get("contextual_info"), Value::Str("held".into()));
        assert_eq!(row(&held).get("contextual_time"), Value::Float(60.0));
        let failed = json!({"id": 3, "state": 64, "result": 2, "waitstatus": 256,
            "t_run": 1.0, "t_cleanup": 3.5, "exception_occurred": false});
        let f = row(&failed);
        assert_eq!(f.get("status"), Value::Str("FAILED".into()));
        assert_eq!(f.get("returncode"), Value::Int(1));
        assert_eq!(f.get("runtime"), Value::Float(2.5));
        assert_eq!(f.get("inactive_reason"), Value::Str("Exit 1".into()));
        let canceled = json!({"id": 4, "state": 64, "result": 4, "exception_occurred": true,
            "exception_type": "cancel", "exception_note": ""});
        let c = row(&canceled);
        assert_eq!(c.get("status_abbrev"), Value::Str("CA".into()));
        assert_eq!(c.get("returncode"), Value::Int(-128));
        assert_eq!(c.get("inactive_reason"), Value::Str("Canceled".into()));
        let dep = json!({"id": 5, "state": 2, "dependencies": ["after-success=1"],
            "annotations": {"user": {"x": 3}}});
        assert_eq!(
            row(&dep).get("contextual_info"),
            Value::Str("depends:after-success=1".into())
        );
        assert_eq!(row(&dep).get("user.x"), Value::Int(3));
        assert!(known("sched.reason_pending") && known("id.words") && !known("bogus"));
    }
}
