//! `flux job kill|raise|cancel|urgency|wait|status`.

use flux_proto::Handle;
use flux_proto::types::JobId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::parse_id;

/// Send a signal to a running job.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct KillArgs {
    /// Signal (name or number)
    #[arg(short, long, default_value = "SIGTERM")]
    signal: String,
    /// Job ids
    #[arg(required = true)]
    ids: Vec<String>,
}

/// Raise an exception.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct RaiseArgs {
    /// Severity 0 (fatal) to 7
    #[arg(short, long, default_value_t = 0)]
    severity: u8,
    /// Exception type
    #[arg(short = 't', long = "type", default_value = "cancel")]
    kind: String,
    /// Note
    #[arg(short, long)]
    message: Option<String>,
    /// Job ids, then optionally `--` and a note
    #[arg(required = true)]
    ids: Vec<String>,
}

/// Cancel jobs.
#[derive(clap::Args, Debug)]
pub struct CancelArgs {
    /// Job ids
    #[arg(required = true)]
    ids: Vec<String>,
}

/// Change urgency.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct UrgencyArgs {
    /// Print the old and new urgency
    #[arg(short, long)]
    verbose: bool,
    /// Job id
    id: String,
    /// 0-31, hold, default, expedite
    urgency: String,
}

/// Wait for a waitable job.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct WaitArgs {
    /// Wait for all waitable jobs
    #[arg(short, long)]
    all: bool,
    /// Print the id of each job waited for
    #[arg(short, long)]
    verbose: bool,
    /// Job id (default: any waitable job)
    id: Option<String>,
}

/// Wait for jobs and report their exit codes.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct StatusArgs {
    /// Print each job's exit code
    #[arg(short, long)]
    verbose: bool,
    /// Exit code for jobs that ended with an exception
    #[arg(short = 'e', long = "exception-exit-code", default_value_t = 1)]
    exception_exit_code: i32,
    /// Job ids
    #[arg(required = true)]
    ids: Vec<String>,
}

/// A signal by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(text: &str) -> anyhow::Result<i32> {
    if let Ok(n) = text.parse::<i32>()
        && (1..65).contains(&n)
    {
        return Ok(n);
    }
    let name = text.trim_start_matches("SIG");
    let known = [
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("KILL", libc::SIGKILL),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("ALRM", libc::SIGALRM),
        ("TERM", libc::SIGTERM),
        ("CONT", libc::SIGCONT),
        ("STOP", libc::SIGSTOP),
    ];
    known
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| anyhow::anyhow!("invalid signal '{text}'"))
}

fn urgency_value(text: &str) -> anyhow::Result<u32> {
    match text {
        "hold" => Ok(0),
        "default" => Ok(16),
        "expedite" => Ok(31),
        n => n.parse::<u32>().ok().filter(|n| *n <= 31).ok_or_else(|| {
            anyhow::anyhow!("invalid urgency '{text}': expected 0-31, hold, default or expedite")
        }),
    }
}

pub async fn kill(h: &Handle, args: KillArgs) -> anyhow::Result<i32> {
    let signum = parse_signal(&args.signal)?;
    for id in &args.ids {
        let id = parse_id(id)?;
        let _: Value = h
            .rpc_json("job-manager.kill", &json!({ "id": id.0, "signum": signum }))
            .await?;
    }
    Ok(0)
}

/// Raise an exception on one job.
pub async fn raise_one(
    h: &Handle,
    id: JobId,
    kind: &str,
    severity: u8,
    note: &str,
) -> flux_proto::Result<()> {
    let body = json!({ "id": id.0, "type": kind, "severity": severity, "note": note });
    let _: Value = h.rpc_json("job-manager.raise", &body).await?;
    Ok(())
}

