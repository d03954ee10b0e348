//! `flux top`: a summary of the instance from the tracer: brokers and their links, the
//! busiest actors, job counts and throughput. Refreshes until interrupted; `--once` prints
//! one summary (after one interval, to measure rates) for scripts.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use flux_actors::dashboard::gather;
use flux_actors::dashboard::model::Model;
use flux_actors::tracer::{ActorStats, TraceFilter};
use serde_json::{Value, json};

use crate::util;

/// Show brokers, the busiest actors and job throughput.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Print one summary and exit
    #[arg(long)]
    once: bool,
    /// Seconds between refreshes (and the interval rates are measured over)
    #[arg(short, long, value_name = "SECONDS", default_value_t = 1.0)]
    delay: f64,
    /// How many of the busiest actors to show
    #[arg(short = 'n', long = "actors", value_name = "N", default_value_t = 10)]
    actors: usize,
    /// Print JSON (one object per refresh)
    #[arg(long)]
    json: bool,
}

/// The busiest actors over all ranks.
fn busiest(model: &Model, n: usize) -> Vec<ActorStats> {
    let all = model.all_actors();
    let mut actors: Vec<ActorStats> = all["ranks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["actors"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| serde_json::from_value(a).ok())
        .collect();
    actors.sort_by(|a, b| (b.rate_in + b.rate_out).total_cmp(&(a.rate_in + a.rate_out)));
    actors.truncate(n);
    actors
}

fn summary_json(model: &Model, n: usize) -> Value {
    let jobs = model.jobs();
    json!({
        "tbon": model.tbon(),
        "actors": busiest(model, n),
        "jobs": { "states": jobs["states"], "throughput": jobs["throughput"], "queue": jobs["queue"].as_array().map_or(0, Vec::len) },
    })
}

fn summary_text(model: &Model, n: usize) -> String {
    let tbon = model.tbon();
    let jobs = model.jobs();
    let ranks = tbon["ranks"].as_array().cloned().unwrap_or_default();
    let running = ranks.iter().filter(|r| r["state"] == "run").count();
    let st = |k: &str| jobs["states"][k].as_u64().unwrap_or(0);
    let mut out = format!(
        "brokers: {} ({running} running)   jobs: {} pending, {} running, {} inactive   throughput: {:.1} jobs/s\n\n",
        tbon["size"],
        st("depend") + st("priority") + st("sched"),
        st("run") + st("cleanup"),
        st("inactive"),
        model.throughput(),
    );
    out += &format!(
        "{:>5} {:<9} {:>6} {:>6} {:>9} {:>12}\n",
        "RANK", "STATE", "PARENT", "ACTORS", "MSGS/S", "LINK DOWN/UP"
    );
    for r in &ranks {
        let link = match r["link"].as_object() {
            Some(l) => format!(
                "{:.1}/{:.1}",
                l["down"].as_f64().unwrap_or(0.0),
                l["up"].as_f64().unwrap_or(0.0)
            ),
            None => "-".into(),
        };
        let parent = r["parent"].as_u64().map_or("-".into(), |p| p.to_string());
        out += &format!(
            "{:>5} {:<9} {:>6} {:>6} {:>9.1} {:>12}\n",
            r["rank"].as_u64().unwrap_or(0),
            r["state"].as_str().unwrap_or(""),
            parent,
            r["actors"].as_u64().unwrap_or(0),
            r["rate"].as_f64().unwrap_or(0.0),
            link
        );
    }
    out += &format!(
        "\n{:>5} {:<24} {:<8} {:>7} {:>8} {:>8} {:>9} {:>9}\n",
        "RANK", "ACTOR", "KIND", "MAILBOX", "IN/S", "OUT/S", "MEAN(us)", "P99(us)"
    );
    for a in busiest(model, n) {
        out += &format!(
            "{:>5} {:<24} {:<8} {:>7} {:>8.1} {:>8.1} {:>9.1} {:>9.1}\n",
            a.rank,
            a.name,
            a.kind,
            a.mailbox,
            a.rate_in,
            a.rate_out,
            a.handle_mean_us,
            a.handle_p99_us
        );
    }
    out
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    if !(args.delay > 0.0 && args.delay <= 3600.0) {
        anyhow::bail!("--delay must be between 0 and 3600 seconds");
    }
    let h = util::connect().await?;
    let delay = Duration::from_secs_f64(args.delay);
    // Only counters are needed: ask for no trace entries.
    let filter = TraceFilter {
        limit: Some(0),
        ..Default::default()
    };
    let mut model = Model::default();
    let cursors = HashMap::new();
    let tty = std::io::stdout().is_terminal() && !args.json && !args.once;
    loop {
        let round = gather::gather(&h, &cursors, &filter).await;
        model.apply(round, flux_actors::broker::config::now());
        // Throughput needs two points: the first round only primes it.
        if model.rounds() >= 2 {
            let text = if args.json {
                format!("{}\n", summary_json(&model, args.actors))
            } else {
                summary_text(&model, args.actors)
            };
            let mut out = std::io::stdout().lock();
            let clear = if tty { "\x1b[H\x1b[2J" } else { "" };
            if write!(out, "{clear}{text}")
                .and_then(|_| out.flush())
                .is_err()
                || args.once
            {
                return Ok(0);
            }
            if !tty && !args.json {
                let _ = writeln!(out);
            }
        }
        tokio::time::sleep(delay).await;
    }
}
