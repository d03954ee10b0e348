//! The RFC 21 event → state transition table, as a pure function.

use thiserror::Error;

use super::JobState;
use crate::eventlog::Entry;

/// An event that is not allowed in the job's current state, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// `event` cannot happen in `state`.
    #[error("event '{event}' is invalid in state {state}")]
    InvalidEvent {
        /// Event name.
        event: String,
        /// Current state.
        state: JobState,
    },
    /// The event's context lacks a required key or has a bad value.
    #[error("event '{event}': {reason}")]
    BadContext {
        /// Event name.
        event: String,
        /// What is wrong.
        reason: String,
    },
}

/// Severity of an `exception` event (0 = fatal).
pub(super) fn exception_severity(entry: &Entry) -> Result<i64, TransitionError> {
    entry
        .context
        .get_i64("severity")
        .filter(|s| (0..=7).contains(s))
        .ok_or_else(|| TransitionError::BadContext {
            event: entry.name.clone(),
            reason: "severity must be an integer 0-7".into(),
        })
}

/// The state after `entry` is applied to a job in `state`.
///
/// Transition events are checked against the state they may occur in; events that carry
/// data but no transition (`start`, `release`, `memo`, `prolog-start`, unknown names...)
/// are accepted in any active state. No event is valid once INACTIVE.
pub fn next_state(state: JobState, entry: &Entry) -> Result<JobState, TransitionError> {
    use JobState::*;
    let invalid = || TransitionError::InvalidEvent {
        event: entry.name.clone(),
        state,
    };
    if state == Inactive {
        return Err(invalid());
    }
    let next = match (entry.name.as_str(), state) {
        ("submit", New) => New,
        ("validate", New) => Depend,
        // The job is removed; nothing more will be logged.
        ("invalidate", New) => Inactive,
        ("dependency-add" | "dependency-remove", New | Depend) => state,
        ("depend", Depend) => Priority,
        ("priority", Priority | Sched) => Sched,
        // Re-prioritize a job waiting for resources.
        ("urgency" | "jobspec-update" | "flux-restart", Sched) => Priority,
        ("urgency" | "jobspec-update" | "flux-restart", _) => state,
        ("alloc", Sched) => Run,
        // A job canceled while its alloc request was outstanding still gets resources.
        ("alloc", Cleanup) => Cleanup,
        ("finish", Run) => Cleanup,
        // Finish after a fatal exception moved the job to CLEANUP.
        ("finish", Cleanup) => Cleanup,
        ("clean", Cleanup) => Inactive,
        ("exception", New) => return Err(invalid()),
        ("exception", _) => {
            if exception_severity(entry)? == 0 {
                Cleanup
            } else {
                state
            }
        }
        (
            "submit" | "validate" | "invalidate" | "dependency-add" | "dependency-remove"
            | "depend" | "priority" | "alloc" | "finish" | "clean",
            _,
        ) => return Err(invalid()),
        // Informational events (start, release, free, memo, prolog-*, epilog-*,
        // set-flags, resource-update, debug.*, and names unknown to us).
        _ => state,
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobState::*;

    fn ev(name: &str) -> Entry {
        Entry::new(1.0, name)
    }

    fn exc(severity: i64) -> Entry {
        ev("exception")
            .with("type", "cancel")
            .with("severity", severity)
            .with("note", "")
    }

    #[test]
    fn transition_table() {
        let table = [
            (New, "submit", New),
            (New, "validate", Depend),
            (New, "invalidate", Inactive),
            (Depend, "dependency-add", Depend),
            (Depend, "dependency-remove", Depend),
            (Depend, "depend", Priority),
            (Priority, "priority", Sched),
            (Sched, "priority", Sched),
            (Sched, "urgency", Priority),
            (Sched, "jobspec-update", Priority),
            (Sched, "flux-restart", Priority),
            (Priority, "urgency", Priority),
            (Run, "urgency", Run),
            (Sched, "alloc", Run),
            (Cleanup, "alloc", Cleanup),
            (Run, "start", Run),
            (Run, "finish", Cleanup),
            (Cleanup, "finish", Cleanup),
            (Cleanup, "release", Cleanup),
            (Cleanup, "free", Cleanup),
            (Cleanup, "clean", Inactive),
            (Run, "memo", Run),
            (Sched, "some-future-event", Sched),
        ];
        for (from, name, to) in table {
            assert_eq!(next_state(from, &ev(name)), Ok(to), "{from} {name}");
            assert_eq!(from.apply(&ev(name)), Ok(to));
        }
    }

    #[test]
    fn invalid_transitions() {
        for (from, name) in [
            (Depend, "validate"),
            (New, "depend"),
            (Priority, "alloc"),
            (Sched, "finish"),
            (Run, "clean"),
            (Run, "submit"),
            (Sched, "depend"),
            (Priority, "dependency-add"),
            (Inactive, "memo"),
            (Inactive, "clean"),
            (New, "exception"),
        ] {
            let e = if name == "exception" {
                exc(0)
            } else {
                ev(name)
            };
            assert_eq!(
                next_state(from, &e),
                Err(TransitionError::InvalidEvent {
                    event: name.into(),
                    state: from
                }),
                "{from} {name}"
            );
        }
    }

    #[test]
    fn exceptions() {
        for from in [Depend, Priority, Sched, Run] {
            assert_eq!(next_state(from, &exc(0)), Ok(Cleanup));
            assert_eq!(next_state(from, &exc(1)), Ok(from));
        }
        assert_eq!(next_state(Cleanup, &exc(0)), Ok(Cleanup));
        assert!(matches!(
            next_state(Run, &ev("exception")),
            Err(TransitionError::BadContext { .. })
        ));
        assert!(matches!(
            next_state(Run, &exc(8)),
            Err(TransitionError::BadContext { .. })
        ));
    }
}
