//! `flux resource list`, `info` and `R`: resources by scheduler state.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use flux_proto::Handle;
use flux_proto::types::{IdSet, ResourceSet};

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
const DEFAULT_FORMAT: &str = "{state:>10} ?+:{queue:<5} ?:{propertiesx:<10.10+} {nnodes:>6} \
    +:{ncores:>6} ?+:{ngpus:>5} {nodelist}";
const RLIST_FORMAT: &str = "{state:>10} ?+:{queue:<5} ?:{propertiesx:<10.10+} {nnodes:>6} \
    +:{ncores:>6} ?+:{ngpus:>5} {rlist}";

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
    /// Only resources of these queues (comma-separated)
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

fn row(state: &str, queue: Option<&str>, r: &ResourceSet) -> HashMap<&'static str, String> {
    let properties: Vec<&str> = r.properties().keys().map(String::as_str).collect();
    [
        ("state", state.to_string()),
        ("queue", queue.unwrap_or_default().to_string()),
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
    let mut include = match &args.include {
        Some(targets) => Some(resolve(&snap.all, targets)?),
        None => None,
    };
    if let Some(wanted) = &args.queue {
        let ranks = queue_ranks(&snap.all, &queues(h).await?, wanted)?;
        include = Some(match include {
            Some(inc) => inc.intersection(&ranks),
            None => ranks,
        });
    }
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
    let queues = queues(h).await?;
    let wanted: Option<Vec<&str>> = args.queue.as_deref().map(|q| q.split(',').collect());
    let mut rows = Vec::new();
    for (state, r) in &selected {
        let groups: Vec<_> = split(r, &queues)
            .into_iter()
            .filter(|(q, _)| match (&wanted, q) {
                (Some(w), Some(q)) => w.contains(&q.as_str()),
                _ => true,
            })
            .collect();
        // Every state gets a row, if only to say that none of the resources are in it.
        if groups.is_empty() {
            rows.push(row(state, None, &ResourceSet::new()));
        }
        rows.extend(groups.iter().map(|(q, r)| row(state, q.as_deref(), r)));
    }
    for line in format.render(&headings(), &rows, !args.no_header) {
        println!("{line}");
    }
    Ok(0)
}

/// The configured queues and the properties each requires (none: no named queues).
async fn queues(h: &Handle) -> Result<BTreeMap<String, Vec<String>>> {
    Ok(crate::util::instance_policy(h)
        .await?
        .queues
        .into_iter()
        .map(|(name, q)| (name, q.requires))
        .collect())
}

/// The ranks of the queues `wanted` (comma-separated): those with every property a queue
/// requires.
fn queue_ranks(
    all: &ResourceSet,
    queues: &BTreeMap<String, Vec<String>>,
    wanted: &str,
) -> Result<IdSet> {
    let mut ranks = IdSet::new();
    for name in wanted.split(',') {
        let requires = queues
            .get(name)
            .ok_or_else(|| anyhow::anyhow!("queue '{name}' does not exist"))?;
        ranks = ranks.union(&ranks_requiring(all, requires));
    }
    Ok(ranks)
}

/// The ranks of `r` with every property in `requires`.
fn ranks_requiring(r: &ResourceSet, requires: &[String]) -> IdSet {
    requires.iter().fold(r.ranks(), |acc, p| {
        acc.intersection(&r.ranks_with_property(p))
    })
}

/// The rows of one state: a row per queue (its nodes are those with every property the
/// queue requires), or, without queues, a row per set of node properties. Empty groups
/// are left out.
fn split(
    r: &ResourceSet,
    queues: &BTreeMap<String, Vec<String>>,
) -> Vec<(Option<String>, ResourceSet)> {
    let ranks = r.ranks();
    if !queues.is_empty() {
        return queues
            .iter()
            .map(|(name, requires)| {
                (
                    Some(name.clone()),
                    r.copy_ranks(&ranks_requiring(r, requires)),
                )
            })
            .filter(|(_, r)| !r.is_empty())
            .collect();
    }
    let mut by_properties: BTreeMap<Vec<&str>, IdSet> = BTreeMap::new();
    for rank in ranks.iter() {
        let props = r
            .properties()
            .iter()
            .filter(|(_, on)| on.contains(rank))
            .map(|(p, _)| p.as_str())
            .collect();
        by_properties.entry(props).or_default().insert(rank);
    }
    by_properties
        .values()
        .map(|ranks| (None, r.copy_ranks(ranks)))
        .collect()
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
