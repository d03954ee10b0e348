//! Jobspec V1 (RFC 14 canonical form restricted by RFC 25): typed serde model, parsing
//! with V1 validation, and a builder mapping `flux submit` options (jobspec.md §5).
//!
//! ```
//! use flux_types::jobspec::JobspecBuilder;
//! let js = JobspecBuilder::new(["hostname"]).ntasks(4).nodes(2).cores_per_task(2).build()?;
//! assert_eq!(js.nnodes(), Some(2));
//! # Ok::<(), flux_types::jobspec::JobspecError>(())
//! ```

mod attributes;
mod builder;
mod constraint;
mod error;
mod matcher;
mod path;
mod resource;
mod schema;
mod task;
mod validate;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use attributes::{Attributes, Dependency, JobDuration, ShellAttributes, SystemAttributes};
pub use builder::JobspecBuilder;
pub use constraint::parse_constraint;
pub use error::JobspecError;
pub use matcher::{Constraint, Target};
pub use path::{normalize_setattr_key, parse_key_value, set_path};
pub use resource::{Count, CountRange, Resource, ResourceType};
pub use task::{Task, TaskCount};

/// A jobspec. Field order is the key order `flux submit --dry-run` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jobspec {
    /// Resource request graph (V1: exactly one vertex, node or slot).
    pub resources: Vec<Resource>,
    /// Tasks (V1: exactly one).
    pub tasks: Vec<Task>,
    /// System and user attributes.
    pub attributes: Attributes,
    /// Always 1.
    pub version: u64,
}

impl Jobspec {
    /// Parse and validate a V1 jobspec from JSON text.
    pub fn parse(json: &str) -> Result<Self, JobspecError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| JobspecError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Validate and convert a V1 jobspec from a JSON value.
    pub fn from_value(value: Value) -> Result<Self, JobspecError> {
        schema::check(&value)?;
        let js: Jobspec =
            serde_json::from_value(value).map_err(|e| JobspecError::Schema(e.to_string()))?;
        js.validate()?;
        Ok(js)
    }

    /// A jobspec job-ingest has already validated (the KVS copy, the scheduler and exec
    /// protocols): decoded straight into the typed form, without the schema walk and the
    /// V1 checks, which every module after ingest would otherwise repeat.
    pub fn parse_validated(json: &str) -> Result<Self, JobspecError> {
        serde_json::from_str(json).map_err(|e| JobspecError::Schema(e.to_string()))
    }

    /// [`Jobspec::parse_validated`] for a jobspec already decoded as JSON.
    pub fn from_validated_value(value: Value) -> Result<Self, JobspecError> {
        serde_json::from_value(value).map_err(|e| JobspecError::Schema(e.to_string()))
    }

    /// Check the V1 restrictions (RFC 25) on an already decoded jobspec.
    pub fn validate(&self) -> Result<(), JobspecError> {
        validate::v1(self)
    }

