//! Job results (only for INACTIVE jobs).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Unknown result name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown job result '{0}'")]
pub struct ParseResultError(pub String);

/// How an inactive job ended; the discriminant is flux-core's bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobResult {
    /// Ran and exited 0.
    Completed = 1,
    /// Anything else.
    Failed = 2,
    /// Fatal `cancel` exception.
    Canceled = 4,
    /// Fatal `timeout` exception.
    Timeout = 8,
}

impl JobResult {
    /// All results.
    pub const ALL: [JobResult; 4] = [
        JobResult::Completed,
        JobResult::Failed,
        JobResult::Canceled,
        JobResult::Timeout,
    ];

    /// Upper-case name, e.g. `COMPLETED`.
    pub fn name(self) -> &'static str {
        match self {
            JobResult::Completed => "COMPLETED",
            JobResult::Failed => "FAILED",
            JobResult::Canceled => "CANCELED",
            JobResult::Timeout => "TIMEOUT",
        }
    }

    /// `flux jobs` ST abbreviation: `CD`, `F`, `CA`, `TO`.
    pub fn abbrev(self) -> &'static str {
        match self {
            JobResult::Completed => "CD",
            JobResult::Failed => "F",
            JobResult::Canceled => "CA",
            JobResult::Timeout => "TO",
        }
    }

    /// flux-core's bit value.
    pub fn bits(self) -> u32 {
        self as u32
    }

    /// The result from a finish wait status (if the job ran) and the type of the first
    /// fatal exception (if any), per RFC 21 / job-list.
    pub fn compute(wait_status: Option<i32>, fatal_exception: Option<&str>) -> JobResult {
        match (wait_status, fatal_exception) {
            (Some(0), _) => JobResult::Completed,
            (_, Some("cancel")) => JobResult::Canceled,
            (_, Some("timeout")) => JobResult::Timeout,
            _ => JobResult::Failed,
        }
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for JobResult {
    type Err = ParseResultError;

    /// Accepts names in any case and the abbreviations.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobResult::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s) || r.abbrev().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseResultError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for r in JobResult::ALL {
            assert_eq!(r.name().parse(), Ok(r));
            assert_eq!(r.abbrev().parse(), Ok(r));
            assert_eq!(r.name().to_lowercase().parse(), Ok(r));
        }
        assert_eq!(JobResult::Canceled.abbrev(), "CA");
        assert_eq!(JobResult::Timeout.bits(), 8);
        assert!("X".parse::<JobResult>().is_err());
    }

    #[test]
    fn compute() {
        assert_eq!(JobResult::compute(Some(0), None), JobResult::Completed);
        assert_eq!(JobResult::compute(Some(256), None), JobResult::Failed);
        assert_eq!(
            JobResult::compute(Some(15), Some("cancel")),
            JobResult::Canceled
        );
        assert_eq!(
            JobResult::compute(None, Some("cancel")),
            JobResult::Canceled
        );
        assert_eq!(
            JobResult::compute(Some(14), Some("timeout")),
            JobResult::Timeout
        );
        assert_eq!(JobResult::compute(None, Some("exec")), JobResult::Failed);
        assert_eq!(JobResult::compute(None, None), JobResult::Failed);
    }
}
