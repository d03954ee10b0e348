//! Starting one task: its command, environment, standard streams, process group and PMI
//! descriptor.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::Stdio;

use super::spec::ShellSpec;

/// A started task.
pub(super) struct Started {
    pub child: tokio::process::Child,
    pub pid: u32,
    /// The shell's end of the task's PMI socketpair.
    pub pmi: Option<UnixStream>,
}

/// Start local task `local` (global rank `rank`) in its own process group.
pub(super) fn spawn(
    spec: &ShellSpec,
    local: usize,
    rank: u32,
    tmpdir: Option<&str>,
) -> std::io::Result<Started> {
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(&spec.env)
        .envs(spec.task_env(local, rank))
        .stdin(match &spec.stdin_path {
            Some(path) => Stdio::from(std::fs::File::open(path)?),
            None => Stdio::null(),
        })
        .stdout(sink(spec.stdout_path.as_deref())?)
        .stderr(sink(spec.stderr_path.as_deref())?)
        .process_group(0)
        .kill_on_drop(false);
    if let Some(dir) = tmpdir {
        command.env("FLUX_JOB_TMPDIR", dir);
    }
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let limits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)> = spec
        .rlimits
        .iter()
        .filter_map(|(name, value)| {
            let value = if *value < 0 {
                libc::RLIM_INFINITY
            } else {
                *value as libc::rlim_t
            };
            Some((super::spec::rlimit_resource(name)?, value))
        })
        .collect();
    if !limits.is_empty() {
        // SAFETY: between fork and exec only getrlimit/setrlimit run (async-signal-safe) on
        // memory prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                for (res, want) in &limits {
                    let mut rl = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    if libc::getrlimit(*res, &mut rl) == 0 {
                        // A soft limit above the hard one is capped, as a shell would.
                        rl.rlim_cur = (*want).min(rl.rlim_max);
                        libc::setrlimit(*res, &rl);
                    }
                }
                Ok(())
            });
        }
    }
    let pair = if spec.pmi {
        let (ours, theirs) = UnixStream::pair()?;
        let fd = theirs.as_raw_fd();
        command.env("PMI_FD", fd.to_string());
        // SAFETY: between fork and exec only fcntl runs, which is async-signal-safe. The
        // task's end stays close-on-exec in the shell; only the task inherits it.
        unsafe {
            command.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Some((ours, theirs))
    } else {
        None
    };
    let child = command.spawn()?;
    let pid = child.id().unwrap_or(0);
    Ok(Started {
        child,
        pid,
        // The task holds its end now; dropping ours lets the shell see it close.
        pmi: pair.map(|(ours, _theirs)| ours),
    })
}

/// Where a stream goes: a file opened for appending (shared by all tasks), or a pipe to
/// the shell.
fn sink(path: Option<&str>) -> std::io::Result<Stdio> {
    match path {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            Ok(Stdio::from(file))
        }
        None => Ok(Stdio::piped()),
    }
}

/// Text from a byte stream, never splitting a UTF-8 sequence between two reads (invalid
/// bytes become U+FFFD).
#[derive(Debug, Default)]
pub struct Utf8Chunks {
    tail: Vec<u8>,
}

impl Utf8Chunks {
    /// The text of `bytes` read after the earlier ones; an unfinished sequence waits.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.tail.extend_from_slice(bytes);
        let keep = match std::str::from_utf8(&self.tail) {
            Ok(_) => 0,
            // `error_len() == None`: the end is a sequence cut short, not an invalid one.
            Err(e) if e.error_len().is_none() => self.tail.len() - e.valid_up_to(),
            Err(_) => incomplete_suffix(&self.tail),
        };
        let rest = self.tail.split_off(self.tail.len() - keep);
        let text = String::from_utf8_lossy(&self.tail).into_owned();
        self.tail = rest;
        text
    }

    /// Whatever is left at the end of the stream.
    pub fn finish(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.tail)).into_owned()
    }
}

/// The length of a UTF-8 sequence started but not finished at the end of `b` (0-3).
fn incomplete_suffix(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let byte = b[b.len() - back];
        if byte & 0xC0 != 0x80 {
            let need = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 0,
            };
            return if need > back { back } else { 0 };
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_split_between_reads_are_kept_whole() {
        let mut c = Utf8Chunks::default();
        let e = "é".as_bytes();
        assert_eq!(c.push(&[b'a', e[0]]), "a");
        assert_eq!(c.push(&[e[1], b'b']), "éb");
        assert_eq!(c.push(&[0xff, b'c', e[0]]), "\u{fffd}c");
        assert_eq!(c.finish(), "\u{fffd}");
    }
}
