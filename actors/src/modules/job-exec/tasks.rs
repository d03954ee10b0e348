//! Spawning one task of a job and following it to its end.

use std::process::Stdio;

use actix::Addr;
use flux_proto::types::JobId;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{JobEvent, JobExec, Plan};

/// Spawn task `rank` in its own process group; its output and exit come back to `exec` as
/// [`JobEvent`]s. Returns the pid.
pub(super) fn spawn(
    id: JobId,
    rank: u32,
    local: u32,
    argv: &[String],
    plan: &Plan,
    exec: Addr<JobExec>,
) -> std::io::Result<u32> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(&plan.env)
        .env("FLUX_TASK_RANK", rank.to_string())
        .env("FLUX_TASK_LOCAL_ID", local.to_string())
        .stdin(match &plan.stdin_path {
            Some(path) => Stdio::from(std::fs::File::open(path)?),
            None => Stdio::null(),
        })
        .stdout(sink(plan.stdout_path.as_deref())?)
        .stderr(sink(plan.stderr_path.as_deref())?)
        .process_group(0);
    if let Some(cwd) = &plan.cwd {
        command.current_dir(cwd);
    }
    let mut child = command.spawn()?;
    let pid = child.id().unwrap_or(0);
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    actix::spawn(async move {
        let (_, _, status) = tokio::join!(
            pump(stdout, id, rank, "stdout", &exec),
            pump(stderr, id, rank, "stderr", &exec),
            child.wait()
        );
        use std::os::unix::process::ExitStatusExt;
        let status = status.map(|s| s.into_raw()).unwrap_or(1 << 8);
        exec.do_send(JobEvent::TaskExited { id, rank, status });
    });
    Ok(pid)
}

/// Where a stream goes: a file opened for appending (shared by all tasks), or a pipe to
/// the output eventlog.
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

async fn pump(
    pipe: Option<impl AsyncRead + Unpin>,
    id: JobId,
    rank: u32,
    stream: &'static str,
    exec: &Addr<JobExec>,
) {
    if let Some(mut pipe) = pipe {
        let mut buf = vec![0u8; 16 << 10];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let data = String::from_utf8_lossy(&buf[..n]).into_owned();
            exec.do_send(JobEvent::Output {
                id,
                rank,
                stream,
                data,
            });
        }
    }
    exec.do_send(JobEvent::Eof { id, rank, stream });
}
