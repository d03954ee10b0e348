//! The instance's resource inventory as rank 0's resource module keeps it: R (configured,
//! or assembled from what each rank discovered), which ranks are online, which are drained
//! and why. Plain state, no I/O: the actor feeds it registrations and drain requests and
//! publishes what changes.

use std::collections::BTreeMap;

use flux_proto::types::{Hostlist, IdSet, ResourceSet};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Why a resource request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResourceError {
    /// Targets that name no rank or host of the instance, or do not parse.
    #[error("{0}")]
    BadTargets(String),
    /// Some targets are drained already (and neither `-f` nor `-u` was given).
    #[error("{0} already drained")]
    AlreadyDrained(String),
    /// Undrain of targets that are not drained.
    #[error("{0} not drained")]
    NotDrained(String),
    /// A rank registered resources that do not fit the inventory.
    #[error("{0}")]
    Register(String),
}

/// How `drain` treats targets already drained (flux resource drain `-f`, `-ff`, `-u`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrainMode {
    /// Fail if any target is already drained.
    #[default]
    Fail,
    /// Replace the reason of drained targets, keep their timestamp.
    Overwrite,
    /// Replace reason and timestamp.
    ForceOverwrite,
    /// Leave drained targets as they are; drain the others.
    Update,
}

/// Why and since when a rank is drained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrainInfo {
    /// Epoch seconds.
    pub timestamp: f64,
    /// Free text (may be empty).
    pub reason: String,
}

/// The inventory of rank 0.
#[derive(Debug, Clone)]
pub struct Inventory {
    size: u32,
    /// The instance's R; `None` while ranks are still reporting what they discovered.
    r: Option<ResourceSet>,
    /// Discovered pieces by rank, until R is complete.
    pieces: BTreeMap<u32, ResourceSet>,
    online: IdSet,
    drained: BTreeMap<u32, DrainInfo>,
}

impl Inventory {
    /// An instance of `size` brokers whose R is configured (`resource.path`). Every broker
    /// counts as online from the start: the instance runs nothing before all have joined,
    /// and waiting for each one's registration would race with the first commands.
    pub fn configured(r: ResourceSet, size: u32) -> Self {
        Inventory {
            size,
            r: Some(r),
            pieces: BTreeMap::new(),
            online: IdSet::from_range(0, size.saturating_sub(1)),
            drained: BTreeMap::new(),
        }
    }

    /// An instance of `size` brokers whose R is assembled from each rank's discovery.
    pub fn discovered(size: u32) -> Self {
        Inventory {
            size,
            r: None,
            pieces: BTreeMap::new(),
            online: IdSet::new(),
            drained: BTreeMap::new(),
        }
    }

    /// R, once known.
    pub fn r(&self) -> Option<&ResourceSet> {
        self.r.as_ref()
    }

    /// Ranks whose broker has reported in.
    pub fn online(&self) -> &IdSet {
        &self.online
    }

    /// Drained ranks.
    pub fn drained(&self) -> IdSet {
        self.drained.keys().copied().collect()
    }

    /// Rank `rank` is up; `piece` is what it discovered (ignored when R is configured).
    /// Returns true when this completes R.
    pub fn register(
        &mut self,
        rank: u32,
        piece: Option<ResourceSet>,
    ) -> Result<bool, ResourceError> {
        if rank >= self.size {
            return Err(ResourceError::Register(format!(
                "rank {rank} is not in the instance (size {})",
                self.size
            )));
        }
        self.online.insert(rank);
        if self.r.is_some() {
            return Ok(false);
        }
        let piece = piece.ok_or_else(|| {
            ResourceError::Register(format!("rank {rank} registered without resources"))
        })?;
        if piece.ranks() != IdSet::from_range(rank, rank) {
            return Err(ResourceError::Register(format!(
                "rank {rank} registered resources of ranks {}",
                piece.ranks()
            )));
        }
        self.pieces.insert(rank, piece);
        if self.pieces.len() < self.size as usize {
            return Ok(false);
        }
        let mut all = ResourceSet::new();
        for piece in std::mem::take(&mut self.pieces).into_values() {
            all = all
                .union(&piece)
                .map_err(|e| ResourceError::Register(e.to_string()))?;
        }
        self.r = Some(all);
        Ok(true)
    }

