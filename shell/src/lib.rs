//! The job shell: what runs a job's tasks. For now it holds the process-exit conventions
//! shared by the shell, the broker's initial program and `flux start`; the task launcher,
//! stdio, signals, limits and PMI server follow (spec/shell.md).

pub mod exit;
