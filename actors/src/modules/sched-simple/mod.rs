//! sched-simple: a first-come-first-served scheduler over a [`pool::Pool`].

pub mod pool;

mod actor;
mod queue;

pub use actor::{SchedSimple, start};