    /// Compact JSON, as stored in the KVS (`job.<id>.jobspec`).
    pub fn to_json(&self) -> String {
        // Only string-keyed maps and JSON values: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line with Python's separators, exactly as `flux submit --dry-run` prints it.
    pub fn to_dry_run_json(&self) -> String {
        // As above, serialization cannot fail.
        crate::pyjson::to_string(self).unwrap_or_default()
    }

    /// As a JSON value (objects lose the key order of [`to_json`](Self::to_json)).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Set an attribute by dotted path relative to `attributes` (e.g.
    /// `system.exec.test.run_duration`), creating intermediate objects, as
    /// `flux submit -S` does. Fails if the result no longer fits the schema.
    pub fn set_attribute(&mut self, path: &str, value: Value) -> Result<(), JobspecError> {
        let mut attrs = serde_json::to_value(&self.attributes)
            .map_err(|e| JobspecError::Schema(e.to_string()))?;
        set_path(&mut attrs, path, value)?;
        self.attributes =
            serde_json::from_value(attrs).map_err(|e| JobspecError::Schema(e.to_string()))?;
        Ok(())
    }

    /// Get an attribute by dotted path relative to `attributes`.
    pub fn get_attribute(&self, path: &str) -> Option<Value> {
        // Walk the typed attributes and serialize only the field reached: executors ask
        // for many options per job, and the environment alone can be most of a jobspec.
        let (first, rest) = split_key(path);
        let (top, rest) = match first {
            "user" => {
                let user = self.attributes.user.as_ref()?;
                return match rest {
                    Some(rest) => lookup(user, rest),
                    None => Some(Value::Object(user.clone())),
                };
            }
            "system" => match rest {
                Some(rest) => split_key(rest),
                None => return serde_json::to_value(&self.attributes.system).ok(),
            },
            _ => return None,
        };
        let sys = &self.attributes.system;
        fn to<T: Serialize>(v: &T) -> Value {
            serde_json::to_value(v).unwrap_or(Value::Null)
        }
        let value = match top {
            "duration" => to(&sys.duration),
            "environment" => to(sys.environment.as_ref()?),
            "cwd" => to(sys.cwd.as_ref()?),
            "shell" => {
                let shell = sys.shell.as_ref()?;
                let Some(rest) = rest else {
                    return serde_json::to_value(shell).ok();
                };
                return match split_key(rest) {
                    ("options", None) => Some(Value::Object(shell.options.clone())),
                    ("options", Some(path)) => lookup(&shell.options, path),
                    _ => lookup(&shell.other, rest),
                };
            }
            "dependencies" => to(sys.dependencies.as_ref()?),
            "constraints" => sys.constraints.clone()?,
            "job" => to(sys.job.as_ref()?),
            "queue" => to(sys.queue.as_ref()?),
            "bank" => to(sys.bank.as_ref()?),
            "project" => to(sys.project.as_ref()?),
            "files" => sys.files.clone()?,
            other => {
                let v = sys.other.get(other)?;
                return match rest {
                    Some(rest) => descend(v, rest),
                    None => Some(v.clone()),
                };
            }
        };
        match rest {
            Some(rest) => descend(&value, rest),
            None => Some(value),
        }
    }

    /// Set a job shell option (`-o KEY=VAL`; a dotted key nests).
    pub fn set_shell_option(&mut self, key: &str, value: Value) -> Result<(), JobspecError> {
        self.set_attribute(&format!("system.shell.options.{key}"), value)
    }

    /// The job shell options (empty if none).
    pub fn shell_options(&self) -> Map<String, Value> {
        self.attributes
            .system
            .shell
            .as_ref()
            .map(|s| s.options.clone())
            .unwrap_or_default()
    }

    /// The top resource vertex.
    fn top(&self) -> Option<&Resource> {
        self.resources.first()
    }

    /// The slot vertex.
    pub fn slot(&self) -> Option<&Resource> {
        self.resources
            .iter()
            .flat_map(Resource::walk)
            .find(|r| r.kind == ResourceType::Slot)
    }

    /// Node count if the request has a node level (`-N`).
    pub fn nnodes(&self) -> Option<u64> {
        self.top()
            .filter(|r| r.kind == ResourceType::Node)
            .and_then(Resource::fixed_count)
    }

    /// Number of slots in total (slot count times node count).
    pub fn nslots(&self) -> u64 {
        let per = self.slot().and_then(Resource::fixed_count).unwrap_or(0);
        per * self.nnodes().unwrap_or(1)
    }

    /// Count of `kind` per slot (e.g. cores per task).
    pub fn per_slot(&self, kind: &ResourceType) -> u64 {
        self.slot()
            .into_iter()
            .flat_map(|s| s.with.iter())
            .filter(|r| &r.kind == kind)
            .filter_map(Resource::fixed_count)
            .sum()
    }

    /// Cores per slot.
    pub fn cores_per_slot(&self) -> u64 {
        self.per_slot(&ResourceType::Core)
    }

    /// GPUs per slot.
    pub fn gpus_per_slot(&self) -> u64 {
        self.per_slot(&ResourceType::Gpu)
    }

    /// True if the node level asks for exclusive nodes.
    pub fn exclusive(&self) -> bool {
        self.top()
            .is_some_and(|r| r.kind == ResourceType::Node && r.exclusive == Some(true))
    }

    /// Total number of tasks.
    pub fn ntasks(&self) -> u64 {
        match self.tasks.first().map(|t| &t.count) {
            Some(TaskCount::PerSlot(n)) => n * self.nslots(),
            Some(TaskCount::Total(n)) => *n,
            // per_resource depends on the allocation; count one per slot at least.
            Some(TaskCount::PerResource { .. }) => self.nslots(),
            None => 0,
        }
    }

    /// The command of the (first) task.
    pub fn command(&self) -> &[String] {
        self.tasks.first().map_or(&[], |t| &t.command)
    }

    /// Time limit in seconds (0 = unset).
    pub fn duration(&self) -> f64 {
        self.attributes.system.duration.secs()
    }

    /// `system.job.name`, else the basename of the command, as `flux jobs` shows.
    pub fn job_name(&self) -> Option<String> {
        let named = self
            .attributes
            .system
            .job
            .as_ref()
            .and_then(|j| j.get("name"));
        match named {
            Some(n) => Some(n.clone()),
            None => self
                .command()
                .first()
                .map(|c| c.rsplit('/').next().unwrap_or(c).to_string()),
        }
    }

    /// `system.queue`.
    pub fn queue(&self) -> Option<&str> {
        self.attributes.system.queue.as_deref()
    }

    /// Add required resource properties to `system.constraints` (ANDed with what is
    /// there), as a queue's `requires` does.
    pub fn require_properties(&mut self, properties: &[String]) {
        if properties.is_empty() {
            return;
        }
        let term = serde_json::json!({ "properties": properties });
        let sys = &mut self.attributes.system;
        sys.constraints = Some(match sys.constraints.take() {
            Some(existing) if existing.as_object().is_some_and(|m| !m.is_empty()) => {
                constraint::combine(existing, term)
            }
            _ => term,
        });
    }

    /// `system.cwd`.
    pub fn cwd(&self) -> Option<&str> {
        self.attributes.system.cwd.as_deref()
    }
}

impl std::str::FromStr for Jobspec {
    type Err = JobspecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jobspec::parse(s)
    }
}

#[cfg(test)]
mod tests;

/// `a.b.c` -> (`a`, Some(`b.c`)).
fn split_key(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    }
}

/// The value at a dotted `path` below an object.
fn lookup(map: &Map<String, Value>, path: &str) -> Option<Value> {
    let (first, rest) = split_key(path);
    let v = map.get(first)?;
    match rest {
        Some(rest) => descend(v, rest),
        None => Some(v.clone()),
    }
}

fn descend(v: &Value, path: &str) -> Option<Value> {
    lookup(v.as_object()?, path)
}
