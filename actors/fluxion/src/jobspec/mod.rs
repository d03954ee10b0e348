//! Jobspec (RFC 14) as Fluxion reads it: arbitrary resource shapes, slots, count ranges.

mod constraint;
mod count;
mod validate;
mod xor;

use serde_yaml::Value;

pub use constraint::Constraint;
pub use count::Count;
pub use xor::{MAX_XOR_EXPANSIONS, XOR_SLOT};

use crate::error::JobspecError;

/// Explicit exclusivity setting of a resource request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tristate {
    /// Not given.
    #[default]
    Unspecified,
    /// `exclusive: true`.
    True,
    /// `exclusive: false`.
    False,
}
/// One resource request vertex.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Resource type (or `slot`).
    pub ty: String,
    /// Requested count.
    pub count: Count,
    /// Explicit exclusivity.
    pub exclusive: Tristate,
    /// Children.
    pub with: Vec<Resource>,
    /// Slot label.
    pub label: String,
    /// Unit (informational).
    pub unit: String,
}

/// A task entry (only the slot label matters to the matcher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Label of the slot the task runs in.
    pub slot: String,
}

/// A parsed jobspec.
#[derive(Debug, Clone, PartialEq)]
pub struct Jobspec {
    /// Jobspec version (1..=9999).
    pub version: i64,
    /// Top-level resource requests.
    pub resources: Vec<Resource>,
    /// Tasks.
    pub tasks: Vec<Task>,
    /// `attributes.system.duration` rounded up to seconds; 0 = unlimited.
    pub duration: u64,
    /// `attributes.system.queue`.
    pub queue: Option<String>,
    /// `attributes.system.constraints` (RFC 31).
    pub constraint: Option<Constraint>,
}
fn invalid(msg: impl Into<String>) -> JobspecError {
    JobspecError::Invalid(msg.into())
}

fn as_u32(v: &Value, what: &str) -> Result<u32, JobspecError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid(format!("{what} must be a non-negative integer")))
}

fn parse_count(v: &Value) -> Result<Count, JobspecError> {
    if let Some(n) = v.as_u64() {
        let n = u32::try_from(n).map_err(|_| invalid("count too large"))?;
        if n < 1 {
            return Err(invalid("count must be >= 1"));
        }
        return Ok(Count::fixed(n));
    }
    let m = v
        .as_mapping()
        .ok_or_else(|| invalid("count must be an integer or a mapping"))?;
    let get = |k: &str| m.get(Value::String(k.to_string()));
    for k in m.keys() {
        match k.as_str() {
            Some("min" | "max" | "operator" | "operand") => {}
            _ => return Err(invalid(format!("unknown count key {k:?}"))),
        }
    }
    let min = as_u32(
        get("min").ok_or_else(|| invalid("count without min"))?,
        "min",
    )?;
    if min < 1 {
        return Err(invalid("count.min must be >= 1"));
    }
    let (max, oper, operand) = match (get("max"), get("operator"), get("operand")) {
        (None, None, None) => (u32::MAX, '+', 1),
        (Some(max), Some(op), Some(operand)) => {
            let op = op
                .as_str()
                .and_then(|s| s.chars().next())
                .ok_or_else(|| invalid("bad operator"))?;
            (as_u32(max, "max")?, op, as_u32(operand, "operand")?)
        }
        (Some(max), None, None) => (as_u32(max, "max")?, '+', 1),
        _ => return Err(invalid("max, operator and operand must appear together")),
    };
    if max < min {
        return Err(invalid("count.max must be >= count.min"));
    }
    let ok = match oper {
        '+' => operand >= 1,
        '*' => operand >= 2,
        '^' => operand >= 2 && min >= 2,
        _ => false,
    };
    if !ok {
        return Err(invalid(format!(
            "invalid operator {oper} with operand {operand}"
        )));
    }
    Ok(Count {
        min,
        max,
        oper,
        operand,
    })
}

fn parse_resource(v: &Value) -> Result<Resource, JobspecError> {
    let m = v
        .as_mapping()
        .ok_or_else(|| invalid("resource must be a mapping"))?;
    let mut r = Resource {
        ty: String::new(),
        count: Count::fixed(1),
        exclusive: Tristate::Unspecified,
        with: Vec::new(),
        label: String::new(),
        unit: String::new(),
    };
    let mut has_count = false;
    for (k, val) in m {
        match k.as_str() {
            Some("type") => {
                r.ty = val
                    .as_str()
                    .ok_or_else(|| invalid("type must be a string"))?
                    .to_string()
            }
            Some("count") => {
                r.count = parse_count(val)?;
                has_count = true;
            }
            Some("exclusive") => {
                r.exclusive = match val.as_bool() {
                    Some(true) => Tristate::True,
                    Some(false) => Tristate::False,
                    None => return Err(invalid("exclusive must be a boolean")),
                }
            }
            Some("with") => {
                let seq = val
                    .as_sequence()
                    .ok_or_else(|| invalid("with must be a sequence"))?;
                r.with = seq.iter().map(parse_resource).collect::<Result<_, _>>()?;
            }
            Some("label") => {
                r.label = val
                    .as_str()
                    .ok_or_else(|| invalid("label must be a string"))?
                    .to_string()
            }
            Some("unit") => {
                r.unit = val
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid("unit must be a string"))?
            }
            Some("id") if val.is_sequence() || val.is_mapping() => {
                return Err(invalid("id must be a scalar"));
            }
            Some("id") => {}
            _ => return Err(invalid(format!("unknown resource key {k:?}"))),
        }
    }
    if r.ty.is_empty() {
        return Err(invalid("resource without type"));
    }
    if !has_count {
        return Err(invalid("resource without count"));
    }
    if (r.ty == "slot" || r.ty == XOR_SLOT) && r.label.is_empty() {
        return Err(invalid("slot without label"));
    }
    Ok(r)
}