    /// Ranks whose brokers were lost: offline until they register again.
    pub fn set_offline(&mut self, ranks: &IdSet) {
        self.online = self.online.difference(ranks);
    }

    /// What the scheduler may use: ranks of R that are online and not drained.
    pub fn available(&self) -> IdSet {
        let Some(r) = &self.r else {
            return IdSet::new();
        };
        r.ranks()
            .intersection(&self.online)
            .difference(&self.drained())
    }

    /// Every rank the instance knows: its brokers and the ranks of R.
    fn known(&self) -> IdSet {
        let brokers = IdSet::from_range(0, self.size.saturating_sub(1));
        match &self.r {
            Some(r) => brokers.union(&r.ranks()),
            None => brokers,
        }
    }

    /// Ranks named by `targets`: an idset of ranks, or a hostlist of host names.
    pub fn resolve(&self, targets: &str) -> Result<IdSet, ResourceError> {
        let bad = |text: String| ResourceError::BadTargets(text);
        let all = self.known();
        if let Ok(ranks) = IdSet::parse(targets) {
            let unknown = ranks.difference(&all);
            if !unknown.is_empty() {
                return Err(bad(format!(
                    "invalid ranks {unknown}: the instance has ranks {all}"
                )));
            }
            if ranks.is_empty() {
                return Err(bad("no targets given".into()));
            }
            return Ok(ranks);
        }
        let hosts = Hostlist::parse(targets)
            .map_err(|e| bad(format!("invalid targets '{targets}': {e}")))?;
        let r = self
            .r
            .as_ref()
            .ok_or_else(|| bad("host names are unknown until every rank has reported".into()))?;
        let mut ranks = IdSet::new();
        for host in hosts.iter() {
            let of_host = r.ranks_of_host(&host);
            if of_host.is_empty() {
                return Err(bad(format!("unknown host {host}")));
            }
            ranks = ranks.union(&of_host);
        }
        Ok(ranks)
    }

    /// Drain `ranks` with `reason` at time `now`.
    pub fn drain(
        &mut self,
        ranks: &IdSet,
        reason: &str,
        mode: DrainMode,
        now: f64,
    ) -> Result<(), ResourceError> {
        let already = ranks.intersection(&self.drained());
        if mode == DrainMode::Fail && !already.is_empty() {
            return Err(ResourceError::AlreadyDrained(format!("rank {already}")));
        }
        for rank in ranks.iter() {
            let info = DrainInfo {
                timestamp: now,
                reason: reason.to_string(),
            };
            match (self.drained.get_mut(&rank), mode) {
                (None, _) => {
                    self.drained.insert(rank, info);
                }
                (Some(_), DrainMode::Update | DrainMode::Fail) => {}
                (Some(old), DrainMode::Overwrite) => old.reason = info.reason,
                (Some(old), DrainMode::ForceOverwrite) => *old = info,
            }
        }
        Ok(())
    }

    /// Undrain `ranks`; unless `force`, every one must be drained.
    pub fn undrain(&mut self, ranks: &IdSet, force: bool) -> Result<(), ResourceError> {
        let not = ranks.difference(&self.drained());
        if !force && !not.is_empty() {
            return Err(ResourceError::NotDrained(format!("rank {not}")));
        }
        for rank in ranks.iter() {
            self.drained.remove(&rank);
        }
        Ok(())
    }

    /// The `resource.status` response: `{R, online, offline, exclude, drain}` where
    /// `drain` maps idsets of ranks drained alike to `{timestamp, reason}`.
    pub fn status(&self) -> Value {
        let all = self.known();
        // Group ranks drained at the same time for the same reason, as flux-core does.
        let mut groups: Vec<(IdSet, &DrainInfo)> = Vec::new();
        for (rank, info) in &self.drained {
            match groups.iter_mut().find(|(_, i)| *i == info) {
                Some((ranks, _)) => {
                    ranks.insert(*rank);
                }
                None => groups.push((IdSet::from_range(*rank, *rank), info)),
            }
        }
        let drain: Map<String, Value> = groups
            .into_iter()
            .map(|(ranks, info)| (ranks.to_string(), json!(info)))
            .collect();
        json!({
            "R": self.r.as_ref().map(ResourceSet::to_value),
            "online": self.online.to_string(),
            "offline": all.difference(&self.online).to_string(),
            "exclude": "",
            "drain": drain,
        })
    }
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
