//! Dotted attribute paths and `KEY[=VAL]` options.

use serde_json::{Map, Value};

use super::JobspecError;

/// Set `path` (dot separated) inside `root` to `value`, creating objects on the way
/// (`null` parents are replaced by objects).
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), JobspecError> {
    let conflict = || JobspecError::PathConflict(path.to_string());
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(JobspecError::Option(format!(
            "invalid attribute path '{path}'"
        )));
    }
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().ok_or_else(conflict)?;
    let mut cur = root;
    for key in keys {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .ok_or_else(conflict)?
            .entry(key)
            .or_insert(Value::Null);
    }
    if cur.is_null() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut()
        .ok_or_else(conflict)?
        .insert(last.to_string(), value);
    Ok(())
}

/// Split `KEY[=VAL]` as `-o`/`-S` do: VAL is decoded as JSON if it parses, else kept as
/// a string; a missing VAL means `1`.
pub fn parse_key_value(s: &str) -> Result<(String, Value), JobspecError> {
    let (key, value) = match s.split_once('=') {
        Some((k, v)) => (
            k,
            serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())),
        ),
        None => (s, Value::from(1)),
    };
    if key.is_empty() {
        return Err(JobspecError::Option(format!(
            "invalid option '{s}': empty key"
        )));
    }
    Ok((key.to_string(), value))
}

/// Path relative to `attributes` for a `-S KEY` key: `user.*` and `system.*` are kept,
/// a leading `.` is stripped (path from the attributes root), anything else goes under
/// `system.`.
pub fn normalize_setattr_key(key: &str) -> String {
    if let Some(rest) = key.strip_prefix('.') {
        rest.to_string()
    } else if key.starts_with("user.") || key.starts_with("system.") {
        key.to_string()
    } else {
        format!("system.{key}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn set_nested_paths() {
        let mut v = json!({"system": {"duration": 0}});
        set_path(&mut v, "system.exec.test.run_duration", json!("1s")).unwrap();
        set_path(&mut v, "user.x", json!(1)).unwrap();
        assert_eq!(
            v,
            json!({"system": {"duration": 0, "exec": {"test": {"run_duration": "1s"}}}, "user": {"x": 1}})
        );
        assert_eq!(
            set_path(&mut v, "system.duration.x", json!(1)),
            Err(JobspecError::PathConflict("system.duration.x".into()))
        );
        assert!(set_path(&mut v, "a..b", json!(1)).is_err());
        assert!(set_path(&mut v, "", json!(1)).is_err());
    }

    #[test]
    fn key_values() {
        assert_eq!(parse_key_value("a=1").unwrap(), ("a".into(), json!(1)));
        assert_eq!(parse_key_value("a").unwrap(), ("a".into(), json!(1)));
        assert_eq!(
            parse_key_value("a=foo").unwrap(),
            ("a".into(), json!("foo"))
        );
        assert_eq!(
            parse_key_value("a={\"b\":[1]}").unwrap(),
            ("a".into(), json!({"b": [1]}))
        );
        assert_eq!(parse_key_value("a=").unwrap(), ("a".into(), json!("")));
        assert!(parse_key_value("=1").is_err());
    }

    #[test]
    fn setattr_keys() {
        assert_eq!(normalize_setattr_key("foo"), "system.foo");
        assert_eq!(
            normalize_setattr_key("exec.test.run_duration"),
            "system.exec.test.run_duration"
        );
        assert_eq!(normalize_setattr_key("user.x"), "user.x");
        assert_eq!(normalize_setattr_key("system.x"), "system.x");
        assert_eq!(normalize_setattr_key(".user.y"), "user.y");
    }
}
