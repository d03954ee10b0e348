//! KVS key normalization, as flux's `kvs_util_normalize_key`: duplicate dots collapse,
//! a leading dot is dropped, a trailing dot is dropped and means "want a directory",
//! and a key made only of dots is the root `.`.

use std::fmt;

use crate::error::{Result, StoreError};

/// A normalized key: its path components (empty for the root).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    comps: Vec<String>,
    want_dir: bool,
}

impl Key {
    /// Parse and normalize a key. Errors (`EINVAL`): empty key, NUL character.
    pub fn parse(key: &str) -> Result<Key> {
        if key.is_empty() {
            return Err(StoreError::InvalidKey {
                key: key.to_string(),
                reason: "empty key",
            });
        }
        if key.contains('\0') {
            return Err(StoreError::InvalidKey {
                key: key.to_string(),
                reason: "contains a NUL character",
            });
        }
        let comps: Vec<String> = key
            .split('.')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let want_dir = !comps.is_empty() && key.len() > 1 && key.ends_with('.');
        Ok(Key { comps, want_dir })
    }

    /// The root key `.`.
    pub fn root() -> Key {
        Key {
            comps: Vec::new(),
            want_dir: false,
        }
    }

    /// Whether this is the root directory.
    pub fn is_root(&self) -> bool {
        self.comps.is_empty()
    }

    /// The path components (`a.b.c` -> `["a", "b", "c"]`).
    pub fn components(&self) -> &[String] {
        &self.comps
    }

    /// Whether the key had a trailing dot: the caller expects a directory.
    pub fn want_dir(&self) -> bool {
        self.want_dir
    }
}

impl fmt::Display for Key {
    /// The normalized form: `a.b.c`, or `.` for the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.comps.is_empty() {
            return f.write_str(".");
        }
        for (i, c) in self.comps.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(c)?;
        }
        Ok(())
    }
}

/// Normalize a key to its canonical string (`..a..b.` -> `a.b`).
pub fn normalize(key: &str) -> Result<String> {
    Ok(Key::parse(key)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> (String, bool) {
        let k = Key::parse(s).unwrap();
        (k.to_string(), k.want_dir())
    }

    #[test]
    fn flux_normalization_rules() {
        assert_eq!(norm("a.b.c.d.e"), ("a.b.c.d.e".into(), false));
        assert_eq!(norm("a.b.c..d.e"), ("a.b.c.d.e".into(), false));
        assert_eq!(norm(".a.b.c.d.e"), ("a.b.c.d.e".into(), false));
        assert_eq!(norm("....a.b.c.d.e"), ("a.b.c.d.e".into(), false));
        assert_eq!(norm("a.b.c.d.e."), ("a.b.c.d.e".into(), true));
        assert_eq!(norm("a.b.c.d.e...."), ("a.b.c.d.e".into(), true));
        assert_eq!(norm("."), (".".into(), false));
        assert_eq!(norm("...."), (".".into(), false));
        assert_eq!(norm("a"), ("a".into(), false));
    }

    #[test]
    fn components_and_root() {
        let k = Key::parse("job.0000.0004.eventlog").unwrap();
        assert_eq!(k.components(), ["job", "0000", "0004", "eventlog"]);
        assert!(!k.is_root());
        assert!(Key::parse(".").unwrap().is_root());
        assert_eq!(Key::root().to_string(), ".");
    }

    #[test]
    fn malformed_keys_are_einval() {
        assert_eq!(Key::parse("").unwrap_err().errnum(), 22);
        assert_eq!(Key::parse("a.\0.b").unwrap_err().errnum(), 22);
        assert_eq!(normalize("x..y").unwrap(), "x.y");
    }

    #[test]
    fn unicode_and_spaces_are_kept() {
        assert_eq!(norm("héllo. wörld"), ("héllo. wörld".into(), false));
    }
}
