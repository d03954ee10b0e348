//! `flux queue list|status|enable|disable|start|stop|drain|idle`: the anonymous queue, or
//! the named queues of the configuration (RFC 33).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::bail;
use flux_actors::modules::job_ingest::policy::SizeLimits;
use flux_proto::Handle;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::jobs::format::{Format, Row, Value};
use crate::util;

/// Control job submission and scheduling.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List queues with their status, defaults and limits
    List(List),
    /// Print whether submission is enabled and scheduling started
    Status(Select),
    /// Accept job submissions
    Enable(Select),
    /// Refuse job submissions
    Disable(WithReason),
    /// Start scheduling
    Start(Select),
    /// Stop scheduling (running jobs continue)
    Stop(WithReason),
    /// Wait until there are no active jobs
    Drain(Wait),
    /// Wait until there are no running jobs
    Idle(Wait),
}

/// Which queue.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Select {
    /// All queues
    #[arg(short, long)]
    all: bool,
    /// The queue (also as the argument)
    #[arg(short, long = "queue", value_name = "NAME")]
    queue: Option<String>,
    /// Print nothing
    #[arg(long)]
    quiet: bool,
    /// The queue
    name: Option<String>,
}

/// A queue and a reason, as `-m REASON` or as words.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct WithReason {
    /// All queues
    #[arg(short, long)]
    all: bool,
    /// The queue
    #[arg(short, long = "queue", value_name = "NAME")]
    queue: Option<String>,
    /// Reason
    #[arg(short, long)]
    message: Option<String>,
    /// Print nothing
    #[arg(long)]
    quiet: bool,
    /// The queue, or the reason (older form: words after the command)
    words: Vec<String>,
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

/// `flux queue list` options.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct List {
    /// Only these queues (comma-separated)
    #[arg(short, long = "queue", value_name = "QUEUE,...")]
    queue: Option<String>,
    /// No header
    #[arg(short = 'n', long = "no-header")]
    no_header: bool,
    /// Output format
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    format: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    name: Option<String>,
    enable: bool,
    disable_reason: String,
    start: bool,
    stop_reason: String,
}

#[derive(Deserialize)]
struct Statuses {
    queues: Vec<Status>,
}

async fn statuses(h: &Handle, name: Option<&str>) -> anyhow::Result<Vec<Status>> {
    let body = json!({ "name": name });
    let rsp: Statuses = h.rpc_json("job-manager.queue-status", &body).await?;
    Ok(rsp.queues)
}

/// Which of a queue's switches to print.
#[derive(Clone, Copy, PartialEq)]
enum Show {
    Both,
    Submission,
    Scheduling,
}

fn print_status(queues: &[Status], show: Show) {
    for q in queues {
        let prefix = q
            .name
            .as_ref()
            .map(|n| format!("{n}: "))
            .unwrap_or_default();
        let line = |on: bool, yes: &str, no: &str, reason: &str| match (on, reason) {
            (true, _) => println!("{prefix}{yes}"),
            (false, "") => println!("{prefix}{no}"),
            (false, r) => println!("{prefix}{no}: {r}"),
        };
        if show != Show::Scheduling {
            line(
                q.enable,
                "Job submission is enabled",
                "Job submission is disabled",
                &q.disable_reason,
            );
        }
        if show != Show::Submission {
            line(
                q.start,
                "Scheduling is started",
                "Scheduling is stopped",
                &q.stop_reason,
            );
        }
    }
}

