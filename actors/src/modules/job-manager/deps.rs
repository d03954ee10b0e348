//! Job dependencies (RFC 26): `afterok`, `afterany`, `afternotok`, `after` on other jobs,
//! and `begin-time`.

use flux_proto::types::jobspec::Dependency;
use flux_proto::types::{JobId, JobResult};

/// What a dependency waits for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DepKind {
    /// `after:ID`: the job started.
    AfterStart(JobId),
    /// `afterany:ID`: the job finished, however.
    AfterFinish(JobId),
    /// `afterok:ID`: the job completed successfully.
    AfterSuccess(JobId),
    /// `afternotok:ID`: the job failed, was canceled or timed out.
    AfterFailure(JobId),
    /// `begin-time:T`: not before T (seconds since the epoch).
    BeginTime(f64),
}

/// Why a dependency is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DepError {
    #[error("unknown dependency scheme '{0}'")]
    Scheme(String),
    #[error("invalid job id '{0}' in dependency")]
    JobId(String),
    #[error("invalid begin-time '{0}'")]
    BeginTime(String),
}

/// How a dependency on another job turns out when that job changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Satisfied,
    /// It never can be: the dependent job must fail.
    Never,
    Waiting,
}

impl DepKind {
    /// Interpret a jobspec dependency.
    pub fn from_jobspec(dep: &Dependency) -> Result<Self, DepError> {
        let id = || JobId::parse(&dep.value).map_err(|_| DepError::JobId(dep.value.clone()));
        Ok(match dep.scheme.as_str() {
            "after" => DepKind::AfterStart(id()?),
            "afterany" => DepKind::AfterFinish(id()?),
            "afterok" => DepKind::AfterSuccess(id()?),
            "afternotok" => DepKind::AfterFailure(id()?),
            "begin-time" => DepKind::BeginTime(
                dep.value
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite())
                    .ok_or_else(|| DepError::BeginTime(dep.value.clone()))?,
            ),
            other => return Err(DepError::Scheme(other.to_string())),
        })
    }

    /// Parse a `dependency-add` description back (what a replayed eventlog holds).
    pub fn from_description(text: &str) -> Option<Self> {
        let (kind, value) = text.split_once('=')?;
        let id = || JobId::parse(value).ok();
        Some(match kind {
            "after-start" => DepKind::AfterStart(id()?),
            "after-finish" => DepKind::AfterFinish(id()?),
            "after-success" => DepKind::AfterSuccess(id()?),
            "after-failure" => DepKind::AfterFailure(id()?),
            "begin-time" => DepKind::BeginTime(value.parse().ok()?),
            _ => return None,
        })
    }

    /// The job this depends on, if any.
    pub fn target(&self) -> Option<JobId> {
        match *self {
            DepKind::AfterStart(id)
            | DepKind::AfterFinish(id)
            | DepKind::AfterSuccess(id)
            | DepKind::AfterFailure(id) => Some(id),
            DepKind::BeginTime(_) => None,
        }
    }

    /// The `dependency-add` description, as flux-core writes it.
    pub fn description(&self) -> String {
        match *self {
            DepKind::AfterStart(id) => format!("after-start={}", id.to_f58()),
            DepKind::AfterFinish(id) => format!("after-finish={}", id.to_f58()),
            DepKind::AfterSuccess(id) => format!("after-success={}", id.to_f58()),
            DepKind::AfterFailure(id) => format!("after-failure={}", id.to_f58()),
            DepKind::BeginTime(t) => format!("begin-time={t:.3}"),
        }
    }

    /// Evaluate against the target's progress: whether it started, and its result once
    /// inactive.
    pub fn outcome(&self, started: bool, result: Option<JobResult>) -> Outcome {
        match (*self, result) {
            (DepKind::AfterStart(_), _) if started => Outcome::Satisfied,
            (DepKind::AfterStart(_), Some(_)) => Outcome::Never,
            (DepKind::AfterFinish(_), Some(_)) => Outcome::Satisfied,
            (DepKind::AfterSuccess(_), Some(JobResult::Completed)) => Outcome::Satisfied,
            (DepKind::AfterSuccess(_), Some(_)) => Outcome::Never,
            (DepKind::AfterFailure(_), Some(JobResult::Completed)) => Outcome::Never,
            (DepKind::AfterFailure(_), Some(_)) => Outcome::Satisfied,
            _ => Outcome::Waiting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(scheme: &str, value: &str) -> Result<DepKind, DepError> {
        DepKind::from_jobspec(&Dependency::new(scheme, value))
    }

    #[test]
    fn parses_schemes() {
        let id = JobId(1 << 24);
        assert_eq!(dep("afterok", &id.to_f58()), Ok(DepKind::AfterSuccess(id)));
        assert_eq!(dep("afterany", "16777216"), Ok(DepKind::AfterFinish(id)));
        assert_eq!(dep("begin-time", "12.5"), Ok(DepKind::BeginTime(12.5)));
        assert!(matches!(dep("afterok", "nope"), Err(DepError::JobId(_))));
        assert!(matches!(dep("sometime", "1"), Err(DepError::Scheme(_))));
        assert!(matches!(
            dep("begin-time", "inf"),
            Err(DepError::BeginTime(_))
        ));
    }

    #[test]
    fn descriptions_round_trip() {
        for dep in [
            DepKind::AfterSuccess(JobId(1 << 30)),
            DepKind::AfterStart(JobId(5)),
            DepKind::BeginTime(12.5),
        ] {
            assert_eq!(DepKind::from_description(&dep.description()), Some(dep));
        }
        assert_eq!(DepKind::from_description("singleton"), None);
    }

    #[test]
    fn outcomes_follow_results() {
        let id = JobId(1);
        use JobResult::*;
        assert_eq!(
            DepKind::AfterSuccess(id).outcome(true, Some(Completed)),
            Outcome::Satisfied
        );
        assert_eq!(
            DepKind::AfterSuccess(id).outcome(true, Some(Failed)),
            Outcome::Never
        );
        assert_eq!(
            DepKind::AfterFailure(id).outcome(false, Some(Canceled)),
            Outcome::Satisfied
        );
        assert_eq!(
            DepKind::AfterFailure(id).outcome(true, Some(Completed)),
            Outcome::Never
        );
        assert_eq!(
            DepKind::AfterFinish(id).outcome(false, None),
            Outcome::Waiting
        );
        assert_eq!(
            DepKind::AfterStart(id).outcome(true, None),
            Outcome::Satisfied
        );
        assert_eq!(
            DepKind::AfterStart(id).outcome(false, Some(Canceled)),
            Outcome::Never
        );
    }
}
