//! `flux resource list`, `info` and `R`: resources by scheduler state.

use std::collections::HashMap;

use anyhow::Result;
use flux_proto::Handle;
use flux_proto::types::ResourceSet;

use super::format::{Format, normalize};
use super::{Snapshot, parse_states};

const VALID: &[&str] = &["free", "allocated", "down", "up", "all"];
const FIELDS: &[&str] = &[
    "state",
    "queue",
    "properties",
    "propertiesx",
    "nnodes",
    "ncores",
    "ngpus",
    "ranks",
    "nodelist",
    "rlist",
];
const DEFAULT_FORMAT: &str =
    "{state:>10} ?:{propertiesx:<10.10+} {nnodes:>6} +:{ncores:>6} ?+:{ngpus:>5} {nodelist}";
const RLIST_FORMAT: &str =
    "{state:>10} ?:{propertiesx:<10.10+} {nnodes:>6} +:{ncores:>6} ?+:{ngpus:>5} {rlist}";

/// Options of `list`, `info` and `R`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// States to show (free, allocated, down, up, all)
    #[arg(short, long)]
    states: Option<String>,
    /// Output format: `default`, `rlist`, or a format string
    #[arg(short = 'o', long)]
    format: Option<String>,
    /// Do not print the header
    #[arg(short = 'n', long)]
    no_header: bool,
    /// Only resources of this queue (queues are not configured: ignored)
    #[arg(short, long)]
    queue: Option<String>,
    /// Only these ranks or hosts
    #[arg(short, long)]
    include: Option<String>,
}

fn headings() -> HashMap<&'static str, &'static str> {
    [
        ("state", "STATE"),
        ("queue", "QUEUE"),
        ("properties", "PROPERTIES"),
        ("propertiesx", "PROPERTIES"),
        ("nnodes", "NNODES"),
        ("ncores", "NCORES"),
        ("ngpus", "NGPUS"),
        ("ranks", "RANKS"),
        ("nodelist", "NODELIST"),
        ("rlist", "LIST"),
    ]
    .into()
}

fn row(state: &str, r: &ResourceSet) -> HashMap<&'static str, String> {
    let properties: Vec<&str> = r.properties().keys().map(String::as_str).collect();
    [
        ("state", state.to_string()),
        ("queue", String::new()),
        ("properties", properties.join(",")),
        ("propertiesx", properties.join(",")),
        ("nnodes", r.nnodes().to_string()),
        ("ncores", r.ncores().to_string()),
        ("ngpus", r.ngpus().to_string()),
        ("ranks", r.ranks().to_string()),
        ("nodelist", r.nodelist().to_string()),
        ("rlist", r.to_rlist_string()),
    ]
    .into()
}

/// The snapshot and the resources of each selected state, restricted to `-i`.
async fn select(
    h: &Handle,
    args: &Args,
    default_states: &str,
) -> Result<Vec<(String, ResourceSet)>> {
    let states = parse_states(args.states.as_deref().unwrap_or(default_states), VALID)?;
    let snap = Snapshot::fetch(h).await?;
    let include = match &args.include {
        Some(targets) => Some(resolve(&snap.all, targets)?),
        None => None,
    };
    Ok(states
        .into_iter()
        .map(|state| {
            let mut r = snap.in_state(&state);
            if let Some(ranks) = &include {
                r = r.copy_ranks(ranks);
            }
            (state, r)
        })
        .collect())
}

/// Ranks of `targets` (an idset, or host names) in `all`.
pub fn resolve(all: &ResourceSet, targets: &str) -> Result<flux_proto::types::IdSet> {
    if let Ok(ranks) = flux_proto::types::IdSet::parse(targets) {
        return Ok(ranks);
    }
    let hosts = flux_proto::types::Hostlist::parse(targets)
        .map_err(|e| anyhow::anyhow!("invalid targets '{targets}': {e}"))?;
    let mut ranks = flux_proto::types::IdSet::new();
    for host in hosts.iter() {
        let of_host = all.ranks_of_host(&host);
        if of_host.is_empty() {
            anyhow::bail!("unknown host {host}");
        }
        ranks = ranks.union(&of_host);
    }
    Ok(ranks)
}

/// `flux resource list`.
pub async fn list(h: &Handle, args: Args) -> Result<i32> {
    let format = match args.format.as_deref() {
        None | Some("default") => DEFAULT_FORMAT.to_string(),
        Some("rlist") => RLIST_FORMAT.to_string(),
        Some(text) => text.to_string(),
    };
    let format = Format::parse(&normalize(&format), FIELDS)?;
    let selected = select(h, &args, "free,allocated,down").await?;
    let rows: Vec<_> = selected.iter().map(|(state, r)| row(state, r)).collect();
    for line in format.render(&headings(), &rows, !args.no_header) {
        println!("{line}");
    }
    Ok(0)
}

/// `flux resource info`: totals of the selected states.
pub async fn info(h: &Handle, args: Args) -> Result<i32> {
    let r = union(select(h, &args, "all").await?)?;
    println!(
        "{} Nodes, {} Cores, {} GPUs",
        r.nnodes(),
        r.ncores(),
        r.ngpus()
    );
    Ok(0)
}

/// `flux resource R`: R of the selected states.
pub async fn r(h: &Handle, args: Args) -> Result<i32> {
    let r = union(select(h, &args, "all").await?)?;
    println!("{}", flux_proto::types::pyjson::to_string(&r)?);
    Ok(0)
}

fn union(selected: Vec<(String, ResourceSet)>) -> Result<ResourceSet> {
    let mut out = ResourceSet::new();
    for (_, r) in selected {
        out = out.union(&r)?;
    }
    Ok(out)
}
