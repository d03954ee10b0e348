//! Job states and results (RFC 21), the pure job state machine that replays an eventlog,
//! and wait-status helpers.

mod machine;
mod record;
mod result;
mod serde_impl;
mod state;
mod wait;

pub use machine::{TransitionError, next_state};
pub use record::{Exception, JobRecord};
pub use result::{JobResult, ParseResultError};
pub use state::{JobState, ParseStateError, StateMask};
pub use wait::{WaitStatus, exit_code};
