//! `flux queue enable|disable|start|stop|status|drain|idle`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::util;

/// Control job submission and scheduling.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Accept job submissions
    Enable(Quiet),
    /// Refuse job submissions
    Disable(WithReason),
    /// Start scheduling
    Start(Quiet),
    /// Stop scheduling (running jobs continue)
    Stop(WithReason),
    /// Print whether submission is enabled and scheduling started
    Status(Quiet),
    /// Wait until there are no active jobs
    Drain(Wait),
    /// Wait until there are no running jobs
    Idle(Wait),
}

/// No arguments.
#[derive(clap::Args, Debug)]
pub struct Quiet {
    /// Print nothing
    #[arg(long)]
    quiet: bool,
}

/// A reason, as `-m REASON` or as words.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct WithReason {
    /// Reason
    #[arg(short, long)]
    message: Option<String>,
    /// Print nothing
    #[arg(long)]
    quiet: bool,
    /// Reason (older form: words after the command)
    reason: Vec<String>,
}

/// Wait options.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Wait {
    /// Give up after FSD
    #[arg(long)]
    timeout: Option<String>,
    /// Print nothing
    #[arg(long)]
    quiet: bool,
}

#[derive(Deserialize)]
struct Status {
    enable: bool,
    disable_reason: String,
    start: bool,
    stop_reason: String,
}

fn reason(args: &WithReason) -> String {
    args.message
        .clone()
        .unwrap_or_else(|| args.reason.join(" "))
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let (method, body, print) = match &cmd {
        Command::Enable(q) => ("enable", json!({}), !q.quiet),
        Command::Disable(r) => ("disable", json!({ "reason": reason(r) }), !r.quiet),
        Command::Start(q) => ("start", json!({}), !q.quiet),
        Command::Stop(r) => ("stop", json!({ "reason": reason(r) }), !r.quiet),
        Command::Status(q) => ("status", json!({}), !q.quiet),
        Command::Drain(w) | Command::Idle(w) => {
            let method = if matches!(cmd, Command::Drain(_)) {
                "drain"
            } else {
                "idle"
            };
            let (topic, empty) = (format!("job-manager.queue-{method}"), json!({}));
            let call = h.rpc_json::<_, Value>(&topic, &empty);
            match &w.timeout {
                Some(t) => {
                    let secs = flux_proto::types::fsd::parse(t)
                        .map_err(|e| anyhow::anyhow!("invalid --timeout: {e}"))?;
                    tokio::time::timeout(Duration::from_secs_f64(secs), call)
                        .await
                        .map_err(|_| {
                            anyhow::anyhow!("timeout waiting for the queue to {method}")
                        })??;
                }
                None => {
                    call.await?;
                }
            }
            return Ok(0);
        }
    };
    let status: Status = h
        .rpc_json(&format!("job-manager.queue-{method}"), &body)
        .await?;
    if print && matches!(cmd, Command::Status(_)) {
        match (status.enable, status.disable_reason.is_empty()) {
            (true, _) => println!("Job submission is enabled"),
            (false, true) => println!("Job submission is disabled"),
            (false, false) => println!("Job submission is disabled: {}", status.disable_reason),
        }
        match (status.start, status.stop_reason.is_empty()) {
            (true, _) => println!("Scheduling is started"),
            (false, true) => println!("Scheduling is stopped"),
            (false, false) => println!("Scheduling is stopped: {}", status.stop_reason),
        }
    }
    Ok(0)
}
