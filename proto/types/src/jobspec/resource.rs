//! Resource vertices of a jobspec (RFC 14).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A resource vertex: `{"type", "count", "exclusive"?, "with"?, "label"?, ...}`.
///
/// Field order is the key order flux-core's Python `Jobspec` emits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Resource type (`type`).
    #[serde(rename = "type")]
    pub kind: ResourceType,
    /// How many.
    pub count: Count,
    /// Exclusive use; absent means the default (true inside slots, false outside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive: Option<bool>,
    /// Child vertices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Resource>,
    /// Label (required for slots, referenced by tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Unit of `count` (canonical only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Acceptable resource ids (canonical only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Resource {
    /// A vertex of `kind` with a fixed `count` and nothing else.
    pub fn new(kind: ResourceType, count: u64) -> Self {
        Resource {
            kind,
            count: Count::Fixed(count),
            exclusive: None,
            with: Vec::new(),
            label: None,
            unit: None,
            id: None,
        }
    }

    /// A slot labelled `label` containing `with`.
    pub fn slot(label: &str, count: u64, with: Vec<Resource>) -> Self {
        Resource {
            with,
            label: Some(label.to_string()),
            ..Resource::new(ResourceType::Slot, count)
        }
    }

    /// Set the children.
    pub fn with_children(mut self, with: Vec<Resource>) -> Self {
        self.with = with;
        self
    }

    /// The fixed count, if the count is a plain integer.
    pub fn fixed_count(&self) -> Option<u64> {
        match self.count {
            Count::Fixed(n) => Some(n),
            _ => None,
        }
    }

    /// This vertex and all its descendants, depth first.
    pub fn walk(&self) -> Vec<&Resource> {
        let mut out = vec![self];
        for child in &self.with {
            out.extend(child.walk());
        }
        out
    }
}

/// A resource type; `node`, `slot`, `core` and `gpu` are the V1 ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ResourceType {
    /// `node`
    Node,
    /// `slot` (reserved: the unit of task placement)
    Slot,
    /// `core`
    Core,
    /// `gpu`
    Gpu,
    /// Any other type (canonical jobspec only).
    Other(String),
}

impl ResourceType {
    /// The type name.
    pub fn as_str(&self) -> &str {
        match self {
            ResourceType::Node => "node",
            ResourceType::Slot => "slot",
            ResourceType::Core => "core",
            ResourceType::Gpu => "gpu",
            ResourceType::Other(s) => s,
        }
    }
}

impl From<String> for ResourceType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "node" => ResourceType::Node,
            "slot" => ResourceType::Slot,
            "core" => ResourceType::Core,
            "gpu" => ResourceType::Gpu,
            _ => ResourceType::Other(s),
        }
    }
}

impl From<ResourceType> for String {
    fn from(t: ResourceType) -> String {
        t.as_str().to_string()
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource count: a plain integer (the only form V1 allows), a string (RFC 22 idset
/// or RFC 45 range), or a `{min, max, operator, operand}` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    /// A fixed count.
    Fixed(u64),
    /// `"1-4"`, `"2+"`, `"1-8:2:*"`, ...
    Text(String),
    /// Range object.
    Range(CountRange),
}

/// `{min, max?, operator?, operand?}` count object (RFC 14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    /// Minimum, >= 1.
    pub min: u64,
    /// Maximum; absent means unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// `+`, `*` or `^`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Step operand, >= 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operand: Option<u64>,
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Fixed(n) => write!(f, "{n}"),
            Count::Text(s) => write!(f, "\"{s}\""),
            Count::Range(r) => write!(f, "{{min: {}, max: {:?}}}", r.min, r.max),
        }
    }
}
