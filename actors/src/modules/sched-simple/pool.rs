//! The resource pool of sched-simple: which cores and GPUs of the instance are free, which
//! are allocated, which ranks are down. A plain struct with no I/O: the actor feeds it the
//! instance's R and the up/down updates of `resource.acquire` (RFC 28), asks it for
//! allocations and gives them back.
//!
//! Allocation is first fit in rank order, lowest core and GPU ids first. A slot never spans
//! nodes. State is kept per node with cached free counts, so a request is decided by one
//! pass over the nodes without building intermediate resource sets: microseconds even on a
//! 1024-node R.

use std::time::{SystemTime, UNIX_EPOCH};

use flux_proto::types::jobspec::Target;
use flux_proto::types::{IdSet, Jobspec, ResourceSet};

#[path = "request.rs"]
mod request;
pub use request::{PoolError, Request};

/// One execution target as the pool tracks it.
#[derive(Debug, Clone)]
struct Slot {
    rank: u32,
    hostname: Option<String>,
    cores: IdSet,
    gpus: IdSet,
    free_cores: IdSet,
    free_gpus: IdSet,
    /// Cached counts of the sets above (IdSet::count walks its ranges).
    ncores: u32,
    ngpus: u32,
    nfree_cores: u32,
    nfree_gpus: u32,
    up: bool,
    /// The node's properties (R's `properties`), for `--requires`.
    properties: Vec<String>,
}

impl Target for Slot {
    fn rank(&self) -> u32 {
        self.rank
    }

    fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    fn has_property(&self, name: &str) -> bool {
        self.properties.iter().any(|p| p == name)
    }
}

impl Slot {
    fn is_idle(&self) -> bool {
        self.nfree_cores == self.ncores && self.nfree_gpus == self.ngpus
    }

    /// How many slots of `req` fit in `cores` cores and `gpus` GPUs.
    fn fit(req: &Request, cores: u32, gpus: u32) -> u32 {
        let by_cores = cores / req.cores_per_slot;
        match req.gpus_per_slot {
            0 => by_cores,
            g => by_cores.min(gpus / g),
        }
    }

    /// Slots of `req` this node can take now (`total`: as if idle and up).
    fn capacity(&self, req: &Request, total: bool) -> u32 {
        if req.constraint.as_ref().is_some_and(|c| !c.matches(self)) {
            return 0;
        }
        if total {
            return Self::fit(req, self.ncores, self.ngpus);
        }
        if !self.up || (req.exclusive && !self.is_idle()) {
            return 0;
        }
        if req.exclusive {
            return Self::fit(req, self.ncores, self.ngpus);
        }
        Self::fit(req, self.nfree_cores, self.nfree_gpus)
    }
}

/// The first `n` ids of `set`.
fn take_first(set: &IdSet, n: u32) -> IdSet {
    let mut out = IdSet::new();
    let mut left = n;
    for (lo, hi) in set.ranges() {
        if left == 0 {
            break;
        }
        let len = hi - lo + 1;
        let k = len.min(left);
        out.insert_range(lo, lo + k - 1);
        left -= k;
    }
    out
}

fn count32(set: &IdSet) -> u32 {
    u32::try_from(set.count()).unwrap_or(u32::MAX)
}

pub(super) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The instance's resources as sched-simple allocates them.
#[derive(Debug, Clone)]
pub struct Pool {
    /// By ascending rank.
    nodes: Vec<Slot>,
    all: ResourceSet,
}

impl Pool {
    /// A pool over `r` with every rank **down**: as in RFC 28, only the ranks named `up`
    /// by the resource service (see [`Pool::set_up`]) may be allocated.
    pub fn new(r: &ResourceSet) -> Self {
        let nodes = r
            .nodes()
            .map(|n| Slot {
                rank: n.rank,
                hostname: n.hostname.clone(),
                cores: n.cores.clone(),
                gpus: n.gpus.clone(),
                free_cores: n.cores.clone(),
                free_gpus: n.gpus.clone(),
                ncores: count32(&n.cores),
                ngpus: count32(&n.gpus),
                nfree_cores: count32(&n.cores),
                nfree_gpus: count32(&n.gpus),
                up: false,
                properties: r
                    .properties()
                    .iter()
                    .filter(|(_, ranks)| ranks.contains(n.rank))
                    .map(|(name, _)| name.clone())
                    .collect(),
            })
            .collect();
        Pool {
            nodes,
            all: r.clone(),
        }
    }

