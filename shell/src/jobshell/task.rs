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
    /// The master side of the task's pseudo-terminal.
    pub pty: Option<std::fs::File>,
}

/// A pseudo-terminal: (master, slave).
fn openpty() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into our integers; the name and termios
    // arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
        // SAFETY: fcntl on descriptors we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok((master, slave))
}

/// Start local task `local` (global rank `rank`) in its own process group.
pub(super) fn spawn(
    spec: &ShellSpec,
    local: usize,
    rank: u32,
    tmpdir: Option<&str>,
    cpus: Option<&[usize]>,
) -> std::io::Result<Started> {
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let pty = if spec.pty_tasks.contains(&rank) {
        Some(openpty()?)
    } else {
        None
    };
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
        .kill_on_drop(false);
    match &pty {
        Some((_, slave)) => {
            command
                .stdin(slave.try_clone()?)
                .stdout(slave.try_clone()?)
                .stderr(slave.try_clone()?);
            // SAFETY: between fork and exec only setsid and ioctl run (system calls): the
            // task leads a new session (and process group) whose terminal is the pty.
            unsafe {
                command.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        None => {
            command.process_group(0);
        }
    }
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
    if let Some(cpus) = cpus {
        // SAFETY: the set is plain data, zeroed then filled here before the fork.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for cpu in cpus.iter().filter(|c| **c < libc::CPU_SETSIZE as usize) {
            // SAFETY: CPU_SET only writes inside the set, and `cpu` is below its size.
            unsafe { libc::CPU_SET(*cpu, &mut set) };
        }
        // SAFETY: between fork and exec only sched_setaffinity runs (a system call) on
        // memory prepared before the fork.
        unsafe {
            command.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
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
        pty: pty.map(|(master, _slave)| master),
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
