//! Starting one task: its command, environment, standard streams, process group and PMI
//! descriptor.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::Stdio;

use super::Stream;
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
            None if spec.stdin_service => Stdio::piped(),
            None => Stdio::null(),
        })
        .stdout(sink(spec.direct_file(Stream::Stdout))?)
        .stderr(sink(spec.direct_file(Stream::Stderr))?)
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
