#![warn(missing_docs)]
//! Fluxion, the graph-based resource matcher of Flux, as a core without I/O.
//!
//! * [`graph`]: the resource graph (index-based arena, subsystem-tagged edges).
//! * [`readers`]: GRUG (GraphML recipes) and JGF readers, load allowlist.
//! * [`planner`]: time-based planners and multi-type pruning filters.
//! * [`jobspec`]: RFC 14 jobspecs as Fluxion reads them.
//! * [`policy`]: match policies (high, low, hinode, lonode, hinodex, lonodex, first, ...).
//! * [`traverser`]: the DFU matcher (allocate, reserve, satisfiability, cancel).
//! * [`writers`]: match output formats.
//! * [`qmanager`]: queue policies (fcfs, easy, hybrid, conservative) over the matcher.
//! * [`query`]: the `resource-query` command interpreter.

pub mod error;
pub mod graph;
pub mod jobspec;
pub mod planner;
pub mod policy;
pub mod qmanager;
pub mod query;
pub mod readers;
pub mod traverser;
pub mod vecmap;
pub mod writers;