impl Jobspec {
    /// Parses a YAML (or JSON) jobspec.
    pub fn parse(text: &str) -> Result<Self, JobspecError> {
        Self::from_doc(serde_yaml::from_str(text)?)
    }

    /// A jobspec already decoded as JSON (what the scheduler protocol carries); see
    /// [`Jobspec::matching_part`].
    pub fn from_json(doc: &serde_json::Value) -> Result<Self, JobspecError> {
        let doc =
            serde_yaml::to_value(Self::matching_part(doc)).map_err(|e| invalid(e.to_string()))?;
        Self::from_doc(doc)
    }

    /// What matching reads of a JSON jobspec: version, resources, tasks and the system
    /// attributes `duration`, `queue` and `constraints` (other attribute keys are kept,
    /// empty, so that unknown ones are still refused). A submitted jobspec's environment
    /// alone can be most of it, and it would be copied and parsed for every match.
    pub fn matching_part(doc: &serde_json::Value) -> serde_json::Value {
        use serde_json::{Map, Value as Json};
        let pick = |from: &Json, keys: &[&str]| -> Map<String, Json> {
            keys.iter()
                .filter_map(|k| from.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect()
        };
        let mut small = pick(doc, &["version", "resources", "tasks"]);
        match doc.get("attributes") {
            Some(Json::Object(attrs)) => {
                let mut kept: Map<String, Json> =
                    attrs.keys().map(|k| (k.clone(), Json::Null)).collect();
                if let Some(sys) = attrs.get("system") {
                    let system = pick(sys, &["duration", "queue", "constraints"]);
                    kept.insert("system".into(), system.into());
                }
                small.insert("attributes".into(), kept.into());
            }
            Some(other) => {
                small.insert("attributes".into(), other.clone());
            }
            None => {}
        }
        small.into()
    }

    fn from_doc(doc: Value) -> Result<Self, JobspecError> {
        let version = doc
            .get("version")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid("missing version"))?;
        if !(1..=9999).contains(&version) {
            return Err(invalid(format!("unsupported version {version}")));
        }
        let resources = doc
            .get("resources")
            .and_then(Value::as_sequence)
            .ok_or_else(|| invalid("missing resources"))?
            .iter()
            .map(parse_resource)
            .collect::<Result<Vec<_>, _>>()?;
        let tasks = validate::parse_tasks(&doc)?;
        validate::check_attributes(&doc)?;
        let system = doc.get("attributes").and_then(|a| a.get("system"));
        let duration = match system.and_then(|s| s.get("duration")) {
            None => 0,
            Some(d) => {
                let secs = d
                    .as_f64()
                    .ok_or_else(|| invalid("duration must be a number"))?;
                if secs < 0.0 || !secs.is_finite() {
                    return Err(invalid("duration must be >= 0"));
                }
                secs.ceil() as u64
            }
        };
        let queue = system
            .and_then(|s| s.get("queue"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let constraint = match system.and_then(|s| s.get("constraints")) {
            Some(c) => Some(Constraint::parse(c)?),
            None => None,
        };
        Ok(Self {
            version,
            resources,
            tasks,
            duration,
            queue,
            constraint,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_slot_shape() {
        let js = Jobspec::parse(
            "version: 9999\nresources:\n  - type: node\n    count: 1\n    with:\n      - type: slot\n        count: 2\n        label: default\n        with:\n          - type: core\n            count: {min: 1, max: 4, operator: '+', operand: 1}\nattributes:\n  system:\n    duration: 3600.5\ntasks:\n  - command: [app]\n    slot: default\n    count: {per_slot: 1}\n",
        )
        .unwrap();
        assert_eq!(js.duration, 3601);
        assert_eq!(js.resources[0].with[0].label, "default");
        assert_eq!(js.resources[0].with[0].with[0].count.max, 4);
        assert_eq!(js.tasks[0].slot, "default");
    }

    #[test]
    fn json_documents_parse_as_their_text_does() {
        let text = r#"{"version": 1, "resources": [{"type": "node", "count": 1, "with": [
            {"type": "slot", "count": 2, "label": "task", "with": [{"type": "core", "count": 3}]}]}],
            "tasks": [{"command": ["app"], "slot": "task", "count": {"per_slot": 1}}],
            "attributes": {"system": {"duration": 60.5, "queue": "batch",
              "environment": {"HOME": "/root"}, "constraints": {"properties": ["gpu"]}},
              "user": {"x": 1}}}"#;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let a = Jobspec::from_json(&value).unwrap();
        let b = Jobspec::parse(text).unwrap();
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!((a.duration, a.queue.as_deref()), (61, Some("batch")));
        let mut bad = value.clone();
        bad["attributes"]["bogus"] = serde_json::json!(1);
        assert!(Jobspec::from_json(&bad).is_err());
        assert!(Jobspec::from_json(&serde_json::json!({"version": 1})).is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_counts() {
        assert!(
            Jobspec::parse("version: 1\nresources:\n  - type: core\n    count: 1\n    bogus: 2\n")
                .is_err()
        );
        assert!(Jobspec::parse("version: 1\nresources:\n  - type: core\n    count: 0\n").is_err());
        assert!(Jobspec::parse("version: 1\nresources:\n  - type: slot\n    count: 1\n").is_err());
    }
}
