//! `flux job eventlog` and `flux job wait-event`.

use std::time::Duration;

use flux_proto::Handle;
use flux_proto::types::eventlog::Entry;

use super::follow::Follower;
use super::parse_id;

/// Print a job's eventlog.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct EventlogArgs {
    /// Keep printing events as they come, until the job is inactive
    #[arg(short = 'F', long)]
    follow: bool,
    /// Which log: eventlog (default), exec (guest.exec.eventlog), output (guest.output)
    #[arg(short, long, default_value = "eventlog")]
    path: String,
    /// Print raw JSON lines
    #[arg(short, long)]
    raw: bool,
    /// Job id
    id: String,
}

/// Wait for an event.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct WaitEventArgs {
    /// Give up after this many seconds
    #[arg(short, long)]
    timeout: Option<f64>,
    /// Which log (see `flux job eventlog --path`)
    #[arg(short, long, default_value = "eventlog")]
    path: String,
    /// Do not print the event
    #[arg(short, long)]
    quiet: bool,
    /// Print all events up to the one waited for
    #[arg(short, long)]
    verbose: bool,
    /// Job id
    id: String,
    /// Event name
    event: String,
}

fn log_key(path: &str) -> anyhow::Result<&'static str> {
    Ok(match path {
        "eventlog" => "eventlog",
        "exec" | "guest.exec.eventlog" => "guest.exec.eventlog",
        "output" | "guest.output" => "guest.output",
        "input" | "guest.input" => "guest.input",
        other => anyhow::bail!("unknown eventlog path '{other}'"),
    })
}

/// `TIMESTAMP NAME key=value ...` as flux prints eventlogs.
pub fn format(entry: &Entry, raw: bool) -> String {
    if raw {
        return entry.to_line().trim_end().to_string();
    }
    let mut line = format!("{:.6} {}", entry.timestamp, entry.name);
    for (k, v) in entry.context.iter() {
        line.push_str(&format!(" {k}={v}"));
    }
    line
}

async fn open(h: &Handle, id: &str, path: &str) -> anyhow::Result<Follower> {
    let id = parse_id(id)?;
    // A job that does not exist has no jobspec: say so instead of waiting forever.
    let key = format!("{}.jobspec", id.to_kvs());
    if crate::kvs::client::lookup(h, "primary", &key, 0, None)
        .await
        .is_err()
    {
        anyhow::bail!("job {} not found", id.to_f58());
    }
    Follower::job(h, id, log_key(path)?).await
}

pub async fn eventlog(h: &Handle, args: EventlogArgs) -> anyhow::Result<i32> {
    let mut log = open(h, &args.id, &args.path).await?;
    loop {
        // Without --follow, stop once what exists now has been printed.
        let next = if args.follow {
            log.next().await?
        } else {
            match tokio::time::timeout(Duration::from_millis(200), log.next()).await {
                Ok(next) => next?,
                Err(_) => None,
            }
        };
        let Some(entry) = next else { break };
        println!("{}", format(&entry, args.raw));
        if entry.name == "clean" && args.path == "eventlog" {
            break;
        }
    }
    Ok(0)
}

pub async fn wait_event(h: &Handle, args: WaitEventArgs) -> anyhow::Result<i32> {
    let mut log = open(h, &args.id, &args.path).await?;
    let wait = async {
        while let Some(entry) = log.next().await? {
            if entry.name == args.event {
                if !args.quiet {
                    println!("{}", format(&entry, false));
                }
                return anyhow::Ok(0);
            }
            if args.verbose {
                println!("{}", format(&entry, false));
            }
            if entry.name == "clean" && args.path == "eventlog" {
                anyhow::bail!("event '{}' never received", args.event);
            }
        }
        anyhow::bail!("eventlog ended before event '{}'", args.event)
    };
    match args.timeout {
        Some(secs) => tokio::time::timeout(Duration::from_secs_f64(secs), wait)
            .await
            .map_err(|_| anyhow::anyhow!("wait-event timeout on event '{}'", args.event))?,
        None => wait.await,
    }
}
