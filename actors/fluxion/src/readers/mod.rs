//! Graph readers (GRUG recipes, JGF, R, hwloc XML) and the load allowlist.

mod grug;
mod hwloc;
mod jgf;
mod rv1exec;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use grug::read_grug;
pub use hwloc::read_hwloc;
pub use jgf::read_jgf;
pub use rv1exec::{decode_hostlist, decode_idset, read_rv1exec};

use crate::error::ReaderError;
use crate::graph::{ResourceGraph, Status, SubsystemId, Vertex, VertexId};

/// Supported load formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadFormat {
    /// GraphML generation recipe.
    Grug,
    /// JSON Graph Format.
    Jgf,
    /// RFC 20 R without a `scheduling` key.
    Rv1exec,
    /// hwloc XML topology of one machine.
    Hwloc,
}

impl std::str::FromStr for LoadFormat {
    type Err = ReaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "grug" => Ok(Self::Grug),
            "jgf" => Ok(Self::Jgf),
            "rv1exec" | "rv1exec_force" => Ok(Self::Rv1exec),
            "hwloc" => Ok(Self::Hwloc),
            other => Err(ReaderError::Invalid(format!(
                "unsupported load format: {other}"
            ))),
        }
    }
}

/// Reads `text` in `format`, keeping only the allowlisted types (if any).
///
/// hwloc XML is read with broker rank -1 and no default hostname, as `resource-query`
/// does.
pub fn load(
    text: &str,
    format: LoadFormat,
    allowlist: Option<&str>,
) -> Result<ResourceGraph, ReaderError> {
    let mut g = ResourceGraph::new();
    match format {
        LoadFormat::Grug => read_grug(text, &mut g)?,
        LoadFormat::Jgf => read_jgf(text, &mut g)?,
        LoadFormat::Rv1exec => read_rv1exec(text, &mut g)?,
        // The hwloc reader skips objects while it walks (as Fluxion's does), so the
        // vertices it keeps get consecutive unique ids.
        LoadFormat::Hwloc => {
            read_hwloc(text, &mut g, allowlist, -1, None)?;
            return Ok(g);
        }
    }
    match allowlist {
        Some(list) if !list.is_empty() => Ok(filter_allowlist(&g, list)),
        _ => Ok(g),
    }
}

/// The types of a comma-separated allowlist, plus `cluster` (always kept).
pub(crate) fn allowed_types(list: &str) -> BTreeSet<&str> {
    std::iter::once("cluster")
        .chain(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
        .collect()
}

/// Adds a `containment` vertex of `size` (its unique id is its index) and indexes it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_containment_vertex(
    g: &mut ResourceGraph,
    ty: &str,
    basename: &str,
    name: String,
    id: i64,
    rank: i64,
    size: i64,
    path: String,
) -> VertexId {
    let t = g.names.intern_type(ty);
    let c = g.names.intern_subsystem("containment");
    let uniq_id = g.vertex_count() as i64;
    g.add_vertex(Vertex {
        ty: t,
        basename: basename.to_string(),
        name,
        id,
        uniq_id,
        rank,
        size,
        unit: String::new(),
        properties: BTreeMap::new(),
        paths: [(c, path)].into_iter().collect(),
        status: Status::Up,
    })
}

/// Keeps only vertices whose type is in the comma-separated `list` (plus `cluster`);
/// children of a dropped vertex attach to the nearest kept ancestor.
pub fn filter_allowlist(g: &ResourceGraph, list: &str) -> ResourceGraph {
    let allowed = allowed_types(list);
    let mut out = ResourceGraph::new();
    let mut map: HashMap<VertexId, VertexId> = HashMap::new();
    let mut subsystems: Vec<(SubsystemId, VertexId)> =
        g.roots.iter().map(|(s, v)| (*s, *v)).collect();
    subsystems.sort();
    for (s, root) in subsystems {
        let sname = g.names.subsystem_name(s).to_string();
        let new_s = out.names.intern_subsystem(&sname);
        // Depth-first copy; `kept` is the nearest kept ancestor in the new graph.
        let mut stack: Vec<(VertexId, Option<VertexId>)> = vec![(root, None)];
        while let Some((v, kept)) = stack.pop() {
            let keep = allowed.contains(g.type_name(v));
            let here = if keep {
                let nv = *map.entry(v).or_insert_with(|| {
                    let mut vx = g.vertex(v).clone();
                    vx.ty = out.names.intern_type(g.type_name(v));
                    vx.paths = vx
                        .paths
                        .iter()
                        .map(|(ps, p)| {
                            (
                                out.names.intern_subsystem(g.names.subsystem_name(*ps)),
                                p.clone(),
                            )
                        })
                        .collect();
                    out.add_vertex(vx)
                });
                match kept {
                    Some(parent) => {
                        out.add_edge(parent, nv, new_s);
                    }
                    None => {
                        out.roots.insert(new_s, nv);
                    }
                }
                Some(nv)
            } else {
                kept
            };
            let children: Vec<VertexId> = g
                .out_edges(v)
                .iter()
                .filter(|e| g.edge(**e).subsystem == s)
                .map(|e| g.edge(*e).target)
                .collect();
            for c in children.into_iter().rev() {
                stack.push((c, here));
            }
        }
    }
    out
}

/// A host name's stem and its trailing decimal digits, if any (`node12` -> `node`, `12`).
pub(crate) fn split_trailing_digits(name: &str) -> (&str, Option<&str>) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match &name[stem.len()..] {
        "" => (name, None),
        digits => (stem, Some(digits)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_reattaches_children() {
        let text = r#"{"graph": {"nodes": [
            {"id": "0", "metadata": {"type": "cluster", "paths": {"containment": "/c0"}}},
            {"id": "1", "metadata": {"type": "node", "paths": {"containment": "/c0/node0"}}},
            {"id": "2", "metadata": {"type": "socket", "paths": {"containment": "/c0/node0/socket0"}}},
            {"id": "3", "metadata": {"type": "core", "paths": {"containment": "/c0/node0/socket0/core0"}}}
          ], "edges": [{"source": "0", "target": "1"}, {"source": "1", "target": "2"}, {"source": "2", "target": "3"}]}}"#;
        let g = load(text, LoadFormat::Jgf, Some("node,core")).unwrap();
        assert_eq!(g.vertex_count(), 3);
        let core = g.by_type[&g.names.find_type("core").unwrap()][0];
        let c = g.names.find_subsystem("containment").unwrap();
        let parent = g.edge(g.parent_edge(core, c).unwrap()).source;
        assert_eq!(g.type_name(parent), "node");
    }
}
