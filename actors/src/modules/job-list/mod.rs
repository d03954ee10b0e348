//! `job-list`: the job listing service behind `flux jobs`. It follows the job manager's
//! events journal, keeps every job in a [`table::JobTable`] with sorted indexes, reads each
//! job's jobspec and R from the KVS, and answers:
//!
//! - `job-list.list {max_entries?, userid?, states?, results?, since?, name?, queue?,
//!   attrs?}` -> `{"jobs":[{id, ...}]}` (pending by priority then id, running most recently
//!   started first, inactive most recently finished first; 1000 at most by default);
//! - `job-list.list-id {id, attrs?}` -> `{"job":{...}}`, waiting (up to 1 s) for a job not
//!   seen yet;
//! - `job-list.stats` -> counts per state and result.
//!
//! Guests see only their own jobs. At start it reads the jobs already in the KVS, so an
//! instance restarted on the same statedir lists its old jobs.

mod actor;
pub mod query;
mod restore;
pub mod table;
#[cfg(test)]
mod tests;

pub use actor::{JobListActor, start};
