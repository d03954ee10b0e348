//! Graph administration used by resource-query: vertex properties and status.

use super::Traverser;
use crate::error::MatchError;
use crate::graph::{Status, VertexId};

impl Traverser {
    fn by_path(&self, path: &str) -> Result<VertexId, MatchError> {
        self.graph.by_path.get(path).copied().ok_or_else(|| {
            MatchError::Invalid(format!("couldn't find path {path} in resource graph"))
        })
    }

    /// Sets property `key=value` on the vertex at `path`.
    pub fn set_property(&mut self, path: &str, key: &str, value: &str) -> Result<(), MatchError> {
        let v = self.by_path(path)?;
        self.graph.vertices[v.idx()]
            .properties
            .insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// The properties of the vertex at `path`, with its uniq_id.
    pub fn properties(&self, path: &str) -> Result<(i64, Vec<(String, String)>), MatchError> {
        let v = self.graph.vertex(self.by_path(path)?);
        Ok((
            v.uniq_id,
            v.properties
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }

    /// Marks the vertex at `path` up or down (down vertices are pruned).
    pub fn set_status(&mut self, path: &str, status: Status) -> Result<(), MatchError> {
        let v = self.by_path(path)?;
        self.graph.vertices[v.idx()].status = status;
        self.nodes_up = self.graph.nodes_up();
        Ok(())
    }

    /// The status of the vertex at `path`.
    pub fn status(&self, path: &str) -> Result<Status, MatchError> {
        Ok(self.graph.vertex(self.by_path(path)?).status)
    }

    /// Marks every vertex of broker rank `rank` up or down; `false` if the graph has no
    /// vertex of that rank.
    pub fn set_rank_status(&mut self, rank: i64, status: Status) -> bool {
        let Some(vertices) = self.graph.by_rank.get(&rank) else {
            return false;
        };
        for v in vertices.clone() {
            self.graph.vertices[v.idx()].status = status;
        }
        self.nodes_up = self.graph.nodes_up();
        true
    }

    /// The broker ranks the graph knows, in order.
    pub fn ranks(&self) -> Vec<i64> {
        self.graph
            .by_rank
            .keys()
            .copied()
            .filter(|r| *r >= 0)
            .collect()
    }
}
