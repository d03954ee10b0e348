//! Match operations: allocate now, reserve the earliest future fit, or probe
//! satisfiability (`dfu_traverser_t::run/schedule`).

use super::{AllocType, JobMeta, Req, Traverser, update::Emitted};
use crate::error::{MatchError, PlannerError};
use crate::graph::TypeId;
use crate::jobspec::Jobspec;
use crate::vecmap::VecMap;

/// A match operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// Try at `now` only.
    Allocate,
    /// Allocate; on failure tell busy from unsatisfiable.
    AllocateWithSatisfiability,
    /// Allocate now or reserve at the earliest time that fits.
    AllocateOrElseReserve,
    /// Only check whether the request could ever be met.
    Satisfiability,
}

impl std::str::FromStr for MatchOp {
    type Err = MatchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allocate" => Ok(Self::Allocate),
            "allocate_with_satisfiability" => Ok(Self::AllocateWithSatisfiability),
            "allocate_orelse_reserve" => Ok(Self::AllocateOrElseReserve),
            "satisfiability" => Ok(Self::Satisfiability),
            other => Err(MatchError::Invalid(format!("unknown match op {other}"))),
        }
    }
}

/// A successful match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchOutcome {
    /// Start time.
    pub at: i64,
    /// End time (start + duration, clipped to the graph window).
    pub end: i64,
    /// Whether it is a future reservation.
    pub reserved: bool,
    /// Emitted vertices/edges in post-order (empty for satisfiability).
    pub emitted: Vec<Emitted>,
}

impl Traverser {
    /// Runs `op` for `jobspec` as job `jobid` at time `now`.
    pub fn run(
        &mut self,
        jobspec: &Jobspec,
        op: MatchOp,
        jobid: i64,
        now: i64,
    ) -> Result<MatchOutcome, MatchError> {
        if jobspec.resources.is_empty() {
            return Err(MatchError::Invalid("empty resources".into()));
        }
        if jobspec.has_xor_slots() {
            return self.run_xor(jobspec, op, jobid, now);
        }
        self.run_one(jobspec, op, jobid, now, false)
    }

    /// Xor alternatives: the first that can start now wins; otherwise (reserve) the one
    /// with the earliest start, the first on ties.
    fn run_xor(
        &mut self,
        jobspec: &Jobspec,
        op: MatchOp,
        jobid: i64,
        now: i64,
    ) -> Result<MatchOutcome, MatchError> {
        let candidates = jobspec.expand_xor();
        let now_op = match op {
            MatchOp::AllocateOrElseReserve => MatchOp::Allocate,
            other => other,
        };
        let mut last = Err(MatchError::Busy);
        for c in &candidates {
            last = self.run_one(c, now_op, jobid, now, false);
            if last.is_ok() || op != MatchOp::AllocateOrElseReserve {
                if last.is_ok() {
                    return last;
                }
                continue;
            }
        }
        if op != MatchOp::AllocateOrElseReserve {
            return last;
        }
        let mut best: Option<(i64, usize)> = None;
        for (i, c) in candidates.iter().enumerate() {
            match self.run_one(c, op, jobid, now, true) {
                Ok(m) if best.is_none_or(|(at, _)| m.at < at) => best = Some((m.at, i)),
                Ok(_) => {}
                Err(e) => last = Err(e),
            }
        }
        match best {
            Some((_, i)) => self.run_one(&candidates[i], op, jobid, now, false),
            None => last,
        }
    }

    fn run_one(
        &mut self,
        jobspec: &Jobspec,
        op: MatchOp,
        jobid: i64,
        now: i64,
        dry_run: bool,
    ) -> Result<MatchOutcome, MatchError> {
        let saved_x = self.exclusive_types.clone();
        self.constraint = jobspec.constraint.clone();
        let result = self.run_inner(jobspec, op, jobid, now, dry_run);
        self.exclusive_types = saved_x;
        self.constraint = None;
        result
    }

