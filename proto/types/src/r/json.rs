//! R JSON encoding and decoding with validation.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

use super::{Node, ResourceSet};
use crate::hostlist::Hostlist;
use crate::idset::IdSet;

/// Why an R document is invalid.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RError {
    /// Not JSON, or does not match the R schema (message from the decoder).
    #[error("invalid R: {0}")]
    Json(String),
    /// `version` other than 1.
    #[error("R version {0} is not supported (expected 1)")]
    Version(u64),
    /// A rank appears more than once.
    #[error("invalid R: rank {0} appears more than once")]
    DuplicateRank(u32),
    /// An R_lite entry without `children.core`.
    #[error("invalid R: R_lite entry for ranks {0} has no core children")]
    MissingCore(String),
    /// `nodelist` does not name one host per rank.
    #[error("invalid R: nodelist has {hosts} hosts for {ranks} ranks")]
    NodelistCount {
        /// Hosts in nodelist.
        hosts: usize,
        /// Ranks in R_lite.
        ranks: usize,
    },
    /// A nodelist entry that is not a hostlist.
    #[error("invalid R: bad nodelist entry: {0}")]
    Nodelist(String),
    /// `expiration` earlier than `starttime`.
    #[error("invalid R: expiration {expiration} is before starttime {starttime}")]
    Expiration {
        /// Start time.
        starttime: f64,
        /// Expiration.
        expiration: f64,
    },
    /// `nslots` of 0.
    #[error("invalid R: nslots must be > 0")]
    Nslots,
    /// Property name with a reserved character.
    #[error("invalid R: bad property name '{0}'")]
    PropertyName(String),
    /// Property naming ranks that are not in R.
    #[error("invalid R: property '{name}' names unknown ranks {ranks}")]
    PropertyRanks {
        /// Property name.
        name: String,
        /// Ranks not in R.
        ranks: String,
    },
    /// Ranks whose host names differ between two sets being combined.
    #[error("rank {0} has different host names in the two resource sets")]
    HostnameMismatch(u32),
}

/// R as decoded.
#[derive(Deserialize)]
struct RawR {
    version: u64,
    execution: RawExecution,
    #[serde(default)]
    scheduling: Option<Value>,
}

#[derive(Deserialize)]
struct RawExecution {
    #[serde(rename = "R_lite")]
    r_lite: Vec<RawRlite>,
    #[serde(default)]
    nslots: Option<u64>,
    #[serde(default)]
    starttime: f64,
    #[serde(default)]
    expiration: f64,
    #[serde(default)]
    nodelist: Option<Vec<String>>,
    #[serde(default)]
    properties: Option<BTreeMap<String, IdSet>>,
}

#[derive(Deserialize)]
struct RawRlite {
    rank: IdSet,
    children: BTreeMap<String, IdSet>,
}

/// R as encoded; field order is the key order of flux-core's `rlist_to_R`.
#[derive(Serialize)]
struct OutR<'a> {
    version: u64,
    execution: OutExecution<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduling: Option<&'a Value>,
}

#[derive(Serialize)]
struct OutExecution<'a> {
    #[serde(rename = "R_lite")]
    r_lite: Vec<OutRlite<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nslots: Option<u64>,
    starttime: f64,
    expiration: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodelist: Option<[String; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<&'a BTreeMap<String, IdSet>>,
}

#[derive(Serialize)]
struct OutRlite<'a> {
    rank: IdSet,
    children: Children<'a>,
}

/// Ranks grouped by identical children, ordered by first rank; each group carries
/// one of its nodes as the template for its children.
pub(super) fn group_ranks(r: &ResourceSet) -> Vec<(IdSet, &Node)> {
    let mut groups: Vec<(IdSet, &Node)> = Vec::new();
    let mut index: HashMap<(&IdSet, &IdSet, &BTreeMap<String, IdSet>), usize> = HashMap::new();
    for n in r.nodes() {
        match index.get(&(&n.cores, &n.gpus, &n.other)) {
            Some(&i) => {
                groups[i].0.insert(n.rank);
            }
            None => {
                index.insert((&n.cores, &n.gpus, &n.other), groups.len());
                groups.push((IdSet::from_range(n.rank, n.rank), n));
            }
        }
    }
    groups
}

