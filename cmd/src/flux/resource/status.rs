//! `flux resource status` (node states as the resource module sees them) and the list of
//! drained nodes that `flux resource drain` prints without targets.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{Local, TimeZone};
use flux_proto::Handle;
use flux_proto::types::{Hostlist, IdSet};

use super::format::{Format, normalize};
use super::{Snapshot, parse_states};

const VALID: &[&str] = &[
    "all", "online", "avail", "offline", "exclude", "drain", "draining", "drained",
];
const DEFAULT_STATES: &str = "avail,exclude,draining,drained";
const FIELDS: &[&str] = &[
    "state",
    "statex",
    "up",
    "nnodes",
    "ranks",
    "nodelist",
    "reason",
    "timestamp",
    "status",
];
const STATUS_FORMAT: &str = "{state:>12} {up:>2} {nnodes:>6} {nodelist}";
const STATUS_LONG: &str = "{state:>12} {up:>2} {nnodes:>6} {reason:<30.30+} {nodelist}";
const DRAIN_FORMAT: &str = "{timestamp:<12} {state:<8.8} {reason:<30.30+} {nodelist}";
const DRAIN_LONG: &str = "{timestamp:<20} {state:<8.8} {ranks:<8.8+} {reason:<30.30+} {nodelist}";

/// Options of `flux resource status`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// States to show (avail, exclude, draining, drained, drain, online, offline, all)
    #[arg(short, long)]
    states: Option<String>,
    /// Output format: `default`, `long`, or a format string
    #[arg(short = 'o', long)]
    format: Option<String>,
    /// Do not print the header
    #[arg(short = 'n', long)]
    no_header: bool,
}

/// One output line before formatting: ranks sharing state, up-ness and drain record.
struct Line {
    state: &'static str,
    online: bool,
    ranks: IdSet,
    reason: String,
    timestamp: f64,
}

fn headings() -> HashMap<&'static str, &'static str> {
    [
        ("state", "STATE"),
        ("statex", "STATE"),
        ("up", "UP"),
        ("nnodes", "NNODES"),
        ("ranks", "RANKS"),
        ("nodelist", "NODELIST"),
        ("reason", "REASON"),
        ("timestamp", "TIMESTAMP"),
        ("status", "STATUS"),
    ]
    .into()
}

/// Add `rank` to the line of the same state, up-ness and drain record, or start one.
fn push(
    out: &mut Vec<Line>,
    state: &'static str,
    online: bool,
    rank: Option<u32>,
    reason: &str,
    timestamp: f64,
) {
    let same = |l: &&mut Line| {
        l.state == state && l.online == online && l.reason == reason && l.timestamp == timestamp
    };
    match out.iter_mut().find(same) {
        Some(line) => {
            if let Some(rank) = rank {
                line.ranks.insert(rank);
            }
        }
        None => out.push(Line {
            state,
            online,
            ranks: rank.into_iter().collect(),
            reason: reason.to_string(),
            timestamp,
        }),
    }
}

fn lines(snap: &Snapshot, states: &[String]) -> Vec<Line> {
    let wants = |names: &[&str]| names.iter().any(|n| states.iter().any(|s| s == n));
    let only_online = wants(&["online"]) && !wants(&["offline"]);
    let only_offline = wants(&["offline"]) && !wants(&["online"]);
    let include = |online: bool| !(only_online && !online || only_offline && online);
    let drained: IdSet = snap.drained.keys().copied().collect();
    let busy = snap.allocated.ranks();
    let ranks = snap.all.ranks();
    let mut out: Vec<Line> = Vec::new();
    if wants(&["avail", "all", "online", "offline"]) {
        for rank in ranks.difference(&drained).iter() {
            let online = snap.online.contains(rank);
            if include(online) {
                push(&mut out, "avail", online, Some(rank), "", 0.0);
            }
        }
    }
    for (rank, info) in &snap.drained {
        let state = if busy.contains(*rank) {
            "draining"
        } else {
            "drained"
        };
        let online = snap.online.contains(*rank);
        if wants(&[state, "drain", "all", "online", "offline"]) && include(online) {
            push(
                &mut out,
                state,
                online,
                Some(*rank),
                &info.reason,
                info.timestamp,
            );
        }
    }
    // Explicitly requested states get a line even when empty.
    for state in ["avail", "exclude", "draining", "drained"] {
        if wants(&[state]) && !out.iter().any(|l| l.state == state) {
            push(&mut out, state, true, None, "", 0.0);
        }
    }
    out
}

fn timestamp(t: f64, long: bool) -> String {
    let Some(time) = Local.timestamp_opt(t as i64, 0).single() else {
        return String::new();
    };
    let text = if long { "%FT%T" } else { "%b%d %R" };
    time.format(text).to_string()
}

fn render(snap: &Snapshot, lines: Vec<Line>, format: &str, long: bool, header: bool) -> Result<()> {
    let format = Format::parse(&normalize(format), FIELDS)?;
    let rows: Vec<HashMap<&str, String>> = lines
        .into_iter()
        .map(|l| {
            let hosts: Hostlist = l
                .ranks
                .iter()
                .filter_map(|r| snap.all.hostname(r))
                .collect();
            let state = if l.online {
                l.state.to_string()
            } else {
                format!("{}*", l.state)
            };
            [
                ("state", state),
                ("statex", l.state.to_string()),
                ("up", if l.online { "✔" } else { "✗" }.to_string()),
                (
                    "status",
                    if l.online { "online" } else { "offline" }.to_string(),
                ),
                ("nnodes", l.ranks.count().to_string()),
                ("ranks", l.ranks.to_string()),
                ("nodelist", hosts.to_string()),
                ("reason", l.reason),
                ("timestamp", timestamp(l.timestamp, long)),
            ]
            .into()
        })
        .collect();
    for line in format.render(&headings(), &rows, header) {
        println!("{line}");
    }
    Ok(())
}

/// `flux resource status`.
pub async fn status(h: &Handle, args: Args) -> Result<i32> {
    let mut states = parse_states(args.states.as_deref().unwrap_or(DEFAULT_STATES), VALID)?;
    if states.iter().all(|s| s == "online" || s == "offline") {
        states.extend(DEFAULT_STATES.split(',').map(str::to_string));
    }
    let snap = Snapshot::fetch(h).await?;
    let explicit = args.states.is_some();
    let lines: Vec<Line> = lines(&snap, &states)
        .into_iter()
        .filter(|l| explicit || !l.ranks.is_empty())
        .collect();
    let format = match args.format.as_deref() {
        None | Some("default") => STATUS_FORMAT,
        Some("long") => STATUS_LONG,
        Some(text) => text,
    };
    render(&snap, lines, format, false, !args.no_header)?;
    Ok(0)
}

/// `flux resource drain` without targets: the drained nodes.
pub async fn drain_list(h: &Handle, format: Option<&str>, header: bool) -> Result<i32> {
    let snap = Snapshot::fetch(h).await?;
    let states = vec!["drain".to_string()];
    let lines: Vec<Line> = lines(&snap, &states)
        .into_iter()
        .filter(|l| !l.ranks.is_empty())
        .collect();
    let (format, long) = match format {
        None | Some("default") => (DRAIN_FORMAT, false),
        Some("long") => (DRAIN_LONG, true),
        Some(text) => (text, false),
    };
    render(&snap, lines, format, long, header)?;
    Ok(0)
}
