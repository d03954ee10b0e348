//! How a process's end becomes an exit code, as a POSIX shell reports it.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// Exit code of a command that could not be found.
pub const NOT_FOUND: i32 = 127;
/// Exit code of a command that exists but could not be executed.
pub const NOT_EXECUTABLE: i32 = 126;

/// The exit code of a finished process: its status, or 128+N if signal N killed it.
pub fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}

/// The exit code a wait status stands for (128+N for signal N).
pub fn status_code(status: i32) -> i32 {
    exit_code(ExitStatus::from_raw(status))
}

/// A job's wait status from its tasks': that of the task with the highest exit code, a
/// task killed by signal N counting as 128+N (spec/job-states.md).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExitTally {
    worst: Option<i32>,
}

impl ExitTally {
    /// Count one task's wait status.
    pub fn add(&mut self, status: i32) {
        if self
            .worst
            .is_none_or(|w| status_code(status) > status_code(w))
        {
            self.worst = Some(status);
        }
    }

    /// The wait status of the job so far (0 when no task has ended).
    pub fn status(&self) -> i32 {
        self.worst.unwrap_or(0)
    }
}

/// The exit code for a command that failed to start, as `sh` would give.
pub fn spawn_error_code(err: &io::Error) -> i32 {
    match err.kind() {
        io::ErrorKind::NotFound => NOT_FOUND,
        _ => NOT_EXECUTABLE,
    }
}

/// What to tell the user about a command that failed to start.
pub fn spawn_error_message(command: &str, err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => format!("{command}: command not found"),
        io::ErrorKind::PermissionDenied => format!("{command}: Permission denied"),
        _ => format!("{command}: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGKILL (9).
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn the_highest_exit_code_wins() {
        let mut t = ExitTally::default();
        assert_eq!(t.status(), 0);
        t.add(3 << 8);
        t.add(0);
        assert_eq!(t.status(), 3 << 8);
        t.add(15); // SIGTERM: 143
        t.add(100 << 8);
        assert_eq!(status_code(t.status()), 143);
        t.add(200 << 8);
        assert_eq!(status_code(t.status()), 200);
    }

    #[test]
    fn spawn_errors_map_to_127_and_126() {
        let nf = io::Error::from(io::ErrorKind::NotFound);
        let pd = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(spawn_error_code(&nf), 127);
        assert_eq!(spawn_error_code(&pd), 126);
        assert_eq!(
            spawn_error_message("nosuch", &nf),
            "nosuch: command not found"
        );
    }
}
