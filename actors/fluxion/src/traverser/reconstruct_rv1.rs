//! Rebuilding an existing allocation from R version 1 without the JGF `scheduling` key
//! (what sched-simple hands out, and what jobs started before Fluxion carry): each
//! R_lite entry names ranks and, per rank, logical ids of `core`/`gpu`. The vertices
//! found that way are marked as a match would mark them, then booked by the same walk.

use std::collections::HashMap;

use serde_json::Value;

use super::Traverser;
use super::schedule::MatchOutcome;
use crate::error::MatchError;
use crate::graph::{TypeId, VertexId};
use crate::readers::decode_idset;

fn invalid(msg: impl Into<String>) -> MatchError {
    MatchError::Invalid(msg.into())
}

fn ids(text: &str) -> Result<Vec<i64>, MatchError> {
    decode_idset(text).map_err(|e| invalid(format!("R_lite: {e}")))
}

impl Traverser {
    /// Books job `jobid` on the resources R_lite of `r` names, over `[at, at + duration)`.
    pub(super) fn update_from_rv1(
        &mut self,
        r: &Value,
        jobid: i64,
        at: i64,
        duration: i64,
    ) -> Result<MatchOutcome, MatchError> {
        let r_lite = r
            .pointer("/execution/R_lite")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("R has no R_lite"))?;
        self.seq += 1;
        self.marked.clear();
        for entry in r_lite {
            let ranks = entry
                .get("rank")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("R_lite entry without rank"))?;
            let children = entry
                .get("children")
                .and_then(Value::as_object)
                .ok_or_else(|| invalid("R_lite entry without children"))?;
            for rank in ids(ranks)? {
                let under = self.leaves_of_rank(rank)?;
                for (kind, set) in children {
                    let set = set
                        .as_str()
                        .ok_or_else(|| invalid(format!("R_lite: {kind} is not an idset")))?;
                    let ty = self.graph.names.find_type(kind);
                    for id in ids(set)? {
                        let v = ty
                            .and_then(|t| under.get(&(t, id)))
                            .copied()
                            .ok_or_else(|| MatchError::UnknownResource {
                                rank,
                                kind: kind.clone(),
                                id,
                            })?;
                        let size = self.graph.vertex(v).size;
                        if self.vs[v.idx()].plans.avail_during(at, duration)? < size {
                            return Err(MatchError::AlreadyAllocated {
                                rank,
                                kind: kind.clone(),
                                id,
                            });
                        }
                        self.mark_up_to_root(v, size);
                    }
                }
            }
        }
        if self.marked.is_empty() {
            return Err(invalid("R names no resources"));
        }
        let root_size = self.graph.vertex(self.root).size;
        self.book_marked(root_size, false, jobid, at, duration, false)
    }

    /// The vertices below the `node` of broker rank `rank`, by (type, logical id).
    fn leaves_of_rank(&self, rank: i64) -> Result<HashMap<(TypeId, i64), VertexId>, MatchError> {
        let node = self
            .graph
            .by_rank
            .get(&rank)
            .and_then(|vs| {
                vs.iter()
                    .find(|v| self.graph.vertex(**v).ty == self.node_ty)
            })
            .copied()
            .ok_or(MatchError::UnknownRank(rank))?;
        let mut out = HashMap::new();
        let mut stack = vec![node];
        while let Some(u) = stack.pop() {
            for e in self.dom_children(u) {
                let c = self.graph.edge(e).target;
                let cv = self.graph.vertex(c);
                out.entry((cv.ty, cv.id)).or_insert(c);
                stack.push(c);
            }
        }
        Ok(out)
    }

    /// Marks `v`'s parent edge as an exclusive claim of `size` units and the edges above it
    /// as shared passage, as a match's selection does.
    fn mark_up_to_root(&mut self, v: VertexId, size: i64) {
        let Some(e) = self.graph.parent_edge(v, self.dom) else {
            return;
        };
        self.mark(e, size, true);
        let mut u = self.graph.edge(e).source;
        while let Some(pe) = self.graph.parent_edge(u, self.dom) {
            if self.es[pe.idx()].seq == self.seq {
                break;
            }
            self.mark(pe, self.graph.vertex(u).size, false);
            u = self.graph.edge(pe).source;
        }
    }
}

#[cfg(test)]
#[path = "reconstruct_tests.rs"]
mod tests;
