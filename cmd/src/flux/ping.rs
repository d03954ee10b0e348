//! `flux ping [-c N] [-i SEC] [-p PAD] [-r RANK] TARGET`: time round trips to a service.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use flux_proto::nodeid;
use serde_json::json;

use crate::util;

/// Measure round trips to a service or broker.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Stop after N replies (default: until interrupted)
    #[arg(short, long)]
    count: Option<u64>,
    /// Seconds between requests
    #[arg(short, long, default_value_t = 1.0)]
    interval: f64,
    /// Pad each request with N bytes
    #[arg(short, long, default_value_t = 0)]
    pad: usize,
    /// Send to this rank
    #[arg(short, long)]
    rank: Option<u32>,
    /// Send all requests at once, then wait for the replies
    #[arg(short, long)]
    batch: bool,
    /// Only print the summary
    #[arg(short, long)]
    quiet: bool,
    /// A service (`kvs`), `RANK!service`, or a rank (the broker itself)
    target: String,
}

/// Where a ping goes.
#[derive(Debug, PartialEq)]
struct Target {
    topic: String,
    nodeid: u32,
    /// Printed before the topic when a rank was named.
    prefix: String,
}

fn parse_target(target: &str, rank: Option<u32>) -> anyhow::Result<Target> {
    let (rank, service) = match target.split_once('!') {
        Some((r, s)) => (
            Some(
                r.parse::<u32>()
                    .with_context(|| format!("invalid rank in {target}"))?,
            ),
            s,
        ),
        None => match target.parse::<u32>() {
            Ok(r) => (Some(r), "broker"),
            Err(_) => (rank, target),
        },
    };
    anyhow::ensure!(!service.is_empty(), "invalid target '{target}'");
    Ok(Target {
        topic: format!("{service}.ping"),
        nodeid: rank.unwrap_or(nodeid::ANY),
        prefix: rank.map(|r| format!("{r}!")).unwrap_or_default(),
    })
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let target = parse_target(&args.target, args.rank)?;
    let h = util::connect().await?;
    let pad = "x".repeat(args.pad);
    let mut times = Vec::new();
    let mut seq: u64 = 0;
    let begin = Instant::now();
    while args.count.is_none_or(|n| seq < n) {
        let body = json!({ "seq": seq, "pad": pad });
        let start = Instant::now();
        let rsp = h
            .rpc(&target.topic, target.nodeid, serde_json::to_vec(&body)?)
            .await?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        times.push(ms);
        if !args.quiet {
            let reply: serde_json::Value = rsp.json()?;
            let route = reply.get("route").and_then(|r| r.as_str()).unwrap_or("");
            let route: Vec<String> = route
                .split('!')
                .map(|hop| hop.chars().take(8).collect())
                .collect();
            println!(
                "{}{} pad={} seq={seq} time={ms:.3} ms ({})",
                target.prefix,
                target.topic,
                args.pad,
                route.join("!")
            );
        }
        seq += 1;
        if !args.batch && args.interval > 0.0 && args.count.is_none_or(|n| seq < n) {
            tokio::time::sleep(Duration::from_secs_f64(args.interval.max(0.0))).await;
        }
    }
    if args.quiet && !times.is_empty() {
        let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = times.iter().cloned().fold(0.0, f64::max);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let rate = times.len() as f64 / begin.elapsed().as_secs_f64();
        println!(
            "{}{} pad={} n={} min={min:.4} mean={mean:.4} max={max:.4} ms rate={rate:.0}/s",
            target.prefix,
            target.topic,
            args.pad,
            times.len()
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_services_ranks_or_both() {
        assert_eq!(parse_target("kvs", None).unwrap().nodeid, nodeid::ANY);
        let t = parse_target("0", None).unwrap();
        assert_eq!(
            (t.topic.as_str(), t.nodeid, t.prefix.as_str()),
            ("broker.ping", 0, "0!")
        );
        let t = parse_target("3!heartbeat", None).unwrap();
        assert_eq!((t.topic.as_str(), t.nodeid), ("heartbeat.ping", 3));
        assert_eq!(parse_target("kvs", Some(2)).unwrap().nodeid, 2);
        assert!(parse_target("x!kvs", None).is_err());
        assert!(parse_target("1!", None).is_err());
    }
}
