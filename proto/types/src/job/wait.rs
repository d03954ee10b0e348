//! POSIX `wait(2)` status helpers (the `finish` event's `status`).

/// A raw wait status as `wait(2)` encodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    /// Status of a process that exited with `code` (0-255).
    pub fn exited(code: u8) -> Self {
        WaitStatus(i32::from(code) << 8)
    }

    /// Status of a process killed by signal `signum` (1-127).
    pub fn signaled(signum: u8) -> Self {
        WaitStatus(i32::from(signum & 0x7f))
    }

    /// `WIFEXITED`.
    pub fn is_exited(self) -> bool {
        self.0 & 0x7f == 0
    }

    /// `WIFSIGNALED`.
    pub fn is_signaled(self) -> bool {
        let sig = self.0 & 0x7f;
        sig != 0 && sig != 0x7f
    }

    /// `WEXITSTATUS`, if exited.
    pub fn exit_status(self) -> Option<i32> {
        self.is_exited().then_some((self.0 >> 8) & 0xff)
    }

    /// `WTERMSIG`, if signaled.
    pub fn signal(self) -> Option<i32> {
        self.is_signaled().then_some(self.0 & 0x7f)
    }

    /// Shell-style exit code: 128 + signal if signaled, else the exit status.
    pub fn exit_code(self) -> i32 {
        match self.signal() {
            Some(sig) => 128 + sig,
            None => (self.0 >> 8) & 0xff,
        }
    }

    /// `flux jobs` `returncode`: the exit status, or minus the signal number.
    pub fn returncode(self) -> i32 {
        match self.signal() {
            Some(sig) => -sig,
            None => (self.0 >> 8) & 0xff,
        }
    }
}

/// Exit code for a raw wait status: 128 + signal, else the exit status (as `flux run`).
pub fn exit_code(status: i32) -> i32 {
    WaitStatus(status).exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(256), 1);
        assert_eq!(exit_code(42 << 8), 42);
        assert_eq!(exit_code(9), 137);
        assert_eq!(exit_code(14), 142);
        assert_eq!(exit_code(15 | 0x80), 143); // core dumped flag
        assert_eq!(WaitStatus::exited(3), WaitStatus(768));
        assert_eq!(WaitStatus::signaled(9).signal(), Some(9));
        assert_eq!(WaitStatus::signaled(9).returncode(), -9);
        assert_eq!(WaitStatus::exited(2).returncode(), 2);
        assert_eq!(WaitStatus::exited(2).exit_status(), Some(2));
        assert_eq!(WaitStatus::exited(2).signal(), None);
        assert!(!WaitStatus(0x137f).is_signaled()); // stopped
    }
}
