//! The instance configuration (flux-config(5)): TOML tables read at start from
//! `--config-path` (a file, or a directory whose `*.toml` files are combined), plus what a
//! parent gave a child instance (`flux batch --conf`). Modules read their own tables from
//! it (`[sched-fluxion-qmanager]`, `[queues]`, `[policy]`, ...); `config.get` serves it
//! as JSON, as flux-core does.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{path}: the top level must be a table")]
    NotTable { path: String },
    #[error("key '{key}' is set twice (in {path})")]
    Duplicate { key: String, path: String },
    #[error("--conf {0}: expected KEY=VALUE or a file")]
    Setting(String),
}

/// An instance configuration: a JSON object, shared by the broker and its modules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conf(Arc<Map<String, Value>>);

impl Conf {
    /// Read `path`: a `.toml` or `.json` file, or a directory of `*.toml` files (in name
    /// order; a top-level key may appear in only one of them).
    pub fn load(path: &Path) -> Result<Conf, ConfError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| ConfError::Read {
            path: shown.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Ok(Conf(Arc::new(read_file(path)?)));
        }
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| ConfError::Read {
                path: shown,
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut all = Map::new();
        for file in files {
            for (key, value) in read_file(&file)? {
                if all.contains_key(&key) {
                    return Err(ConfError::Duplicate {
                        key,
                        path: file.display().to_string(),
                    });
                }
                all.insert(key, value);
            }
        }
        Ok(Conf(Arc::new(all)))
    }

    /// A configuration from a JSON object (what `config.get` returns).
    pub fn from_json(value: Value) -> Option<Conf> {
        match value {
            Value::Object(map) => Some(Conf(Arc::new(map))),
            _ => None,
        }
    }

    /// The whole configuration as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object((*self.0).clone())
    }

    /// The value at a dotted key (`sched-fluxion-qmanager.queue-policy`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        let mut parts = key.split('.');
        let mut value = self.0.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        Some(value)
    }

    /// Whether the configuration has a top-level table `name`.
    pub fn has_table(&self, name: &str) -> bool {
        matches!(self.0.get(name), Some(Value::Object(_)))
    }

    /// The names of the configured queues (`[queues.NAME]`), in name order; none means
    /// the single anonymous queue.
    pub fn queue_names(&self) -> Vec<String> {
        match self.0.get("queues") {
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// This configuration with `other` laid over it: tables merge key by key, anything
    /// else in `other` replaces what was there.
    pub fn overlay(&self, other: &Conf) -> Conf {
        let mut base = Value::Object((*self.0).clone());
        merge(&mut base, &Value::Object((*other.0).clone()));
        Conf::from_json(base).unwrap_or_default()
    }

    /// Apply one `KEY=VALUE` setting (the value is JSON when it parses as JSON, else a
    /// string), as `flux batch --conf=KEY=VALUE` gives it.
    pub fn set(&mut self, setting: &str) -> Result<(), ConfError> {
        let (key, text) = setting
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| ConfError::Setting(setting.to_string()))?;
        let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
        let mut nested = value;
        for part in key.rsplit('.') {
            let mut map = Map::new();
            map.insert(part.to_string(), nested);
            nested = Value::Object(map);
        }
        if let Some(other) = Conf::from_json(nested) {
            *self = self.overlay(&other);
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<Map<String, Value>, ConfError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfError::Read {
        path: shown.clone(),
        source,
    })?;
    let value: Value = if path.extension().is_some_and(|x| x == "json") {
        serde_json::from_str(&text).map_err(|e| ConfError::Parse {
            path: shown.clone(),
            reason: e.to_string(),
        })?
    } else {
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfError::Parse {
            path: shown.clone(),
            reason: e.message().to_string(),
        })?;
        serde_json::to_value(table).map_err(|e| ConfError::Parse {
            path: shown.clone(),
            reason: e.to_string(),
        })?
    };
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ConfError::NotTable { path: shown }),
    }
}

fn merge(base: &mut Value, other: &Value) {
    match (base, other) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (base, other) => *base = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_file_and_dotted_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "a.toml",
            "[sched-fluxion-qmanager]\nqueue-policy = \"easy\"\n[queues.debug]\nrequires = [\"debug\"]\n",
        );
        let conf = Conf::load(&path).unwrap();
        assert_eq!(
            conf.get("sched-fluxion-qmanager.queue-policy"),
            Some(&json!("easy"))
        );
        assert_eq!(conf.get("queues.debug.requires"), Some(&json!(["debug"])));
        assert!(conf.has_table("queues"));
        assert_eq!(conf.queue_names(), ["debug"]);
        assert_eq!(conf.get("queues.batch"), None);
    }

    #[test]
    fn a_directory_combines_its_files_but_not_twice_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.toml", "[queues.debug]\n");
        write(dir.path(), "b.toml", "[policy]\nx = 1\n");
        write(dir.path(), "notes.txt", "not toml [");
        let conf = Conf::load(dir.path()).unwrap();
        assert!(conf.has_table("queues") && conf.has_table("policy"));
        write(dir.path(), "c.toml", "[queues.batch]\n");
        let err = Conf::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("'queues' is set twice"), "{err}");
    }

    #[test]
    fn bad_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "bad.toml", "[queues\n");
        let err = Conf::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        let json = write(dir.path(), "x.json", "[1]");
        assert!(matches!(Conf::load(&json), Err(ConfError::NotTable { .. })));
        assert!(matches!(
            Conf::load(&dir.path().join("none.toml")),
            Err(ConfError::Read { .. })
        ));
    }

    #[test]
    fn settings_and_overlays_merge_tables() {
        let mut conf = Conf::from_json(json!({"queues": {"a": {"requires": ["x"]}}})).unwrap();
        conf.set("queues.b.requires=[\"y\"]").unwrap();
        conf.set("sched-fluxion-qmanager.queue-policy=easy")
            .unwrap();
        assert_eq!(conf.get("queues.a.requires"), Some(&json!(["x"])));
        assert_eq!(conf.get("queues.b.requires"), Some(&json!(["y"])));
        assert_eq!(
            conf.get("sched-fluxion-qmanager.queue-policy"),
            Some(&json!("easy"))
        );
        assert!(matches!(conf.set("nokey"), Err(ConfError::Setting(_))));
        assert!(matches!(conf.set("=1"), Err(ConfError::Setting(_))));
    }
}
