//! `flux trace`: print the messages the brokers routed (their sampled trace rings), from
//! every rank, oldest first; `--follow` keeps printing new ones.

use std::collections::HashMap;
use std::time::Duration;

use std::io::Write;

use anyhow::Context as _;
use chrono::{Local, TimeZone};
use flux_actors::dashboard::gather;
use flux_actors::dashboard::model::entry_json;
use flux_actors::tracer::{TraceEntry, TraceFilter};
use flux_proto::types::JobId;

use crate::util;

/// How often `--follow` asks for new entries.
const FOLLOW_PERIOD: Duration = Duration::from_millis(500);

/// Print the message trace of the instance.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Only messages whose topic contains TOPIC
    #[arg(long, value_name = "TOPIC")]
    topic: Option<String>,
    /// Only messages about job ID
    #[arg(long, value_name = "ID")]
    job: Option<String>,
    /// Print the last N messages first
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 20)]
    count: usize,
    /// Keep printing new messages
    #[arg(short, long)]
    follow: bool,
    /// One JSON object per message
    #[arg(long)]
    json: bool,
}

/// One message, as a line; an error when stdout is gone (`| head`).
fn print(e: &TraceEntry, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        return writeln!(out, "{}", entry_json(e));
    }
    let time = Local
        .timestamp_millis_opt((e.time * 1e3) as i64)
        .single()
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let latency = e
        .latency_us
        .map(|l| format!(" {l:.1}us"))
        .unwrap_or_default();
    let job = match e.jobs.as_slice() {
        [] => String::new(),
        [one] => format!(" {}", JobId(*one)),
        [first, rest @ ..] => format!(" {} +{}", JobId(*first), rest.len()),
    };
    let err = if e.errnum != 0 {
        format!(" errno={}", e.errnum)
    } else {
        String::new()
    };
    writeln!(
        out,
        "{time} r{:<3} {:<8} {:<28} {} -> {} {}B{latency}{job}{err}",
        e.rank, e.kind, e.topic, e.from, e.to, e.size
    )
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let job = args
        .job
        .as_deref()
        .map(|j| JobId::parse(j).with_context(|| format!("invalid job id '{j}'")))
        .transpose()?;
    let h = util::connect().await?;
    let size = gather::instance_size(&h)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut filter = TraceFilter {
        topic: args.topic.clone(),
        job: job.map(|j| j.0),
        limit: Some(args.count),
        ..Default::default()
    };
    let mut cursors = HashMap::new();
    let round = gather::trace_all(&h, size, &mut cursors, &filter).await;
    // Say why a trace may be empty or partial (stdout stays the trace alone).
    for (rank, why) in &round.failed {
        eprintln!("flux-trace: rank {rank}: {why}");
    }
    if !round.untraced.is_empty() {
        eprintln!(
            "flux-trace: rank(s) {} trace nothing (tracer.sample=0)",
            flux_proto::types::IdSet::from_iter(round.untraced.iter().copied())
        );
    }
    let entries = round.entries;
    let skip = entries.len().saturating_sub(args.count);
    for e in &entries[skip..] {
        if print(e, args.json).is_err() {
            return Ok(0);
        }
    }
    if !args.follow {
        return Ok(0);
    }
    filter.limit = None;
    loop {
        tokio::time::sleep(FOLLOW_PERIOD).await;
        for e in gather::trace_all(&h, size, &mut cursors, &filter)
            .await
            .entries
        {
            if print(&e, args.json).is_err() {
                return Ok(0);
            }
        }
    }
}
