//! Typed errors of the Fluxion core.

use thiserror::Error;

/// Errors from reading graphs (GRUG, JGF).
#[derive(Debug, Error)]
pub enum ReaderError {
    /// The XML of a GRUG file is malformed.
    #[error("grug: malformed XML: {0}")]
    Xml(#[from] roxmltree::Error),
    /// The JSON of a JGF file is malformed.
    #[error("jgf: malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A structural problem in the input.
    #[error("{0}")]
    Invalid(String),
}

/// Errors from parsing a jobspec.
#[derive(Debug, Error)]
pub enum JobspecError {
    /// Not valid YAML/JSON.
    #[error("jobspec: malformed document: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// Valid syntax, invalid content.
    #[error("{0}")]
    Invalid(String),
}

/// Errors from a planner operation (mirrors the errnos of the C planner).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum PlannerError {
    /// Bad arguments (EINVAL), e.g. a window outside the planner's range.
    #[error("invalid planner argument")]
    Invalid,
    /// The request exceeds the total amount (ERANGE).
    #[error("request exceeds planner total")]
    Range,
    /// No time point satisfies the request (ENOENT).
    #[error("no schedulable point")]
    NoPoint,
    /// No such span (ENOENT).
    #[error("unknown span")]
    UnknownSpan,
}

/// Why a match failed (mirrors the errnos the resource-query tool reports).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MatchError {
    /// Not matchable now (EBUSY).
    #[error("resources busy")]
    Busy,
    /// Never matchable (ENODEV).
    #[error("unsatisfiable request")]
    Unsatisfiable,
    /// Bad jobspec or duration (EINVAL).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Planner failure.
    #[error("planner: {0}")]
    Planner(#[from] PlannerError),
    /// An existing allocation (R) names a broker rank the graph has no node for.
    #[error("rank {0} is not in the resource graph")]
    UnknownRank(i64),
    /// An existing allocation names a resource the graph lacks under its rank.
    #[error("rank {rank} has no {kind}{id} in the resource graph")]
    UnknownResource {
        /// Broker rank.
        rank: i64,
        /// Resource type (`core`, `gpu`).
        kind: String,
        /// Logical id.
        id: i64,
    },
    /// An existing allocation names a resource another job holds at that time.
    #[error("rank {rank} {kind}{id} is already allocated")]
    AlreadyAllocated {
        /// Broker rank.
        rank: i64,
        /// Resource type.
        kind: String,
        /// Logical id.
        id: i64,
    },
    /// The job holds resources in the graph already.
    #[error("job {0} is already allocated")]
    JobExists(i64),
}

/// Errors from configuring a matcher (policy names, filter specs, subsystems).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Unknown match policy.
    #[error("unknown match policy: {0}")]
    UnknownPolicy(String),
    /// Malformed pruning filter spec.
    #[error("invalid pruning filter spec: {0}")]
    BadFilter(String),
    /// Unknown subsystem selector.
    #[error("unknown match subsystems: {0}")]
    UnknownSubsystems(String),
    /// The graph has no root for the dominant subsystem.
    #[error("graph has no root for subsystem {0}")]
    NoRoot(String),
}
