//! Structural checks of the `tasks` and `attributes` sections (RFC 14, RFC 31 property
//! names), as Fluxion's jobspec parser applies them.

use serde_yaml::Value;

use super::{Task, invalid};
use crate::error::JobspecError;

/// Parses `tasks`: a sequence of mappings with `command` (sequence), `slot` (string) and
/// `count` (a mapping with exactly one of `per_slot`, `total`).
pub(super) fn parse_tasks(doc: &Value) -> Result<Vec<Task>, JobspecError> {
    let tasks = doc.get("tasks").ok_or_else(|| invalid("missing tasks"))?;
    let seq = tasks
        .as_sequence()
        .ok_or_else(|| invalid("tasks must be a sequence"))?;
    seq.iter()
        .map(|t| {
            if !t.is_mapping() {
                return Err(invalid("task must be a mapping"));
            }
            if !t.get("command").is_some_and(Value::is_sequence) {
                return Err(invalid("task command must be a sequence"));
            }
            let slot = t
                .get("slot")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("task without slot"))?;
            let count = t
                .get("count")
                .and_then(Value::as_mapping)
                .ok_or_else(|| invalid("task count must be a mapping"))?;
            let keys: Vec<&str> = count.keys().filter_map(Value::as_str).collect();
            if count.len() != 1 || !matches!(keys.as_slice(), ["per_slot"] | ["total"]) {
                return Err(invalid(
                    "task count must have exactly one of per_slot, total",
                ));
            }
            Ok(Task {
                slot: slot.to_string(),
            })
        })
        .collect()
}

/// An RFC 31 property name, optionally negated with a leading `^`.
fn valid_property(p: &str) -> bool {
    let name = p.strip_prefix('^').unwrap_or(p);
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "!&'\"`|()^".contains(c))
}

fn check_constraint(c: &Value) -> Result<(), JobspecError> {
    let m = c
        .as_mapping()
        .ok_or_else(|| invalid("constraint must be a mapping"))?;
    for (k, v) in m {
        match k.as_str() {
            Some("properties") => {
                let list = v
                    .as_sequence()
                    .ok_or_else(|| invalid("properties must be a sequence"))?;
                for p in list {
                    let p = p
                        .as_str()
                        .ok_or_else(|| invalid("property must be a string"))?;
                    if !valid_property(p) {
                        return Err(invalid(format!("invalid property name {p}")));
                    }
                }
            }
            Some("and" | "or" | "not") => {
                let list = v
                    .as_sequence()
                    .ok_or_else(|| invalid("constraint operands must be a sequence"))?;
                list.iter().try_for_each(check_constraint)?;
            }
            Some(_) => {}
            None => return Err(invalid("constraint keys must be strings")),
        }
    }
    Ok(())
}

/// Checks `attributes`: a mapping with only `system` and `user`; constraints well formed.
pub(super) fn check_attributes(doc: &Value) -> Result<(), JobspecError> {
    let attrs = doc
        .get("attributes")
        .ok_or_else(|| invalid("missing attributes"))?;
    if attrs.is_null() {
        return Ok(());
    }
    let m = attrs
        .as_mapping()
        .ok_or_else(|| invalid("attributes must be a mapping"))?;
    for k in m.keys() {
        if !matches!(k.as_str(), Some("system" | "user")) {
            return Err(invalid(format!("unknown attributes key {k:?}")));
        }
    }
    if let Some(c) = attrs.get("system").and_then(|s| s.get("constraints")) {
        check_constraint(c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names() {
        assert!(valid_property("foo$"));
        assert!(valid_property("^foo"));
        assert!(valid_property("+bar"));
        assert!(!valid_property("f^oo"));
        assert!(!valid_property("b!ar"));
        assert!(!valid_property("^"));
    }
}