pub async fn raise(h: &Handle, args: RaiseArgs) -> anyhow::Result<i32> {
    if args.severity > 7 {
        anyhow::bail!("severity must be 0-7");
    }
    // Words after the ids that are not ids are the note, as in flux.
    let mut ids = Vec::new();
    let mut words = Vec::new();
    for word in &args.ids {
        match (words.is_empty(), JobId::parse(word)) {
            (true, Ok(id)) => ids.push(id),
            _ => words.push(word.clone()),
        }
    }
    let note = args.message.unwrap_or_else(|| words.join(" "));
    for id in ids {
        raise_one(h, id, &args.kind, args.severity, &note).await?;
    }
    Ok(0)
}

pub async fn cancel(h: &Handle, args: CancelArgs) -> anyhow::Result<i32> {
    for id in &args.ids {
        raise_one(h, parse_id(id)?, "cancel", 0, "").await?;
    }
    Ok(0)
}

pub async fn urgency(h: &Handle, args: UrgencyArgs) -> anyhow::Result<i32> {
    let id = parse_id(&args.id)?;
    let value = urgency_value(&args.urgency)?;
    #[derive(Deserialize)]
    struct Old {
        old_urgency: u32,
    }
    let old: Old = h
        .rpc_json(
            "job-manager.urgency",
            &json!({ "id": id.0, "urgency": value }),
        )
        .await?;
    if args.verbose {
        eprintln!(
            "{}: urgency changed from {} to {}",
            id.to_f58(),
            old.old_urgency,
            value
        );
    }
    Ok(0)
}

#[derive(Deserialize)]
struct Waited {
    id: u64,
    success: bool,
    #[serde(default)]
    errstr: String,
}

pub async fn wait(h: &Handle, args: WaitArgs) -> anyhow::Result<i32> {
    let target = match &args.id {
        Some(text) => parse_id(text)?.0,
        None => 0,
    };
    let mut failed = false;
    loop {
        let waited: Waited = match h
            .rpc_json("job-manager.wait", &json!({ "id": target }))
            .await
        {
            Ok(w) => w,
            // With --all, "no more waitable jobs" ends the loop.
            Err(e) if args.all && e.errnum() == flux_proto::errno::ECHILD => break,
            Err(e) => {
                eprintln!("flux-job: {e}");
                return Ok(2);
            }
        };
        let id = JobId(waited.id);
        if args.verbose {
            eprintln!("{}", id.to_f58());
        }
        if !waited.success {
            failed = true;
            eprintln!("{}: {}", id.to_f58(), waited.errstr);
        }
        if !args.all {
            if target == 0 {
                println!("{}", id.to_f58());
            }
            return Ok(if waited.success { 0 } else { 1 });
        }
    }
    Ok(i32::from(failed))
}

pub async fn status(h: &Handle, args: StatusArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for text in &args.ids {
        let id = parse_id(text)?;
        let clean = super::follow::wait_for(h, id, "clean");
        clean.await?;
        let mut log = super::follow::Follower::job(h, id, "eventlog").await?;
        let mut exit = None;
        let mut exception = false;
        while let Some(entry) = log.next().await? {
            match entry.name.as_str() {
                "finish" => exit = entry.context.get_i64("status").map(|s| s as i32),
                "exception" if entry.context.get_i64("severity") == Some(0) => exception = true,
                "clean" => break,
                _ => {}
            }
        }
        let job_code = match exit {
            Some(s) if s & 0x7f != 0 => 128 + (s & 0x7f),
            Some(s) if exception && s == 0 => args.exception_exit_code,
            Some(s) => (s >> 8) & 0xff,
            None => args.exception_exit_code,
        };
        if args.verbose {
            eprintln!("{}: exit code {job_code}", id.to_f58());
        }
        code = code.max(job_code);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_or_number() {
        assert_eq!(parse_signal("SIGKILL").unwrap(), 9);
        assert_eq!(parse_signal("TERM").unwrap(), 15);
        assert_eq!(parse_signal("10").unwrap(), 10);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
    }

    #[test]
    fn urgency_names() {
        assert_eq!(urgency_value("hold").unwrap(), 0);
        assert_eq!(urgency_value("expedite").unwrap(), 31);
        assert_eq!(urgency_value("7").unwrap(), 7);
        assert!(urgency_value("99").is_err());
    }
}