/// Split the words of `disable`/`stop`: a leading word naming a queue is the queue, the
/// rest the reason (flux-core's older form takes every word as the reason).
fn queue_and_reason(args: &WithReason, queues: &[Status]) -> (Option<String>, String) {
    let mut words = args.words.clone();
    let mut queue = args.queue.clone();
    if queue.is_none()
        && let Some(first) = words.first()
        && queues
            .iter()
            .any(|q| q.name.as_deref() == Some(first.as_str()))
    {
        queue = Some(words.remove(0));
    }
    let reason = args.message.clone().unwrap_or_else(|| words.join(" "));
    (queue, reason)
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let (method, body, quiet) = match &cmd {
        Command::List(args) => return list(&h, args).await,
        Command::Drain(w) => return wait(&h, "drain", w).await,
        Command::Idle(w) => return wait(&h, "idle", w).await,
        Command::Status(s) => {
            let name = s.queue.as_deref().or(s.name.as_deref());
            if !s.quiet {
                print_status(&statuses(&h, name).await?, Show::Both);
            }
            return Ok(0);
        }
        Command::Enable(s) | Command::Start(s) => {
            let method = if matches!(cmd, Command::Enable(_)) {
                "enable"
            } else {
                "start"
            };
            let name = s.queue.clone().or(s.name.clone());
            (method, json!({ "name": name, "all": s.all }), s.quiet)
        }
        Command::Disable(r) | Command::Stop(r) => {
            let method = if matches!(cmd, Command::Disable(_)) {
                "disable"
            } else {
                "stop"
            };
            let (name, reason) = queue_and_reason(r, &statuses(&h, None).await?);
            (
                method,
                json!({ "name": name, "all": r.all, "reason": reason }),
                r.quiet,
            )
        }
    };
    // Like flux-core, say what the queues are now (unless --quiet).
    let rsp: Statuses = h
        .rpc_json(&format!("job-manager.queue-{method}"), &body)
        .await?;
    if !quiet {
        let show = match method {
            "enable" | "disable" => Show::Submission,
            _ => Show::Scheduling,
        };
        print_status(&rsp.queues, show);
    }
    Ok(0)
}

async fn wait(h: &Handle, method: &str, w: &Wait) -> anyhow::Result<i32> {
    let (topic, empty) = (format!("job-manager.queue-{method}"), json!({}));
    let call = h.rpc_json::<_, Json>(&topic, &empty);
    let timeout = match &w.timeout {
        Some(t) => {
            let secs = flux_proto::types::fsd::parse(t)
                .map_err(|e| anyhow::anyhow!("invalid --timeout: {e}"))?;
            // `inf` (or anything a Duration cannot hold) means no timeout.
            Duration::try_from_secs_f64(secs).ok()
        }
        None => None,
    };
    match timeout {
        Some(limit) => {
            tokio::time::timeout(limit, call)
                .await
                .map_err(|_| anyhow::anyhow!("timeout waiting for the queue to {method}"))??;
        }
        None => {
            call.await?;
        }
    }
    Ok(0)
}

/// The default `flux queue list` format (QUEUE only when queues are named).
const LIST_FORMAT: &str = "?+:{queuem:<5} {enabled:>2} {started:>2} \
    {defaults.timelimit!F:>8} {limits.timelimit!F:>8} {limits.range.nnodes:>10} \
    {limits.range.ncores:>10} {limits.range.ngpus:>10}";

const LIST_FIELDS: &[(&str, &str)] = &[
    ("queue", "QUEUE"),
    ("queuem", "QUEUE"),
    ("enabled", "EN"),
    ("started", "ST"),
    ("defaults.timelimit", "TDEFAULT"),
    ("limits.timelimit", "TLIMIT"),
    ("limits.range.nnodes", "NNODES"),
    ("limits.range.ncores", "NCORES"),
    ("limits.range.ngpus", "NGPUS"),
    ("limits.min.nnodes", "MINNODES"),
    ("limits.max.nnodes", "MAXNODES"),
    ("limits.min.ncores", "MINCORES"),
    ("limits.max.ncores", "MAXCORES"),
    ("limits.min.ngpus", "MINGPUS"),
    ("limits.max.ngpus", "MAXGPUS"),
];

