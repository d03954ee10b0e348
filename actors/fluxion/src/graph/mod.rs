//! The resource graph: an index-based arena of vertices and subsystem-tagged edges.
//!
//! Vertices and edges are addressed by dense `u32` indices so that the matcher can keep
//! its per-vertex scheduling state in parallel vectors (no `Rc` graphs).

mod intern;
mod paths;

use std::collections::{BTreeMap, HashMap};

pub use intern::{Interner, SubsystemId, TypeId};
pub use paths::Paths;

/// Index of a vertex in [`ResourceGraph::vertices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VertexId(pub u32);

/// Index of an edge in [`ResourceGraph::edges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(pub u32);

impl VertexId {
    /// The index as `usize`, for vector access.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

impl EdgeId {
    /// The index as `usize`, for vector access.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// Whether a vertex may be scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Schedulable.
    #[default]
    Up,
    /// Pruned by the matcher (except for satisfiability checks).
    Down,
}

/// One resource pool (a vertex of the graph).
#[derive(Debug, Clone, PartialEq)]
pub struct Vertex {
    /// Interned resource type (`node`, `core`, ...).
    pub ty: TypeId,
    /// Name stem, defaults to the type name.
    pub basename: String,
    /// Full name, usually `basename + id`.
    pub name: String,
    /// Logical id (-1 = none).
    pub id: i64,
    /// Id unique in the graph.
    pub uniq_id: i64,
    /// Broker rank (-1 = none).
    pub rank: i64,
    /// Pool quantity.
    pub size: i64,
    /// Unit of `size` (e.g. `GB`).
    pub unit: String,
    /// Free-form properties.
    pub properties: BTreeMap<String, String>,
    /// Path of the vertex in each subsystem it belongs to.
    pub paths: Paths,
    /// Up or down.
    pub status: Status,
}

/// A directed edge belonging to one subsystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Parent.
    pub source: VertexId,
    /// Child.
    pub target: VertexId,
    /// The subsystem the edge belongs to.
    pub subsystem: SubsystemId,
}

/// The resource graph plus its lookup indices.
#[derive(Debug, Default, Clone)]
pub struct ResourceGraph {
    /// Type and subsystem name interner.
    pub names: Interner,
    /// All vertices, indexed by [`VertexId`].
    pub vertices: Vec<Vertex>,
    /// All edges, indexed by [`EdgeId`].
    pub edges: Vec<Edge>,
    out_edges: Vec<Vec<EdgeId>>,
    in_edges: Vec<Vec<EdgeId>>,
    /// Root vertex of each subsystem.
    pub roots: HashMap<SubsystemId, VertexId>,
    /// Vertices by type.
    pub by_type: HashMap<TypeId, Vec<VertexId>>,
    /// Vertices by name.
    pub by_name: HashMap<String, Vec<VertexId>>,
    /// Vertex by path (any subsystem).
    pub by_path: HashMap<String, VertexId>,
    /// Vertices by rank.
    pub by_rank: BTreeMap<i64, Vec<VertexId>>,
}

impl ResourceGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of vertices.
    pub fn vertex_count(&self) -> usize {
        self.vertices.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Adds a vertex and indexes it; returns its id.
    pub fn add_vertex(&mut self, v: Vertex) -> VertexId {
        let id = VertexId(self.vertices.len() as u32);
        self.by_type.entry(v.ty).or_default().push(id);
        self.by_name.entry(v.name.clone()).or_default().push(id);
        for path in v.paths.values() {
            self.by_path.insert(path.clone(), id);
        }
        self.by_rank.entry(v.rank).or_default().push(id);
        self.vertices.push(v);
        self.out_edges.push(Vec::new());
        self.in_edges.push(Vec::new());
        id
    }

    /// Adds an edge `source -> target` in `subsystem`; child order is insertion order.
    pub fn add_edge(
        &mut self,
        source: VertexId,
        target: VertexId,
        subsystem: SubsystemId,
    ) -> EdgeId {
        let id = EdgeId(self.edges.len() as u32);
        self.edges.push(Edge {
            source,
            target,
            subsystem,
        });
        self.out_edges[source.idx()].push(id);
        self.in_edges[target.idx()].push(id);
        id
    }

    /// Registers `path` of vertex `v` in `subsystem` (used by the ASSOCIATE generators).
    pub fn set_path(&mut self, v: VertexId, subsystem: SubsystemId, path: String) {
        self.by_path.insert(path.clone(), v);
        self.vertices[v.idx()].paths.insert(subsystem, path);
    }

    /// The vertex data.
    pub fn vertex(&self, v: VertexId) -> &Vertex {
        &self.vertices[v.idx()]
    }

    /// The edge data.
    pub fn edge(&self, e: EdgeId) -> &Edge {
        &self.edges[e.idx()]
    }

    /// Out-edges of `v` in insertion order (all subsystems).
    pub fn out_edges(&self, v: VertexId) -> &[EdgeId] {
        &self.out_edges[v.idx()]
    }

    /// In-edges of `v` (all subsystems).
    pub fn in_edges(&self, v: VertexId) -> &[EdgeId] {
        &self.in_edges[v.idx()]
    }

    /// The parent edge of `v` in `subsystem`, if any.
    pub fn parent_edge(&self, v: VertexId, subsystem: SubsystemId) -> Option<EdgeId> {
        self.in_edges(v)
            .iter()
            .copied()
            .find(|e| self.edge(*e).subsystem == subsystem)
    }

    /// The type name of vertex `v`.
    pub fn type_name(&self, v: VertexId) -> &str {
        self.names.type_name(self.vertex(v).ty)
    }

    /// Root of `subsystem`, if the graph has one.
    pub fn root(&self, subsystem: SubsystemId) -> Option<VertexId> {
        self.roots.get(&subsystem).copied()
    }

    /// Number of vertices of type `node` that are up.
    pub fn nodes_up(&self) -> usize {
        let Some(node) = self.names.find_type("node") else {
            return 0;
        };
        self.by_type
            .get(&node)
            .map(|vs| {
                vs.iter()
                    .filter(|v| self.vertex(**v).status == Status::Up)
                    .count()
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vtx(g: &mut ResourceGraph, ty: &str, id: i64, path: &str) -> Vertex {
        let ty = g.names.intern_type(ty);
        let c = g.names.intern_subsystem("containment");
        let name = format!("{}{}", g.names.type_name(ty), id);
        Vertex {
            ty,
            basename: g.names.type_name(ty).to_string(),
            name,
            id,
            uniq_id: g.vertex_count() as i64,
            rank: -1,
            size: 1,
            unit: String::new(),
            properties: BTreeMap::new(),
            paths: [(c, path.to_string())].into_iter().collect(),
            status: Status::Up,
        }
    }

    #[test]
    fn arena_indices_and_parents() {
        let mut g = ResourceGraph::new();
        let c = g.names.intern_subsystem("containment");
        let v0 = vtx(&mut g, "cluster", 0, "/cluster0");
        let a = g.add_vertex(v0);
        let v1 = vtx(&mut g, "node", 0, "/cluster0/node0");
        let b = g.add_vertex(v1);
        let e = g.add_edge(a, b, c);
        assert_eq!(g.out_edges(a), &[e]);
        assert_eq!(g.parent_edge(b, c), Some(e));
        assert_eq!(g.parent_edge(a, c), None);
        assert_eq!(g.by_path["/cluster0/node0"], b);
        assert_eq!(g.nodes_up(), 1);
        assert_eq!(g.type_name(b), "node");
    }
}
