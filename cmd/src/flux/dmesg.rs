//! `flux dmesg [-C] [-c] [-f] [-n] [-H]`: print or clear the broker's log ring.

use chrono::{Local, TimeZone};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::util;

const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Print or clear the broker log ring.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Clear the ring without printing
    #[arg(short = 'C', long = "clear")]
    clear: bool,
    /// Print, then clear the ring
    #[arg(short = 'c', long = "read-clear")]
    read_clear: bool,
    /// Keep printing new entries
    #[arg(short, long)]
    follow: bool,
    /// Print only new entries (implies --follow)
    #[arg(short, long)]
    new: bool,
    /// Human-readable timestamps: time since the first entry
    #[arg(short = 'H', long)]
    human: bool,
}

#[derive(Deserialize)]
struct Entry {
    timestamp: f64,
    rank: u32,
    severity: u8,
    appname: String,
    msg: String,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    if !args.clear {
        let follow = args.follow || args.new;
        let body = json!({ "follow": follow, "nobacklog": args.new });
        let mut stream = h
            .rpc_stream(
                "log.dmesg",
                flux_proto::nodeid::ANY,
                serde_json::to_vec(&body)?,
            )
            .await?;
        let mut first = None;
        while let Some(rsp) = stream.next().await {
            let entry: Entry = rsp?.json()?;
            let start = *first.get_or_insert(entry.timestamp);
            println!("{}", format_entry(&entry, args.human.then_some(start)));
        }
    }
    if args.clear || args.read_clear {
        let _: Value = h.rpc_json("log.clear", &json!({})).await?;
    }
    Ok(0)
}

/// `2024-01-05T10:11:12.123456-08:00 broker.info[0]: message`, or with `-H`
/// `[  +0.001234] broker.info[0]: message`.
fn format_entry(entry: &Entry, since: Option<f64>) -> String {
    let level = SEVERITIES
        .get(usize::from(entry.severity))
        .unwrap_or(&"debug");
    let stamp = match since {
        Some(start) => format!("[{:+12.6}]", entry.timestamp - start),
        None => {
            let micros = (entry.timestamp * 1e6) as i64;
            match Local.timestamp_micros(micros).single() {
                Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string(),
                None => format!("{:.6}", entry.timestamp),
            }
        }
    };
    format!(
        "{stamp} {}.{level}[{}]: {}",
        entry.appname, entry.rank, entry.msg
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_print_like_flux() {
        let entry = Entry {
            timestamp: 1_700_000_000.25,
            rank: 0,
            severity: 6,
            appname: "broker".into(),
            msg: "hello".into(),
        };
        let line = format_entry(&entry, None);
        assert!(line.ends_with(" broker.info[0]: hello"), "{line}");
        assert!(line.contains(".250000"), "{line}");
        assert_eq!(
            format_entry(&entry, Some(1_700_000_000.0)),
            "[   +0.250000] broker.info[0]: hello"
        );
    }
}