    /// A pool over `r` with every rank up.
    pub fn all_up(r: &ResourceSet) -> Self {
        let mut pool = Pool::new(r);
        pool.set_up(&r.ranks());
        pool
    }

    fn index(&self, rank: u32) -> Option<usize> {
        self.nodes.binary_search_by_key(&rank, |n| n.rank).ok()
    }

    fn set_state(&mut self, ranks: &IdSet, up: bool) {
        for rank in ranks.iter() {
            if let Some(i) = self.index(rank) {
                self.nodes[i].up = up;
            }
        }
    }

    /// Mark `ranks` usable (ranks not in the pool are ignored).
    pub fn set_up(&mut self, ranks: &IdSet) {
        self.set_state(ranks, true);
    }

    /// Mark `ranks` unusable (drained or offline); their allocations stay until freed.
    pub fn set_down(&mut self, ranks: &IdSet) {
        self.set_state(ranks, false);
    }

    /// Everything the instance has, up or not.
    pub fn all(&self) -> &ResourceSet {
        &self.all
    }

    /// Ranks that are down.
    pub fn down(&self) -> IdSet {
        self.nodes
            .iter()
            .filter(|n| !n.up)
            .map(|n| n.rank)
            .collect()
    }

    /// Ranks that are up.
    pub fn up(&self) -> IdSet {
        self.nodes.iter().filter(|n| n.up).map(|n| n.rank).collect()
    }

    fn collect(&self, pick: impl Fn(&Slot) -> Option<(IdSet, IdSet)>) -> ResourceSet {
        let mut out = ResourceSet::new();
        for n in &self.nodes {
            if let Some((cores, gpus)) = pick(n)
                && !(cores.is_empty() && gpus.is_empty())
            {
                // Ranks are unique in self.nodes, so insertion cannot fail.
                let _ = out.add_node(n.rank, n.hostname.clone(), cores, gpus);
            }
        }
        out
    }

    /// What jobs hold now (on up and down ranks).
    pub fn allocated(&self) -> ResourceSet {
        self.collect(|n| {
            Some((
                n.cores.difference(&n.free_cores),
                n.gpus.difference(&n.free_gpus),
            ))
        })
    }

    /// What could be allocated now: free resources of up ranks.
    pub fn free_set(&self) -> ResourceSet {
        self.collect(|n| n.up.then(|| (n.free_cores.clone(), n.free_gpus.clone())))
    }

    /// All resources of down ranks.
    pub fn down_set(&self) -> ResourceSet {
        self.collect(|n| (!n.up).then(|| (n.cores.clone(), n.gpus.clone())))
    }

    /// Could `req` ever be satisfied by the instance's resources (all idle and up)?
    pub fn check_feasible(&self, req: &Request) -> Result<(), PoolError> {
        req.check()?;
        if self.plan(req, true).is_some() {
            return Ok(());
        }
        if let Some(c) = &req.constraint
            && !self.nodes.iter().any(|n| c.matches(n))
        {
            return Err(PoolError::Unsatisfiable(
                "no resources satisfy the constraints (--requires)".into(),
            ));
        }
        let nnodes = self.nodes.len();
        let max_cores = self.nodes.iter().map(|n| n.ncores).max().unwrap_or(0);
        let max_gpus = self.nodes.iter().map(|n| n.ngpus).max().unwrap_or(0);
        let reason = if req.nnodes as usize > nnodes {
            format!("requested {} nodes, instance has {nnodes}", req.nnodes)
        } else if req.cores_per_slot > max_cores {
            format!(
                "requested {} cores per slot, nodes have at most {max_cores}",
                req.cores_per_slot
            )
        } else if req.gpus_per_slot > max_gpus {
            format!(
                "requested {} GPUs per slot, nodes have at most {max_gpus}",
                req.gpus_per_slot
            )
        } else {
            format!(
                "{} slots of {} cores{} do not fit in {} cores{} on {nnodes} nodes",
                req.nslots,
                req.cores_per_slot,
                gpu_text(req.gpus_per_slot),
                self.all.ncores(),
                gpu_text(u32::try_from(self.all.ngpus()).unwrap_or(u32::MAX)),
            )
        };
        Err(PoolError::Unsatisfiable(reason))
    }