/// `children` object: core, gpu, then other types, empty sets omitted (core always).
struct Children<'a>(&'a Node);

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let node = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("core", &node.cores)?;
        for (kind, ids) in node.children().filter(|(k, _)| *k != "core") {
            map.serialize_entry(kind, ids)?;
        }
        map.end()
    }
}

impl ResourceSet {
    /// Parse and validate R JSON.
    pub fn parse(json: &str) -> Result<Self, RError> {
        let raw: RawR = serde_json::from_str(json).map_err(|e| RError::Json(e.to_string()))?;
        Self::from_raw(raw)
    }

    /// Validate and convert an R JSON value.
    pub fn from_value(value: Value) -> Result<Self, RError> {
        let raw: RawR = serde_json::from_value(value).map_err(|e| RError::Json(e.to_string()))?;
        Self::from_raw(raw)
    }

    /// Compact JSON (as stored in `job.<id>.R`).
    pub fn to_json(&self) -> String {
        // Only strings, numbers and JSON values: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// As a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn from_raw(raw: RawR) -> Result<Self, RError> {
        if raw.version != 1 {
            return Err(RError::Version(raw.version));
        }
        let ex = raw.execution;
        let mut r = ResourceSet {
            starttime: ex.starttime,
            expiration: ex.expiration,
            nslots: ex.nslots,
            scheduling: raw.scheduling,
            ..Default::default()
        };
        for entry in ex.r_lite {
            let mut template = Node::new(0, None, IdSet::new(), IdSet::new());
            let mut has_core = false;
            for (kind, ids) in entry.children {
                has_core |= kind == "core";
                template.set_child(&kind, ids);
            }
            if !has_core {
                return Err(RError::MissingCore(entry.rank.to_string()));
            }
            for rank in &entry.rank {
                r.insert_node(Node {
                    rank,
                    ..template.clone()
                })?;
            }
        }
        if let Some(nodelist) = ex.nodelist {
            let mut hosts = Hostlist::new();
            for s in &nodelist {
                let hl: Hostlist = s.parse().map_err(|e| RError::Nodelist(format!("{e}")))?;
                hosts.append(&hl);
            }
            if hosts.len() != r.nnodes() {
                return Err(RError::NodelistCount {
                    hosts: hosts.len(),
                    ranks: r.nnodes(),
                });
            }
            for (node, host) in r.nodes.values_mut().zip(hosts.iter()) {
                node.hostname = Some(host);
            }
        }
        if r.starttime > 0.0 && r.expiration > 0.0 && r.expiration < r.starttime {
            return Err(RError::Expiration {
                starttime: r.starttime,
                expiration: r.expiration,
            });
        }
        if r.nslots == Some(0) {
            return Err(RError::Nslots);
        }
        for (name, ranks) in ex.properties.unwrap_or_default() {
            r.set_property(&name, &ranks)?;
        }
        Ok(r)
    }

    fn to_out(&self) -> OutR<'_> {
        let r_lite = group_ranks(self)
            .into_iter()
            .map(|(rank, node)| OutRlite {
                rank,
                children: Children(node),
            })
            .collect();
        // A nodelist only if every rank has a host name.
        let nodelist = self
            .nodes()
            .all(|n| n.hostname.is_some())
            .then(|| [self.nodelist().to_string()]);
        OutR {
            version: 1,
            execution: OutExecution {
                r_lite,
                nslots: self.nslots,
                starttime: self.starttime,
                expiration: self.expiration,
                nodelist,
                properties: (!self.properties.is_empty()).then_some(&self.properties),
            },
            scheduling: self.scheduling.as_ref(),
        }
    }
}

impl std::str::FromStr for ResourceSet {
    type Err = RError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceSet::parse(s)
    }
}

impl Serialize for ResourceSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_out().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ResourceSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawR::deserialize(deserializer)?;
        ResourceSet::from_raw(raw).map_err(serde::de::Error::custom)
    }
}
