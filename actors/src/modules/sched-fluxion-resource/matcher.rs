//! The resource module's core without I/O: builds the graph from R (or a file), runs
//! match operations for the qmanager and renders allocations as R version 1.

use std::collections::BTreeSet;
use std::path::Path;

use flux_fluxion::error::{ConfigError, MatchError, ReaderError};
use flux_fluxion::graph::{ResourceGraph, Status};
use flux_fluxion::jobspec::Jobspec;
use flux_fluxion::readers::{
    decode_idset, filter_allowlist, read_grug, read_hwloc, read_jgf, read_rv1exec,
};
use flux_fluxion::traverser::{Emitted, FindExpr, MatchOp, Traverser};
use flux_fluxion::writers::{idset, jgf_object, rv1};
use flux_proto::errno;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use super::options::{LoadFormat, ResourceOptions};

/// ENODEV: the request can never be satisfied (not in flux_proto's table).
pub const ENODEV: i32 = 19;

/// Why the graph could not be built.
#[derive(Debug, Error)]
pub enum GraphError {
    /// The file could not be read.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The reader refused the input.
    #[error("{0}")]
    Reader(#[from] ReaderError),
    /// The matcher refused the graph or its configuration.
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// `sched-fluxion-resource.match` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchRequest {
    /// The job id.
    pub jobid: i64,
    /// `allocate`, `allocate_with_satisfiability`, `allocate_orelse_reserve` or
    /// `satisfiability`.
    pub op: String,
    /// The jobspec (V1, as JSON).
    pub jobspec: Value,
}

/// `sched-fluxion-resource.match` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResponse {
    /// The job id.
    pub jobid: i64,
    /// `ALLOCATED`, `RESERVED` or `MATCHED` (satisfiability).
    pub status: String,
    /// Start time (seconds since the epoch).
    pub at: i64,
    /// The allocation or reservation, R version 1 (`null` for satisfiability).
    #[serde(rename = "R")]
    pub r: Value,
}

/// A failed match as an errno and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchFailure {
    /// EBUSY (not now), ENODEV (never), EINVAL (bad request).
    pub errnum: i32,
    /// Why.
    pub reason: String,
}

impl MatchFailure {
    /// A failure with errno `errnum`.
    pub fn new(errnum: i32, reason: impl Into<String>) -> Self {
        Self {
            errnum,
            reason: reason.into(),
        }
    }
}

impl From<MatchError> for MatchFailure {
    fn from(e: MatchError) -> Self {
        let errnum = match e {
            MatchError::Busy => errno::EBUSY,
            MatchError::Unsatisfiable => ENODEV,
            MatchError::Invalid(_) | MatchError::Planner(_) => errno::EINVAL,
            MatchError::UnknownRank(_) | MatchError::UnknownResource { .. } => errno::ENOENT,
            MatchError::AlreadyAllocated { .. } | MatchError::JobExists(_) => errno::EEXIST,
        };
        Self::new(errnum, e.to_string())
    }
}

/// The graph and its scheduling state.
#[derive(Debug)]
pub struct Matcher {
    traverser: Traverser,
    with_scheduling: bool,
    down: BTreeSet<i64>,
    /// R's `expiration` (0: none), given to jobs without a time limit.
    expiration: i64,
    /// The graph ignores R's JGF (`load-format=rv1exec_force`): so do bookings.
    ignore_jgf: bool,
}

impl Matcher {
    /// The graph of R: its `scheduling` JGF when present (unless `rv1exec_force`), else
    /// its R_lite.
    pub fn from_r(r: &Value, opts: &ResourceOptions) -> Result<Self, GraphError> {
        let text = r.to_string();
        let mut g = ResourceGraph::new();
        let expiration = r
            .pointer("/execution/expiration")
            .and_then(Value::as_f64)
            .map_or(0, |e| e as i64);
        let has_jgf = r.get("scheduling").and_then(|s| s.get("graph")).is_some();
        if has_jgf && opts.load_format != LoadFormat::Rv1execForce {
            read_jgf(&text, &mut g)?;
        } else {
            read_rv1exec(&text, &mut g)?;
        }
        let mut opts = opts.clone();
        if expiration > 0 {
            // The instance ends then: nothing can be scheduled past it.
            opts.traverser.graph_end = expiration;
        }
        let mut m = Self::build(g, &opts)?;
        m.expiration = expiration;
        Ok(m)
    }

