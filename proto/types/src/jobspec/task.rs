//! Task descriptors of a jobspec.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{"command", "slot", "count", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// argv of the program.
    pub command: Vec<String>,
    /// Label of the slot the tasks run in.
    pub slot: String,
    /// How many tasks.
    pub count: TaskCount,
    /// Distribution hint (canonical only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// Per-task attributes (canonical only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<String, Value>>,
}

/// Task count: exactly one of `per_slot`, `total` or (canonical only) `per_resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskCount {
    /// `{"per_slot": N}`: N tasks in each slot.
    PerSlot(u64),
    /// `{"total": N}`: N tasks spread over the slots.
    Total(u64),
    /// `{"per_resource": {"type": T, "count": N}}`.
    PerResource {
        /// Resource type.
        #[serde(rename = "type")]
        kind: String,
        /// Tasks per resource.
        count: u64,
    },
}