    /// [`Pool::check_feasible`] for a jobspec.
    pub fn feasible(&self, spec: &Jobspec) -> Result<(), PoolError> {
        self.check_feasible(&Request::from_jobspec(spec)?)
    }

    /// Choose nodes for `req`: (node index, slots there), or `None` if it does not fit.
    /// `total`: plan against the whole instance, as if idle and up.
    fn plan(&self, req: &Request, total: bool) -> Option<Vec<(usize, u32)>> {
        let mut chosen = Vec::new();
        if req.nnodes == 0 {
            let mut left = req.nslots;
            for (i, n) in self.nodes.iter().enumerate() {
                let k = n.capacity(req, total).min(left);
                if k > 0 {
                    chosen.push((i, k));
                    left -= k;
                    if left == 0 {
                        return Some(chosen);
                    }
                }
            }
            return None;
        }
        let (base, extra) = req.per_node();
        for (i, n) in self.nodes.iter().enumerate() {
            let want = base + u32::from((chosen.len() as u32) < extra);
            if n.capacity(req, total) >= want {
                chosen.push((i, want));
                if chosen.len() == req.nnodes as usize {
                    return Some(chosen);
                }
            }
        }
        None
    }

    /// Allocate `req` now: `Ok(Some(R))`, `Ok(None)` if it must wait, or an error if it can
    /// never be satisfied. R's `starttime` is `now`, its `expiration` `now + duration` (or
    /// the instance's expiration when the request has no time limit).
    pub fn alloc_request(
        &mut self,
        req: &Request,
        now: f64,
    ) -> Result<Option<ResourceSet>, PoolError> {
        let Some(plan) = self.plan(req, false) else {
            self.check_feasible(req)?;
            return Ok(None);
        };
        let mut r = ResourceSet::new();
        for (i, nslots) in plan {
            let n = &mut self.nodes[i];
            let (cores, gpus) = if req.exclusive {
                (n.cores.clone(), n.gpus.clone())
            } else {
                (
                    take_first(&n.free_cores, nslots * req.cores_per_slot),
                    take_first(&n.free_gpus, nslots * req.gpus_per_slot),
                )
            };
            n.free_cores = n.free_cores.difference(&cores);
            n.free_gpus = n.free_gpus.difference(&gpus);
            n.nfree_cores -= count32(&cores);
            n.nfree_gpus -= count32(&gpus);
            // The plan names each node once: adding it cannot collide.
            let _ = r.add_node(n.rank, n.hostname.clone(), cores, gpus);
        }
        r.nslots = Some(u64::from(req.nslots));
        r.starttime = now;
        r.expiration = if req.duration > 0.0 {
            now + req.duration
        } else {
            self.all.expiration
        };
        Ok(Some(r))
    }

    /// Allocate for a jobspec at the current time (see [`Pool::alloc_request`]).
    pub fn alloc(&mut self, spec: &Jobspec) -> Result<Option<ResourceSet>, PoolError> {
        self.alloc_request(&Request::from_jobspec(spec)?, now())
    }

    /// Mark resources allocated that were handed out before this pool existed (the jobs a
    /// new scheduler finds running). Ids the pool does not have are ignored.
    pub fn claim(&mut self, r: &ResourceSet) {
        for node in r.nodes() {
            let Some(i) = self.index(node.rank) else {
                continue;
            };
            let n = &mut self.nodes[i];
            n.free_cores = n.free_cores.difference(&node.cores);
            n.free_gpus = n.free_gpus.difference(&node.gpus);
            n.nfree_cores = count32(&n.free_cores);
            n.nfree_gpus = count32(&n.free_gpus);
        }
    }

    /// Give resources back (a whole allocation, or part of it, e.g.
    /// `r.copy_ranks(ranks)` for a partial release). Ids the pool does not have, or that
    /// are already free, are ignored.
    pub fn free(&mut self, r: &ResourceSet) {
        for node in r.nodes() {
            let Some(i) = self.index(node.rank) else {
                continue;
            };
            let n = &mut self.nodes[i];
            n.free_cores = n.free_cores.union(&node.cores.intersection(&n.cores));
            n.free_gpus = n.free_gpus.union(&node.gpus.intersection(&n.gpus));
            n.nfree_cores = count32(&n.free_cores);
            n.nfree_gpus = count32(&n.free_gpus);
        }
    }
}

fn gpu_text(n: u32) -> String {
    match n {
        0 => String::new(),
        n => format!(" and {n} GPUs"),
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
