//! The job shell: what runs a job's tasks on one broker rank ([`jobshell::JobShell`]), the
//! process-exit conventions shared by the shell, the broker's initial program and `flux
//! start`, and simple PMI (wire grammar, server state, client). See spec/shell.md.

pub mod exit;
pub mod jobshell;
pub mod pmi;

pub use jobshell::{JobShell, ShellEvent, ShellSpec};
