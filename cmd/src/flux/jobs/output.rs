//! Printing the jobs: the formatted table (with `--sort`) or JSON.

use std::cmp::Ordering;
use std::collections::HashMap;

use flux_proto::types::{JobResult, JobState};
use serde_json::{Map, Value as Json, json};

use super::fields::{JobRow, headings};
use super::format::{Format, Row, Value};
use crate::util;

/// How to print a listing.
pub struct Output<'a> {
    /// The format.
    pub format: &'a Format,
    /// Print the header line.
    pub header: bool,
    /// Sort keys (`-` first to reverse).
    pub sort: &'a [String],
    /// Current time.
    pub now: f64,
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(_) | Value::Int(_), Value::Float(_) | Value::Int(_)) => {
            let f = |v: &Value| match v {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => 0.0,
            };
            f(a).total_cmp(&f(b))
        }
        (Value::Empty, Value::Empty) => Ordering::Equal,
        (Value::Empty, _) => Ordering::Less,
        (_, Value::Empty) => Ordering::Greater,
        _ => a.text().cmp(&b.text()),
    }
}

impl Output<'_> {
    /// The lines to print.
    pub fn lines(&self, jobs: &[Json]) -> Vec<String> {
        let mut names: HashMap<u32, String> = HashMap::new();
        let mut rows: Vec<JobRow> = jobs
            .iter()
            .map(|job| {
                let uid = job.get("userid").and_then(Json::as_u64).unwrap_or(0) as u32;
                let username = names
                    .entry(uid)
                    .or_insert_with(|| util::username(uid))
                    .clone();
                JobRow {
                    job,
                    username,
                    now: self.now,
                }
            })
            .collect();
        if !self.sort.is_empty() {
            rows.sort_by(|a, b| {
                for key in self.sort {
                    let (name, rev) = match key.strip_prefix('-') {
                        Some(n) => (n, true),
                        None => (key.as_str(), false),
                    };
                    let ord = compare(&a.get(name), &b.get(name));
                    let ord = if rev { ord.reverse() } else { ord };
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                Ordering::Equal
            });
        }
        let refs: Vec<&dyn Row> = rows.iter().map(|r| r as &dyn Row).collect();
        let headings = headings();
        self.format.render(self.header.then_some(&headings), &refs)
    }
}

/// One job as `flux jobs --json` prints it: states and results by name, exception grouped.
fn job_json(job: &Json) -> Json {
    let mut out = Map::new();
    let Some(obj) = job.as_object() else {
        return job.clone();
    };
    let mut exception = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "state" => {
                let name = v
                    .as_u64()
                    .and_then(|b| JobState::from_bits(b as u32))
                    .map_or("NEW", JobState::name);
                out.insert(k.clone(), json!(name));
            }
            "result" => {
                let name = JobResult::ALL
                    .into_iter()
                    .find(|r| v.as_u64() == Some(u64::from(r.bits())))
                    .map_or("", JobResult::name);
                out.insert(k.clone(), json!(name));
            }
            "exception_occurred" => {
                exception.insert("occurred".into(), v.clone());
            }
            k if k.starts_with("exception_") => {
                exception.insert(k["exception_".len()..].to_string(), v.clone());
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if !exception.is_empty() {
        out.insert("exception".into(), Json::Object(exception));
    }
    let row = JobRow {
        job,
        username: String::new(),
        now: 0.0,
    };
    if let Value::Int(rc) = row.get("returncode") {
        out.insert("returncode".into(), json!(rc));
    }
    Json::Object(out)
}

/// `--json`: `{"jobs":[...]}`, or the job itself when one job id was asked for.
pub fn json(jobs: &[Json], single: bool) -> String {
    let jobs: Vec<Json> = jobs.iter().map(job_json).collect();
    match (single, jobs.first()) {
        (true, Some(job)) if jobs.len() == 1 => job.to_string(),
        _ => json!({ "jobs": jobs }).to_string(),
    }
}
