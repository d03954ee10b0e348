//! Errors for jobspec parsing, validation and building.

use thiserror::Error;

use crate::fsd::FsdError;

/// Why a jobspec is invalid or could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum JobspecError {
    /// Not JSON at all.
    #[error("jobspec is not valid JSON: {0}")]
    Json(String),
    /// A JSON value of the wrong type at `path`.
    #[error("{path}: expected {expected}")]
    Type {
        /// Dotted path of the value, e.g. `attributes.system`.
        path: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// A required key is missing.
    #[error("missing required key '{0}'")]
    MissingKey(String),
    /// A key that is not allowed there.
    #[error("unknown key '{0}'")]
    UnknownKey(String),
    /// `version` other than 1.
    #[error("only version 1 jobspec is supported (got {0})")]
    UnsupportedVersion(String),
    /// Does not match the jobspec schema (message from the decoder).
    #[error("invalid jobspec: {0}")]
    Schema(String),
    /// `resources` or `tasks` does not have exactly one element.
    #[error("V1 jobspec {what} must have exactly one element (got {count})")]
    Cardinality {
        /// `resources` or `tasks`.
        what: &'static str,
        /// Number of elements found.
        count: usize,
    },
    /// A resource type other than node, slot, core, gpu.
    #[error("unsupported resource type '{0}' (V1 allows node, slot, core, gpu)")]
    ResourceType(String),
    /// A resource graph shape that V1 does not allow.
    #[error("invalid resource shape: {0}")]
    Shape(String),
    /// A resource or task count that is not a positive integer.
    #[error("invalid {what} count: {count}")]
    Count {
        /// The resource type, or `task`.
        what: String,
        /// The count as written.
        count: String,
    },
    /// A slot without a label.
    #[error("slot resource has no label")]
    MissingLabel,
    /// A task naming a slot label that does not exist.
    #[error("task slot '{0}' does not match any slot label")]
    UnknownSlot(String),
    /// A task with an empty command.
    #[error("task command must be a non-empty array of strings")]
    EmptyCommand,
    /// `attributes.system.duration` negative or not finite.
    #[error("invalid duration {0}: must be a finite number >= 0")]
    Duration(String),
    /// A bad option given to the builder.
    #[error("{0}")]
    Option(String),
    /// `--nodes` larger than `--ntasks`.
    #[error("node count {nodes} must not exceed task count {ntasks}")]
    NodesExceedTasks {
        /// Requested nodes.
        nodes: u64,
        /// Requested tasks.
        ntasks: u64,
    },
    /// `--exclusive` without `--nodes`.
    #[error("--exclusive can only be used with --nodes")]
    ExclusiveWithoutNodes,
    /// A bad duration string.
    #[error(transparent)]
    Fsd(#[from] FsdError),
    /// A `--requires` query that is not valid RFC 35 syntax.
    #[error("invalid constraint: {0}")]
    Constraint(String),
    /// Setting a dotted path through a value that is not an object.
    #[error("cannot set '{0}': a parent key is not an object")]
    PathConflict(String),
}