    fn run_inner(
        &mut self,
        jobspec: &Jobspec,
        op: MatchOp,
        jobid: i64,
        now: i64,
        dry_run: bool,
    ) -> Result<MatchOutcome, MatchError> {
        let mut reqs = self.resolve_request(&jobspec.resources);
        let root_ty = self.graph.vertex(self.root).ty;
        let x = reqs
            .iter()
            .any(|r| r.ty == root_ty && r.exclusive == crate::jobspec::Tristate::True);
        let dfv = self.prime_request(&mut reqs);
        let window = self.graph_end - now;
        let duration = match jobspec.duration as i64 {
            0 => window,
            d if d > self.graph_end => {
                return Err(MatchError::Invalid("duration exceeds graph window".into()));
            }
            d => d,
        };
        let mut meta = JobMeta {
            jobid,
            at: now,
            now,
            duration,
            alloc_type: AllocType::Alloc,
        };
        if op == MatchOp::Satisfiability {
            self.satisfiability(&reqs, &mut meta, x)?;
            return Ok(MatchOutcome {
                at: meta.at,
                end: meta.at.saturating_add(meta.duration),
                reserved: false,
                emitted: Vec::new(),
            });
        }
        self.schedule(&reqs, &mut meta, x, op, &dfv)?;
        if meta.at == self.graph_end {
            return Err(MatchError::Busy);
        }
        if meta.at < 0 || meta.at > self.graph_end {
            return Err(MatchError::Invalid(
                "match time outside the graph window".into(),
            ));
        }
        if meta.at + meta.duration > self.graph_end {
            meta.duration = self.graph_end - meta.at;
        }
        if dry_run {
            // Probe only: the selection is left unbooked.
            return Ok(MatchOutcome {
                at: meta.at,
                end: meta.at + meta.duration,
                reserved: meta.at > now,
                emitted: Vec::new(),
            });
        }
        let emitted = self.update(&meta)?;
        Ok(MatchOutcome {
            at: meta.at,
            end: meta.at + meta.duration,
            reserved: meta.at > now,
            emitted,
        })
    }

    /// A probe at the far end of the planners' range, where nothing is booked.
    fn satisfiability(
        &mut self,
        reqs: &[Req],
        meta: &mut JobMeta,
        x: bool,
    ) -> Result<(), MatchError> {
        meta.alloc_type = AllocType::Satisfiability;
        let (base, dur) = match &self.vs[self.root.idx()].subplan {
            Some(p) => (p.base(), p.duration()),
            None => (0, i64::MAX),
        };
        meta.at = base + (dur - meta.duration - 1);
        self.select(reqs, meta, x).map_err(|e| match e {
            MatchError::Busy | MatchError::Planner(PlannerError::Range) => {
                MatchError::Unsatisfiable
            }
            other => other,
        })
    }

    /// Fewer `node`s up than requested can never be allocated now.
    /// Pre-check on the `node` count (`request_feasible`): too few nodes up can never
    /// work now; with a constraint, count the matching nodes that are free.
    fn request_feasible(
        &self,
        meta: &JobMeta,
        op: MatchOp,
        dfv: &VecMap<TypeId, i64>,
    ) -> Result<(), MatchError> {
        let target = dfv.get(&self.node_ty).copied().unwrap_or(0);
        let fail = || match op {
            MatchOp::Allocate | MatchOp::AllocateOrElseReserve => MatchError::Busy,
            _ => MatchError::Unsatisfiable,
        };
        if target as usize > self.nodes_up {
            return Err(fail());
        }
        let Some(c) = &self.constraint else {
            return Ok(());
        };
        let sat = op == MatchOp::AllocateWithSatisfiability || op == MatchOp::Satisfiability;
        let at = if op == MatchOp::Allocate {
            meta.at
        } else {
            self.graph_end - 1
        };
        let nodes = self
            .graph
            .by_type
            .get(&self.node_ty)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let feasible = nodes
            .iter()
            .filter(|n| {
                let v = self.graph.vertex(**n);
                c.matches(v)
                    && (sat || v.status == crate::graph::Status::Up)
                    && self.vs[n.idx()]
                        .plans
                        .avail_during(at, meta.duration)
                        .unwrap_or(0)
                        == 1
            })
            .take(target.max(0) as usize)
            .count();
        if (feasible as i64) < target {
            return Err(fail());
        }
        Ok(())
    }

    fn schedule(
        &mut self,
        reqs: &[Req],
        meta: &mut JobMeta,
        x: bool,
        op: MatchOp,
        dfv: &VecMap<TypeId, i64>,
    ) -> Result<(), MatchError> {
        self.request_feasible(meta, op, dfv)?;
        let first = self.select(reqs, meta, x);
        if first.is_ok() {
            return Ok(());
        }
        match op {
            MatchOp::AllocateWithSatisfiability => {
                let mut probe = *meta;
                self.satisfiability(reqs, &mut probe, x)?;
                Err(MatchError::Busy)
            }
            MatchOp::AllocateOrElseReserve => {
                meta.alloc_type = AllocType::AllocOrReserve;
                let times: Result<Vec<i64>, PlannerError> = match &self.vs[self.root.idx()].subplan
                {
                    Some(p) => {
                        let counts = p.counts_for(|t| dfv.get(&t).copied().unwrap_or(0));
                        p.avail_times(meta.at + 1, meta.duration, &counts)
                            .map(|it| it.collect())
                    }
                    None => Err(PlannerError::NoPoint),
                };
                if let Ok(times) = &times {
                    for t in times {
                        meta.at = *t;
                        if self.select(reqs, meta, x).is_ok() {
                            return Ok(());
                        }
                    }
                }
                // No schedulable point: tell busy from never.
                let mut probe = *meta;
                self.satisfiability(reqs, &mut probe, x)?;
                Err(MatchError::Busy)
            }
            _ => Err(MatchError::Busy),
        }
    }
}
