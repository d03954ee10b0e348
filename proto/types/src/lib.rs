//! Flux's shared formats, defined once and used by every part of the system.
//!
//! - [`fluid`]: FLUID job ids ([`JobId`]) and all their encodings (RFC 19).
//! - [`fsd`]: Flux Standard Duration strings (RFC 23).
//! - [`idset`]: sets of non-negative integers ([`IdSet`], RFC 22).
//! - [`hostlist`]: ordered lists of host names ([`Hostlist`], RFC 29).
//! - [`jobspec`]: Jobspec V1 ([`Jobspec`], RFC 14/25) and a builder from CLI options.
//! - [`r`]: resource set R version 1 ([`ResourceSet`], RFC 20).
//! - [`eventlog`]: eventlog entries (RFC 18).
//! - [`job`]: job states and results, the pure job state machine that replays an
//!   eventlog ([`JobRecord`], RFC 21), wait-status helpers.
//! - [`pyjson`]: JSON text with Python's separators, as Flux's Python commands print it.
//!
//! Pure library: no I/O, no clocks (time is always passed in), no async.
#![warn(missing_docs)]

pub mod eventlog;
pub mod fluid;
pub mod fsd;
pub mod hostlist;
pub mod idset;
pub mod job;
pub mod jobspec;
pub mod pyjson;
pub mod r;

pub use eventlog::{Context, Entry, EventlogError};
pub use fluid::{FluidError, FluidGenerator, JobId, JobIdEncoding};
pub use fsd::{Fsd, FsdError};
pub use hostlist::{Hostlist, HostlistError};
pub use idset::{IdSet, IdSetError};
pub use job::{JobRecord, JobResult, JobState, StateMask, TransitionError, WaitStatus};
pub use jobspec::{Jobspec, JobspecBuilder, JobspecError};
pub use r::{RError, ResourceSet};
