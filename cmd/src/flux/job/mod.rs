//! `flux job SUBCMD`: work with one job at a time.

pub mod attach;
mod control;
mod eventlog;
pub mod follow;
mod info;

use anyhow::Context as _;
use flux_proto::types::JobId;

pub use attach::attach;
pub use control::{parse_signal, raise_one};
pub use info::submit_jobspec;

use crate::util;

/// Work with jobs.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Follow a job's output and events until it ends
    Attach(attach::Args),
    /// Print a job's eventlog
    Eventlog(eventlog::EventlogArgs),
    /// Wait for an event in a job's eventlog
    #[command(name = "wait-event")]
    WaitEvent(eventlog::WaitEventArgs),
    /// Print a job's data from the KVS (jobspec, R, eventlog, guest.output, ...)
    Info(info::InfoArgs),
    /// Convert job ids between encodings
    Id(info::IdArgs),
    /// Submit a jobspec file (or stdin)
    Submit(info::SubmitArgs),
    /// Print the id(s) of your most recently submitted job(s)
    Last(info::LastArgs),
    /// Send a signal to a running job
    Kill(control::KillArgs),
    /// Raise an exception on jobs
    Raise(control::RaiseArgs),
    /// Cancel jobs (deprecated: use flux cancel)
    Cancel(control::CancelArgs),
    /// Change a pending job's urgency
    Urgency(control::UrgencyArgs),
    /// Wait for a waitable job (or any) to end
    Wait(control::WaitArgs),
    /// Wait for jobs to end and exit with the largest exit code
    Status(control::StatusArgs),
}

/// Parse a job id in any encoding.
pub fn parse_id(text: &str) -> anyhow::Result<JobId> {
    JobId::parse(text).with_context(|| format!("invalid job id '{text}'"))
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    if let Command::Id(args) = cmd {
        return info::id(args);
    }
    let h = util::connect().await?;
    match cmd {
        Command::Attach(args) => attach::run(&h, args).await,
        Command::Eventlog(args) => eventlog::eventlog(&h, args).await,
        Command::WaitEvent(args) => eventlog::wait_event(&h, args).await,
        Command::Info(args) => info::info(&h, args).await,
        Command::Id(_) => Ok(0),
        Command::Submit(args) => info::submit(&h, args).await,
        Command::Last(args) => info::last(&h, args).await,
        Command::Kill(args) => control::kill(&h, args).await,
        Command::Raise(args) => control::raise(&h, args).await,
        Command::Cancel(args) => control::cancel(&h, args).await,
        Command::Urgency(args) => control::urgency(&h, args).await,
        Command::Wait(args) => control::wait(&h, args).await,
        Command::Status(args) => control::status(&h, args).await,
    }
}

/// Wait for job `id` to end; its exit code as `flux job status` computes it.
pub async fn wait_exit_code(h: &flux_proto::Handle, id: JobId) -> anyhow::Result<i32> {
    let mut log = follow::Follower::job(h, id, "eventlog").await?;
    let (mut status, mut fatal) = (None, false);
    while let Some(entry) = log.next().await? {
        match entry.name.as_str() {
            "finish" => status = entry.context.get_i64("status").map(|s| s as i32),
            "exception" if entry.context.get_i64("severity") == Some(0) => fatal = true,
            "clean" => break,
            _ => {}
        }
    }
    Ok(match status {
        Some(s) if s & 0x7f != 0 => 128 + (s & 0x7f),
        Some(s) if (s >> 8) & 0xff != 0 => (s >> 8) & 0xff,
        _ if fatal || status.is_none() => 1,
        _ => 0,
    })
}