/// One row of `flux queue list`.
struct QueueRow {
    name: Option<String>,
    is_default: bool,
    enabled: bool,
    started: bool,
    default_duration: f64,
    limit: f64,
    min: [Option<u64>; 3],
    max: [Option<u64>; 3],
}

impl Row for QueueRow {
    fn get(&self, name: &str) -> Value {
        let check = |on: bool| Value::Str(if on { "✔" } else { "✗" }.into());
        let time = |secs: f64| match secs {
            0.0 => Value::Float(f64::INFINITY),
            s => Value::Float(s),
        };
        let bound = |b: Option<u64>| b.map_or("inf".to_string(), |n| n.to_string());
        let index = |what: &str| {
            ["nnodes", "ncores", "ngpus"]
                .iter()
                .position(|w| *w == what)
        };
        match name {
            "queue" => self.name.clone().map_or(Value::Empty, Value::Str),
            "queuem" => self.name.clone().map_or(Value::Empty, |n| {
                Value::Str(if self.is_default { format!("{n}*") } else { n })
            }),
            "enabled" => check(self.enabled),
            "started" => check(self.started),
            "defaults.timelimit" => time(self.default_duration),
            "limits.timelimit" => time(self.limit),
            _ => {
                let mut parts = name.rsplitn(2, '.');
                let (what, kind) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let Some(i) = index(what) else {
                    return Value::Empty;
                };
                let min = self.min[i].unwrap_or(0);
                match kind {
                    "limits.range" => Value::Str(format!("{min}-{}", bound(self.max[i]))),
                    "limits.min" => Value::Int(min as i64),
                    "limits.max" => {
                        self.max[i].map_or(Value::Str("inf".into()), |n| Value::Int(n as i64))
                    }
                    _ => Value::Empty,
                }
            }
        }
    }
}

/// A queue's size limits, its own over the general ones.
fn size_limits(queue: Option<&SizeLimits>, general: &SizeLimits) -> [Option<u64>; 3] {
    let pick =
        |f: fn(&SizeLimits) -> Option<Option<u64>>| queue.and_then(f).or(f(general)).flatten();
    [pick(|l| l.nnodes), pick(|l| l.ncores), pick(|l| l.ngpus)]
}

async fn list(h: &Handle, args: &List) -> anyhow::Result<i32> {
    let policy = util::instance_policy(h).await?;
    let mut queues = statuses(h, None).await?;
    if let Some(only) = &args.queue {
        let wanted: Vec<&str> = only.split(',').collect();
        for w in &wanted {
            if !queues.iter().any(|q| q.name.as_deref() == Some(w)) {
                bail!("queue '{w}' does not exist");
            }
        }
        queues.retain(|q| q.name.as_deref().is_some_and(|n| wanted.contains(&n)));
    }
    let rows: Vec<QueueRow> = queues
        .iter()
        .map(|q| {
            let conf = q.name.as_deref().and_then(|n| policy.queues.get(n));
            let (default_duration, limit) = policy.duration_of(q.name.as_deref());
            QueueRow {
                name: q.name.clone(),
                is_default: q.name.is_some() && q.name == policy.default_queue,
                enabled: q.enable,
                started: q.start,
                default_duration,
                limit,
                min: size_limits(conf.map(|c| &c.policy.min), &policy.general.min),
                max: size_limits(conf.map(|c| &c.policy.max), &policy.general.max),
            }
        })
        .collect();
    let text = args.format.as_deref().unwrap_or(LIST_FORMAT);
    let known = |name: &str| LIST_FIELDS.iter().any(|(f, _)| *f == name);
    let format = Format::parse(text, &known).map_err(|e| anyhow::anyhow!("{e}"))?;
    let headings: HashMap<&str, &str> = LIST_FIELDS.iter().copied().collect();
    let refs: Vec<&dyn Row> = rows.iter().map(|r| r as &dyn Row).collect();
    for line in format.render((!args.no_header).then_some(&headings), &refs) {
        println!("{line}");
    }
    Ok(0)
}
