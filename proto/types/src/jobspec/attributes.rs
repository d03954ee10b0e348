//! `attributes.system` and `attributes.user`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::JobspecError;

/// `{"system": {...}, "user": {...}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Attributes Flux acts on.
    pub system: SystemAttributes,
    /// Free-form user attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Map<String, Value>>,
}

/// `attributes.system`. Known keys are typed; any other key (e.g. `exec`,
/// `preemptible-after`) is kept in `other`.
///
/// Field order is the key order of `flux submit --dry-run` (the order in which its
/// options are applied).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SystemAttributes {
    /// Time limit in seconds, 0 = unset.
    pub duration: JobDuration,
    /// Task environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<BTreeMap<String, String>>,
    /// Working directory of the tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Job shell settings (`shell.options`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<ShellAttributes>,
    /// RFC 26 dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<Dependency>>,
    /// RFC 31 constraints (opaque JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Value>,
    /// `job.name` and other string job metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<BTreeMap<String, String>>,
    /// Target queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Accounting bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// Accounting project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// RFC 37 file archive (opaque JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Value>,
    /// Any other key.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `attributes.system.shell`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShellAttributes {
    /// Job shell options (`-o KEY=VAL`).
    #[serde(default)]
    pub options: Map<String, Value>,
    /// Any other key.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An RFC 26 dependency, `{"scheme", "value", ...extra keys}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    /// `afterok`, `afterany`, `begin-time`, `singleton`, ...
    pub scheme: String,
    /// Scheme argument (a job id, a timestamp, or empty).
    pub value: String,
    /// Extra keys from the URI query string.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Dependency {
    /// A dependency without extra keys.
    pub fn new(scheme: &str, value: &str) -> Self {
        Dependency {
            scheme: scheme.to_string(),
            value: value.to_string(),
            extra: Map::new(),
        }
    }

    /// Parse the CLI form `SCHEME:VALUE[?k=v[&k=v]...]`: query values become numbers
    /// when they parse as such, repeated keys become arrays.
    pub fn parse_uri(uri: &str) -> Result<Self, JobspecError> {
        let bad =
            || JobspecError::Option(format!("invalid dependency '{uri}': expected SCHEME:VALUE"));
        let (scheme, rest) = uri.split_once(':').ok_or_else(bad)?;
        if scheme.is_empty() {
            return Err(bad());
        }
        let (value, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut dep = Dependency::new(scheme, value);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = query_value(v);
            match dep.extra.get_mut(k) {
                Some(Value::Array(a)) => a.push(v),
                Some(old) => *old = Value::Array(vec![old.take(), v]),
                None => {
                    dep.extra.insert(k.to_string(), v);
                }
            }
        }
        Ok(dep)
    }
}

fn query_value(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        Value::from(i)
    } else if let Some(n) = v.parse::<f64>().ok().and_then(Number::from_f64) {
        Value::Number(n)
    } else {
        Value::from(v)
    }
}

/// `attributes.system.duration`: seconds, kept as the JSON number it was written as, so
/// an unset `0` stays an integer and `600.0` stays a float (as Python writes them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobDuration(Number);

impl JobDuration {
    /// Unset (integer 0): the instance default or expiration applies.
    pub fn unset() -> Self {
        JobDuration(Number::from(0u8))
    }

    /// A limit of `secs` seconds (written as a float); must be finite and >= 0.
    pub fn from_secs(secs: f64) -> Result<Self, JobspecError> {
        if secs < 0.0 {
            return Err(JobspecError::Duration(secs.to_string()));
        }
        Number::from_f64(secs)
            .map(JobDuration)
            .ok_or_else(|| JobspecError::Duration(secs.to_string()))
    }

    /// Seconds.
    pub fn secs(&self) -> f64 {
        // Every serde_json Number converts to f64 (possibly rounded).
        self.0.as_f64().unwrap_or(0.0)
    }

    /// True if 0 (no limit requested).
    pub fn is_unset(&self) -> bool {
        self.secs() == 0.0
    }
}

impl Default for JobDuration {
    fn default() -> Self {
        JobDuration::unset()
    }
}
