//! Rebuilding an existing allocation, as the resource module does for the jobs running
//! when it starts: from its JGF (R's `scheduling` key) here, from R_lite in
//! `reconstruct_rv1`. Both mark the edges, then the normal update walk books the spans and
//! emits the vertices.

use std::collections::HashMap;

use serde_json::Value;

use super::schedule::MatchOutcome;
use super::{AllocType, EdgeSched, JobMeta, Traverser};
use crate::error::MatchError;
use crate::graph::VertexId;

fn invalid(msg: impl Into<String>) -> MatchError {
    MatchError::Invalid(msg.into())
}

impl Traverser {
    /// Books job `jobid` on the vertices of `jgf` (a JGF document or R with a
    /// `scheduling` key) over `[at, at + duration)`, as an allocation or a reservation.
    pub fn update_from_jgf(
        &mut self,
        jgf: &str,
        jobid: i64,
        at: i64,
        duration: i64,
        reserve: bool,
    ) -> Result<MatchOutcome, MatchError> {
        if at < 0 || duration <= 0 {
            return Err(invalid("update needs at >= 0 and duration > 0"));
        }
        let doc: Value = serde_json::from_str(jgf).map_err(|e| invalid(format!("jgf: {e}")))?;
        let graph = doc
            .get("graph")
            .or_else(|| doc.get("scheduling").and_then(|s| s.get("graph")))
            .ok_or_else(|| invalid("jgf: no graph"))?;
        let dom_name = self.graph.names.subsystem_name(self.dom).to_string();
        // JGF node id -> (graph vertex, needs, exclusive)
        let mut nodes: HashMap<String, (VertexId, i64, bool)> = HashMap::new();
        for n in graph
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = match n.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(invalid("jgf: node without id")),
            };
            let meta = n
                .get("metadata")
                .ok_or_else(|| invalid("jgf: node without metadata"))?;
            let path = meta
                .get("paths")
                .and_then(|p| p.get(&dom_name))
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("jgf: node {key} has no {dom_name} path")))?;
            let v = *self
                .graph
                .by_path
                .get(path)
                .ok_or_else(|| invalid(format!("unknown vertex {path}")))?;
            let needs = meta.get("size").and_then(Value::as_i64).unwrap_or(1);
            let x = meta
                .get("exclusive")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            nodes.insert(key, (v, needs, x));
        }
        self.seq += 1;
        self.marked.clear();
        let root = self.root;
        let root_entry = nodes.values().find(|(v, _, _)| *v == root).copied();
        let (_, root_needs, root_x) =
            root_entry.ok_or_else(|| invalid("jgf does not contain the graph root"))?;
        for e in graph
            .get("edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let end = |k: &str| match e.get(k) {
                Some(Value::String(s)) => nodes.get(s).copied(),
                Some(other) => nodes.get(&other.to_string()).copied(),
                None => None,
            };
            let (Some((src, _, _)), Some((tgt, needs, x))) = (end("source"), end("target")) else {
                return Err(invalid("jgf: edge endpoint is not a node"));
            };
            let edge = self
                .dom_children(src)
                .find(|ed| self.graph.edge(*ed).target == tgt)
                .ok_or_else(|| invalid("jgf: edge not in the graph"))?;
            self.mark(edge, needs, x);
        }
        self.book_marked(root_needs, root_x, jobid, at, duration, reserve)
    }

    /// The booking walk of a match over the edges marked since `seq` was bumped, the root
    /// itself claiming `root_needs` units (exclusively with `root_x`).
    pub(super) fn book_marked(
        &mut self,
        root_needs: i64,
        root_x: bool,
        jobid: i64,
        at: i64,
        duration: i64,
        reserve: bool,
    ) -> Result<MatchOutcome, MatchError> {
        self.rt_edge = EdgeSched {
            needs: root_needs,
            exclusive: root_x,
            seq: self.seq,
            weight: 0,
        };
        let alloc_type = if reserve {
            AllocType::AllocOrReserve
        } else {
            AllocType::Alloc
        };
        let meta = JobMeta {
            jobid,
            at,
            now: at,
            duration,
            alloc_type,
        };
        let emitted = self.update(&meta)?;
        Ok(MatchOutcome {
            at,
            end: at + duration,
            reserved: reserve,
            emitted,
        })
    }

    /// Whether job `jobid` holds or has reserved resources in the graph.
    pub fn job_booked(&self, jobid: i64) -> bool {
        self.vs[self.root.idx()].jobs().tags.contains(&jobid)
    }

    /// Books an existing allocation `r` (R version 1, e.g. a job running when the
    /// scheduler starts) for `jobid` over R's `[starttime, expiration)`, to the end of the
    /// graph window when R has no expiration: by its JGF `scheduling` key when present,
    /// else by its R_lite ranks and logical ids. Nothing is booked when it fails.
    pub fn update_from_r(&mut self, r: &Value, jobid: i64) -> Result<MatchOutcome, MatchError> {
        if self.job_booked(jobid) {
            return Err(MatchError::JobExists(jobid));
        }
        let (at, duration) = self.r_window(r)?;
        let booked = if r.get("scheduling").is_some() {
            self.update_from_jgf(&r.to_string(), jobid, at, duration, false)
        } else {
            self.update_from_rv1(r, jobid, at, duration)
        };
        if booked.is_err() {
            self.forget(jobid)?;
        }
        booked
    }

    /// `(at, duration)` of R's execution window, clipped to the graph window.
    fn r_window(&self, r: &Value) -> Result<(i64, i64), MatchError> {
        let exec = r
            .get("execution")
            .ok_or_else(|| invalid("R has no execution key"))?;
        let time = |key: &str| exec.get(key).and_then(Value::as_f64).unwrap_or(0.0);
        let start = time("starttime").floor() as i64;
        let end = match time("expiration").ceil() as i64 {
            e if e > 0 => e.min(self.graph_end),
            _ => self.graph_end,
        };
        if start < 0 || end <= start {
            return Err(invalid(format!(
                "R's execution window [{start}, {end}) is empty or outside the graph"
            )));
        }
        Ok((start, end - start))
    }
}
