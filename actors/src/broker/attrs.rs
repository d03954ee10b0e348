//! Broker attributes (spec/broker.md §2): named string values, some fixed at start.

use std::collections::BTreeMap;

use flux_proto::errno;

/// Why an attribute operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrError {
    #[error("{0}: no such attribute")]
    NotFound(String),
    #[error("{0}: attribute is not set")]
    Unset(String),
    #[error("{0}: attribute is read-only")]
    ReadOnly(String),
    #[error("{0}: invalid attribute name")]
    BadName(String),
}

impl AttrError {
    /// The errno sent on the wire.
    pub fn errnum(&self) -> i32 {
        match self {
            AttrError::NotFound(_) | AttrError::Unset(_) => errno::ENOENT,
            AttrError::ReadOnly(_) => errno::EPERM,
            AttrError::BadName(_) => errno::EINVAL,
        }
    }
}

#[derive(Debug, Clone)]
struct Attr {
    value: Option<String>,
    readonly: bool,
}

/// The attribute table of one broker.
#[derive(Debug, Default, Clone)]
pub struct Attrs {
    map: BTreeMap<String, Attr>,
}

impl Attrs {
    /// Define an attribute that tools may not change (`rank`, `size`, ...).
    pub fn set_readonly(&mut self, name: &str, value: impl Into<String>) {
        self.define(name, Some(value.into()), true);
    }

    /// Define a known attribute that is not set (`lsattr -v` shows `-`).
    pub fn define_unset(&mut self, name: &str, readonly: bool) {
        self.define(name, None, readonly);
    }

    /// Define (or redefine) a settable attribute with a value.
    pub fn set_default(&mut self, name: &str, value: impl Into<String>) {
        self.define(name, Some(value.into()), false);
    }

    fn define(&mut self, name: &str, value: Option<String>, readonly: bool) {
        self.map.insert(name.to_string(), Attr { value, readonly });
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Result<&str, AttrError> {
        match self.map.get(name) {
            None => Err(AttrError::NotFound(name.to_string())),
            Some(Attr { value: None, .. }) => Err(AttrError::Unset(name.to_string())),
            Some(Attr { value: Some(v), .. }) => Ok(v),
        }
    }

    /// Set `name` as a tool would (`flux setattr`, `-S` at start): read-only ones refuse;
    /// unknown names become new attributes, as in Flux.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> Result<(), AttrError> {
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '=') {
            return Err(AttrError::BadName(name.to_string()));
        }
        match self.map.get_mut(name) {
            Some(attr) if attr.readonly => Err(AttrError::ReadOnly(name.to_string())),
            Some(attr) => {
                attr.value = Some(value.into());
                Ok(())
            }
            None => {
                self.set_default(name, value);
                Ok(())
            }
        }
    }

    /// Unset a settable attribute.
    pub fn unset(&mut self, name: &str) -> Result<(), AttrError> {
        match self.map.get_mut(name) {
            None => Err(AttrError::NotFound(name.to_string())),
            Some(attr) if attr.readonly => Err(AttrError::ReadOnly(name.to_string())),
            Some(attr) => {
                attr.value = None;
                Ok(())
            }
        }
    }

    /// Every attribute in name order with its value, if set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.map
            .iter()
            .map(|(k, a)| (k.as_str(), a.value.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readonly_attributes_refuse_changes() {
        let mut attrs = Attrs::default();
        attrs.set_readonly("rank", "0");
        assert_eq!(attrs.get("rank"), Ok("0"));
        let err = attrs.set("rank", "1").unwrap_err();
        assert_eq!(err, AttrError::ReadOnly("rank".into()));
        assert_eq!(err.errnum(), errno::EPERM);
        assert_eq!(attrs.unset("rank").unwrap_err().errnum(), errno::EPERM);
        assert_eq!(attrs.get("rank"), Ok("0"));
    }

    #[test]
    fn unknown_and_unset_are_enoent() {
        let mut attrs = Attrs::default();
        attrs.define_unset("parent-uri", true);
        assert_eq!(attrs.get("nosuch").unwrap_err().errnum(), errno::ENOENT);
        assert_eq!(
            attrs.get("parent-uri").unwrap_err(),
            AttrError::Unset("parent-uri".into())
        );
    }

    #[test]
    fn set_creates_and_updates() {
        let mut attrs = Attrs::default();
        attrs.set_default("log-stderr-level", "3");
        attrs.set("log-stderr-level", "7").unwrap();
        attrs.set("my.attr", "x").unwrap();
        assert_eq!(attrs.get("log-stderr-level"), Ok("7"));
        assert_eq!(attrs.get("my.attr"), Ok("x"));
        assert!(attrs.set("", "x").is_err());
        assert!(attrs.set("a b", "x").is_err());
        let names: Vec<_> = attrs.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["log-stderr-level", "my.attr"]);
    }
}
