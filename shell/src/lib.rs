//! The job shell: what runs a job's tasks. For now it holds the process-exit conventions
//! shared by the shell, the broker's initial program and `flux start`, and simple PMI
//! (wire grammar, server state, client); the task launcher, stdio, signals and limits
//! follow (spec/shell.md).

pub mod exit;
pub mod pmi;
