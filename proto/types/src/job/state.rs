//! The seven job states and masks over them.

use std::fmt;
use std::ops::BitOr;
use std::str::FromStr;

use thiserror::Error;

/// Unknown state or state-mask name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown job state '{0}'")]
pub struct ParseStateError(pub String);

/// A job state; the discriminant is flux-core's bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum JobState {
    /// `submit` logged, awaiting `validate` (the state before any event).
    #[default]
    New = 1,
    /// Waiting for dependencies.
    Depend = 2,
    /// Waiting for a priority.
    Priority = 4,
    /// Waiting for resources.
    Sched = 8,
    /// Resources allocated; shells running.
    Run = 16,
    /// Finished or failed; releasing resources.
    Cleanup = 32,
    /// Final.
    Inactive = 64,
}

impl JobState {
    /// All states in order.
    pub const ALL: [JobState; 7] = [
        JobState::New,
        JobState::Depend,
        JobState::Priority,
        JobState::Sched,
        JobState::Run,
        JobState::Cleanup,
        JobState::Inactive,
    ];

    /// Upper-case name, e.g. `SCHED`.
    pub fn name(self) -> &'static str {
        match self {
            JobState::New => "NEW",
            JobState::Depend => "DEPEND",
            JobState::Priority => "PRIORITY",
            JobState::Sched => "SCHED",
            JobState::Run => "RUN",
            JobState::Cleanup => "CLEANUP",
            JobState::Inactive => "INACTIVE",
        }
    }

    /// Single-letter abbreviation, e.g. `S`.
    pub fn abbrev(self) -> &'static str {
        &self.name()[..1]
    }

    /// flux-core's bit value.
    pub fn bits(self) -> u32 {
        self as u32
    }

    /// The state with bit value `bits`.
    pub fn from_bits(bits: u32) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.bits() == bits)
    }

    /// Not INACTIVE.
    pub fn is_active(self) -> bool {
        self != JobState::Inactive
    }

    /// DEPEND, PRIORITY or SCHED.
    pub fn is_pending(self) -> bool {
        StateMask::PENDING.contains(self)
    }

    /// RUN or CLEANUP.
    pub fn is_running(self) -> bool {
        StateMask::RUNNING.contains(self)
    }

    /// The state after `event` (see [`next_state`](super::next_state)).
    pub fn apply(self, event: &crate::eventlog::Entry) -> Result<JobState, super::TransitionError> {
        super::next_state(self, event)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for JobState {
    type Err = ParseStateError;

    /// Accepts upper, lower or single-letter names (`SCHED`, `sched`, `S`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(s) || st.abbrev().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseStateError(s.to_string()))
    }
}

/// A set of states, e.g. for `flux jobs -f` filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateMask(pub u32);

impl StateMask {
    /// DEPEND | PRIORITY | SCHED (`PD`).
    pub const PENDING: StateMask = StateMask(2 | 4 | 8);
    /// RUN | CLEANUP (`RU`).
    pub const RUNNING: StateMask = StateMask(16 | 32);
    /// PENDING | RUNNING (`A`).
    pub const ACTIVE: StateMask = StateMask(2 | 4 | 8 | 16 | 32);
    /// INACTIVE.
    pub const INACTIVE: StateMask = StateMask(64);
    /// Every state.
    pub const ALL: StateMask = StateMask(127);

    /// True if `state` is in the mask.
    pub fn contains(self, state: JobState) -> bool {
        self.0 & state.bits() != 0
    }
}

impl From<JobState> for StateMask {
    fn from(s: JobState) -> Self {
        StateMask(s.bits())
    }
}

impl BitOr for StateMask {
    type Output = StateMask;

    fn bitor(self, rhs: StateMask) -> StateMask {
        StateMask(self.0 | rhs.0)
    }
}

impl FromStr for StateMask {
    type Err = ParseStateError;

    /// A state name, or `pending`/`PD`, `running`/`RU`, `active`/`A`, `all`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "pending" | "pd" => Ok(StateMask::PENDING),
            "running" | "ru" => Ok(StateMask::RUNNING),
            "active" | "a" => Ok(StateMask::ACTIVE),
            "all" => Ok(StateMask::ALL),
            _ => s.parse::<JobState>().map(StateMask::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bits() {
        let names: Vec<_> = JobState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "NEW", "DEPEND", "PRIORITY", "SCHED", "RUN", "CLEANUP", "INACTIVE"
            ]
        );
        let abbrevs: String = JobState::ALL.iter().map(|s| s.abbrev()).collect();
        assert_eq!(abbrevs, "NDPSRCI");
        for s in JobState::ALL {
            assert_eq!(s.name().parse(), Ok(s));
            assert_eq!(s.name().to_lowercase().parse(), Ok(s));
            assert_eq!(s.abbrev().parse(), Ok(s));
            assert_eq!(JobState::from_bits(s.bits()), Some(s));
        }
        assert_eq!(JobState::Sched.bits(), 8);
        assert!("X".parse::<JobState>().is_err());
        assert_eq!(JobState::from_bits(3), None);
    }

    #[test]
    fn masks() {
        assert_eq!(StateMask::PENDING.0, 14);
        assert_eq!(StateMask::RUNNING.0, 48);
        assert_eq!(StateMask::ACTIVE.0, 62);
        assert!(JobState::Priority.is_pending() && !JobState::Run.is_pending());
        assert!(JobState::Cleanup.is_running() && !JobState::Inactive.is_active());
        assert_eq!("PD".parse(), Ok(StateMask::PENDING));
        assert_eq!("running".parse(), Ok(StateMask::RUNNING));
        assert_eq!("sched".parse(), Ok(StateMask(8)));
        assert_eq!(
            StateMask::from(JobState::Run) | StateMask::INACTIVE,
            StateMask(80)
        );
        assert!("bogus".parse::<StateMask>().is_err());
    }
}
