//! Structural checks on the raw JSON before decoding, so common mistakes get precise,
//! typed errors instead of a generic decoder message.

use serde_json::{Map, Value};

use super::JobspecError;

const TOP_KEYS: [&str; 4] = ["version", "resources", "tasks", "attributes"];

fn type_err(path: &str, expected: &'static str) -> JobspecError {
    JobspecError::Type {
        path: path.to_string(),
        expected,
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, JobspecError> {
    v.as_object().ok_or_else(|| type_err(path, "an object"))
}

fn non_empty_array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, JobspecError> {
    v.as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| type_err(path, "a non-empty array"))
}

fn required<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, JobspecError> {
    obj.get(key)
        .ok_or_else(|| JobspecError::MissingKey(format!("{path}{key}")))
}

/// Check the top level, version, attributes and the types of resources and tasks.
pub(super) fn check(v: &Value) -> Result<(), JobspecError> {
    let top = object(v, "jobspec")?;
    for key in TOP_KEYS {
        required(top, key, "")?;
    }
    if let Some(key) = top.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(JobspecError::UnknownKey(key.clone()));
    }
    let version = &top["version"];
    if version.as_u64() != Some(1) {
        return Err(JobspecError::UnsupportedVersion(version.to_string()));
    }
    for (i, r) in non_empty_array(&top["resources"], "resources")?
        .iter()
        .enumerate()
    {
        check_resource(r, &format!("resources[{i}]"))?;
    }
    for (i, t) in non_empty_array(&top["tasks"], "tasks")?.iter().enumerate() {
        check_task(t, &format!("tasks[{i}]"))?;
    }
    check_attributes(&top["attributes"])
}

fn check_resource(v: &Value, path: &str) -> Result<(), JobspecError> {
    let r = object(v, path)?;
    let kind = required(r, "type", &format!("{path}."))?
        .as_str()
        .ok_or_else(|| type_err(&format!("{path}.type"), "a string"))?;
    let count = required(r, "count", &format!("{path}."))?;
    if count.is_number() && count.as_u64().is_none_or(|n| n == 0) {
        return Err(JobspecError::Count {
            what: kind.to_string(),
            count: count.to_string(),
        });
    }
    for key in ["label", "unit", "id"] {
        if r.get(key).is_some_and(|l| !l.is_string()) {
            return Err(type_err(&format!("{path}.{key}"), "a string"));
        }
    }
    if let Some(with) = r.get("with") {
        let with = non_empty_array(with, &format!("{path}.with"))?;
        for (i, child) in with.iter().enumerate() {
            check_resource(child, &format!("{path}.with[{i}]"))?;
        }
    }
    Ok(())
}

fn check_task(v: &Value, path: &str) -> Result<(), JobspecError> {
    let t = object(v, path)?;
    let command = required(t, "command", &format!("{path}."))?;
    let ok = command
        .as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
    if !ok {
        return Err(JobspecError::EmptyCommand);
    }
    if !required(t, "slot", &format!("{path}."))?.is_string() {
        return Err(type_err(&format!("{path}.slot"), "a string"));
    }
    let count = object(
        required(t, "count", &format!("{path}."))?,
        &format!("{path}.count"),
    )?;
    if count.len() != 1 {
        return Err(type_err(
            &format!("{path}.count"),
            "an object with exactly one of per_slot, total",
        ));
    }
    for (k, n) in count {
        if matches!(k.as_str(), "per_slot" | "total") && n.as_u64().is_none_or(|n| n == 0) {
            return Err(JobspecError::Count {
                what: format!("task {k}"),
                count: n.to_string(),
            });
        }
    }
    Ok(())
}

fn check_attributes(v: &Value) -> Result<(), JobspecError> {
    let attrs = object(v, "attributes")?;
    if let Some(key) = attrs.keys().find(|k| *k != "system" && *k != "user") {
        return Err(JobspecError::UnknownKey(format!("attributes.{key}")));
    }
    if let Some(user) = attrs.get("user") {
        object(user, "attributes.user")?;
    }
    let system = object(
        required(attrs, "system", "attributes.")?,
        "attributes.system",
    )?;
    let duration = required(system, "duration", "attributes.system.")?;
    let secs = duration
        .as_f64()
        .ok_or_else(|| type_err("attributes.system.duration", "a number"))?;
    if secs < 0.0 {
        return Err(JobspecError::Duration(duration.to_string()));
    }
    for key in ["environment", "constraints"] {
        if let Some(v) = system.get(key) {
            object(v, &format!("attributes.system.{key}"))?;
        }
    }
    if let Some(shell) = system.get("shell") {
        let shell = object(shell, "attributes.system.shell")?;
        if let Some(options) = shell.get("options") {
            object(options, "attributes.system.shell.options")?;
        }
    }
    if let Some(deps) = system.get("dependencies") {
        let path = "attributes.system.dependencies";
        let deps = deps.as_array().ok_or_else(|| type_err(path, "an array"))?;
        for (i, d) in deps.iter().enumerate() {
            let d = object(d, &format!("{path}[{i}]"))?;
            for key in ["scheme", "value"] {
                if !required(d, key, &format!("{path}[{i}]."))?.is_string() {
                    return Err(type_err(&format!("{path}[{i}].{key}"), "a string"));
                }
            }
        }
    }
    Ok(())
}
