//! `job-manager`: every job's life from submit to inactive (spec/job-states.md). The core
//! ([`core::JobManager`]) is plain state; the actor around it stores eventlogs in the KVS,
//! talks to the scheduler and to job-exec.

mod actor;
pub mod core;
#[cfg(test)]
mod core_tests;
pub mod deps;
mod queue;
mod restore;

pub use actor::{JobManagerActor, start};