    /// The graph of the file in `opts.load_file` (`path`): JGF, GRUG, hwloc XML, or R.
    pub fn from_file(path: &Path, opts: &ResourceOptions) -> Result<Self, GraphError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GraphError::Io(path.display().to_string(), e))?;
        let mut g = ResourceGraph::new();
        match opts.load_format {
            LoadFormat::Grug => read_grug(&text, &mut g)?,
            LoadFormat::Jgf => read_jgf(&text, &mut g)?,
            LoadFormat::Hwloc => return Self::from_hwloc_xml(&text, opts, None),
            LoadFormat::Rv1exec | LoadFormat::Rv1execForce => {
                let doc: Value = serde_json::from_str(&text).map_err(ReaderError::Json)?;
                if doc.get("graph").is_some() {
                    read_jgf(&text, &mut g)?;
                } else {
                    return Self::from_r(&doc, opts);
                }
            }
        }
        Self::build(g, opts)
    }

    /// What an hwloc graph keeps when no `load-allowlist` is given.
    pub const HWLOC_DEFAULT_ALLOWLIST: &str = "node,core,gpu";

    /// The graph of one machine's hwloc XML topology, as broker rank 0 on `hostname`
    /// when the XML does not name the machine.
    pub fn from_hwloc_xml(
        xml: &str,
        opts: &ResourceOptions,
        hostname: Option<&str>,
    ) -> Result<Self, GraphError> {
        let mut g = ResourceGraph::new();
        // The reader applies the allowlist itself (unique ids stay consecutive). Without
        // one, keep what jobspecs from `flux submit` name (node->slot->core, gpu): like
        // flux-sched, a match does not skip levels below the first one it matched, so a
        // socket level would make `-N1 -c2` unsatisfiable.
        let allowlist = opts
            .allowlist
            .as_deref()
            .unwrap_or(Self::HWLOC_DEFAULT_ALLOWLIST);
        read_hwloc(xml, &mut g, Some(allowlist), 0, hostname)?;
        let opts = ResourceOptions {
            allowlist: None,
            ..opts.clone()
        };
        Self::build(g, &opts)
    }

    fn build(g: ResourceGraph, opts: &ResourceOptions) -> Result<Self, GraphError> {
        let g = match opts.allowlist.as_deref() {
            Some(list) => filter_allowlist(&g, list),
            None => g,
        };
        Ok(Self {
            traverser: Traverser::new(g, &opts.traverser)?,
            with_scheduling: opts.with_scheduling,
            down: BTreeSet::new(),
            expiration: 0,
            ignore_jgf: opts.load_format == LoadFormat::Rv1execForce,
        })
    }

    /// Runs one match at time `now` (seconds since the epoch).
    pub fn run(&mut self, req: &MatchRequest, now: i64) -> Result<MatchResponse, MatchFailure> {
        let op: MatchOp = req.op.parse().map_err(MatchFailure::from)?;
        self.run_parsed(req.jobid, op, &parse_jobspec(&req.jobspec)?, now)
    }

    /// [`Matcher::run`] for a jobspec already parsed (the in-process path).
    pub fn run_parsed(
        &mut self,
        jobid: i64,
        op: MatchOp,
        jobspec: &Jobspec,
        now: i64,
    ) -> Result<MatchResponse, MatchFailure> {
        let m = self.traverser.run(jobspec, op, jobid, now)?;
        let (status, r) = match (op, m.reserved) {
            (MatchOp::Satisfiability, _) => ("MATCHED", Value::Null),
            (_, reserved) => (
                if reserved { "RESERVED" } else { "ALLOCATED" },
                self.render(&m.emitted, m.at, m.end),
            ),
        };
        Ok(MatchResponse {
            jobid,
            status: status.into(),
            at: m.at,
            r,
        })
    }

    /// Could `jobspec` ever be satisfied (ignoring what is allocated and what is down)?
    pub fn feasible(&mut self, jobspec: &Value, now: i64) -> Result<(), MatchFailure> {
        let jobspec = parse_jobspec(jobspec)?;
        self.traverser
            .run(&jobspec, MatchOp::Satisfiability, -1, now)
            .map(|_| ())
            .map_err(|e| match e {
                MatchError::Busy | MatchError::Unsatisfiable => {
                    MatchFailure::new(ENODEV, "unsatisfiable request")
                }
                other => other.into(),
            })
    }

    /// Books `r`, the R of job `jobid` that runs already (RFC 27 hello), as its allocation
    /// until `cancel`: by R's JGF `scheduling` key when present (and the graph was not
    /// built with `rv1exec_force`), else by R_lite. A job booked already stays as it is.
    pub fn update(&mut self, jobid: i64, r: &Value) -> Result<(), MatchFailure> {
        let stripped;
        let r = match r {
            Value::Object(map) if self.ignore_jgf && map.contains_key("scheduling") => {
                let mut map = map.clone();
                map.remove("scheduling");
                stripped = Value::Object(map);
                &stripped
            }
            r => r,
        };
        match self.traverser.update_from_r(r, jobid) {
            Ok(_) | Err(MatchError::JobExists(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Releases what job `jobid` holds (allocation or reservation).
    pub fn cancel(&mut self, jobid: i64) -> Result<(), MatchFailure> {
        self.traverser.cancel(jobid).map_err(MatchFailure::from)
    }

    /// Marks ranks up (`up == true`) or down; returns whether anything changed.
    pub fn set_status(&mut self, ranks: &str, up: bool) -> Result<bool, ReaderError> {
        let mut changed = false;
        for rank in decode_idset(ranks)? {
            let status = if up { Status::Up } else { Status::Down };
            if self.traverser.set_rank_status(rank, status) {
                changed |= if up {
                    self.down.remove(&rank)
                } else {
                    self.down.insert(rank)
                };
            }
        }
        Ok(changed)
    }

    /// Marks the ranks in `up` up and every other rank down (the first
    /// `resource.acquire` response); returns whether anything changed.
    pub fn set_up_only(&mut self, up: &str) -> Result<bool, ReaderError> {
        let up: BTreeSet<i64> = decode_idset(up)?.into_iter().collect();
        let (ups, downs): (Vec<i64>, Vec<i64>) = self
            .traverser
            .ranks()
            .into_iter()
            .partition(|r| up.contains(r));
        let raised = self.set_status(&idset(&ups), true)?;
        let lowered = self.set_status(&idset(&downs), false)?;
        Ok(raised || lowered)
    }

    /// The down ranks, as an idset string.
    pub fn down(&self) -> String {
        idset(&self.down.iter().copied().collect::<Vec<_>>())
    }

    /// The up ranks, as an idset string.
    pub fn up(&self) -> String {
        let up: Vec<i64> = self
            .traverser
            .ranks()
            .into_iter()
            .filter(|r| !self.down.contains(r))
            .collect();
        idset(&up)
    }

    /// `{"all": R, "allocated": R, "down": idset}` (the `sched.resource-status` body).
    pub fn status(&mut self) -> Value {
        let all = self.find_r("status=up or status=down");
        let allocated = self.find_r("sched-now=allocated");
        json!({"all": all, "allocated": allocated, "down": self.down()})
    }

    /// The resources matching a find expression (`status=down`, `sched-now=allocated`,
    /// `property=NAME`, `jobid-alloc=ID` ... joined with `and`/`or`), as R version 1.
    pub fn find(&mut self, criteria: &str) -> Result<Value, MatchFailure> {
        let expr = FindExpr::parse(criteria).map_err(MatchFailure::from)?;
        let emitted = self.traverser.find(&expr);
        Ok(parse_json(&rv1(
            &self.traverser.graph,
            &emitted,
            0,
            0,
            None,
        )))
    }

    /// [`Matcher::find`] for expressions known to be valid.
    fn find_r(&mut self, criteria: &str) -> Value {
        self.find(criteria).unwrap_or(Value::Null)
    }

    fn render(&self, emitted: &[Emitted], start: i64, end: i64) -> Value {
        // A job without a time limit runs until the instance expires (or for ever).
        let end = if end >= self.traverser.graph_end() {
            self.expiration
        } else {
            end
        };
        let g = &self.traverser.graph;
        let jgf = self.with_scheduling.then(|| jgf_object(g, emitted));
        parse_json(&rv1(g, emitted, start, end, jgf.as_deref()))
    }
}

/// The writers produce valid JSON; `null` should they ever not.
fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A jobspec as the matcher reads it; EINVAL with the parser's reason otherwise.
pub fn parse_jobspec(jobspec: &Value) -> Result<Jobspec, MatchFailure> {
    Jobspec::from_json(jobspec)
        .map_err(|e| MatchFailure::new(errno::EINVAL, format!("invalid jobspec: {e}")))
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
