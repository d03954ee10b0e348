//! `flux resource list|status|info|R|drain|undrain`.
//!
//! `status`, `drain` and `undrain` talk to the resource module on rank 0; `list` asks the
//! scheduler (`sched.resource-status`) which resources are allocated, and without a
//! scheduler shows every available resource as free.

mod drain;
mod format;
mod list;
mod status;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use flux_proto::types::{IdSet, ResourceSet};
use flux_proto::{Error, Handle, errno};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::util;

/// List and manipulate resources.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Show free, allocated and down resources as the scheduler sees them
    List(list::Args),
    /// Show the state of each node (avail, drained, offline...)
    Status(status::Args),
    /// One line: N Nodes, M Cores, G GPUs
    Info(list::Args),
    /// Print the R of selected resources
    #[command(name = "R")]
    R(list::Args),
    /// Drain nodes (or list drained nodes)
    Drain(drain::DrainArgs),
    /// Return drained nodes to service
    Undrain(drain::UndrainArgs),
}

/// Run a `flux resource` subcommand.
pub async fn run(cmd: Command) -> Result<i32> {
    let h = util::connect().await?;
    match cmd {
        Command::List(args) => list::list(&h, args).await,
        Command::Info(args) => list::info(&h, args).await,
        Command::R(args) => list::r(&h, args).await,
        Command::Status(args) => status::status(&h, args).await,
        Command::Drain(args) => drain::drain(&h, args).await,
        Command::Undrain(args) => drain::undrain(&h, args).await,
    }
}

/// Drain record of a group of ranks (`resource.status` `drain` values).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DrainInfo {
    timestamp: f64,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
struct StatusRsp {
    #[serde(rename = "R")]
    r: Value,
    #[serde(default)]
    online: String,
    #[serde(default)]
    drain: BTreeMap<String, DrainInfo>,
}

#[derive(Deserialize)]
struct SchedStatus {
    all: Value,
    allocated: Value,
    down: String,
}

/// What the instance's resources look like now.
pub struct Snapshot {
    /// Everything.
    pub all: ResourceSet,
    /// Ranks whose broker is up.
    pub online: IdSet,
    /// Drained ranks and why.
    pub drained: BTreeMap<u32, DrainInfo>,
    /// What jobs hold (empty without a scheduler).
    pub allocated: ResourceSet,
    /// Ranks the scheduler may not use.
    pub down: IdSet,
}

fn parse_r(value: Value, what: &str) -> Result<ResourceSet> {
    if value.is_null() {
        return Ok(ResourceSet::new());
    }
    ResourceSet::from_value(value).with_context(|| format!("invalid R from {what}"))
}

fn parse_ids(text: &str, what: &str) -> Result<IdSet> {
    IdSet::parse(text).with_context(|| format!("invalid idset from {what}"))
}

impl Snapshot {
    /// Ask the resource module and, if one is loaded, the scheduler.
    pub async fn fetch(h: &Handle) -> Result<Snapshot> {
        let status: StatusRsp = h.rpc_json_to("resource.status", 0, &json!({})).await?;
        let all = parse_r(status.r, "resource.status")?;
        let online = parse_ids(&status.online, "resource.status")?;
        let mut drained = BTreeMap::new();
        for (ranks, info) in status.drain {
            for rank in parse_ids(&ranks, "resource.status")?.iter() {
                drained.insert(rank, info.clone());
            }
        }
        let sched: std::result::Result<SchedStatus, Error> =
            h.rpc_json_to("sched.resource-status", 0, &json!({})).await;
        let (allocated, down) = match sched {
            Ok(s) => {
                let _ = parse_r(s.all, "sched.resource-status")?;
                (
                    parse_r(s.allocated, "sched.resource-status")?,
                    parse_ids(&s.down, "sched.resource-status")?,
                )
            }
            // No scheduler (or not ready): what is online and not drained is free.
            Err(e) if matches!(e.errnum(), errno::ENOSYS | errno::EAGAIN) => {
                let drained_ids: IdSet = drained.keys().copied().collect();
                let up = all.ranks().intersection(&online).difference(&drained_ids);
                (ResourceSet::new(), all.ranks().difference(&up))
            }
            Err(e) => return Err(e).context("sched.resource-status"),
        };
        Ok(Snapshot {
            all,
            online,
            drained,
            allocated,
            down,
        })
    }

    /// The resources in list state `state` (free, allocated, down, up, all).
    pub fn in_state(&self, state: &str) -> ResourceSet {
        match state {
            "free" => self.all.subtract(&self.allocated).remove_ranks(&self.down),
            "allocated" => self.all.intersect(&self.allocated),
            "down" => self.all.copy_ranks(&self.down),
            "up" => self.all.remove_ranks(&self.down),
            _ => self.all.clone(),
        }
    }
}

/// Check a `-s` list against `valid`.
pub fn parse_states(text: &str, valid: &[&str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for state in text.split(',').filter(|s| !s.is_empty()) {
        if !valid.contains(&state) {
            anyhow::bail!(
                "invalid resource state '{state}' (valid states: {})",
                valid.join(",")
            );
        }
        out.push(state.to_string());
    }
    Ok(out)
}
