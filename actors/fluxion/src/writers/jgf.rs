//! The JGF match writer: the selected vertices (post-order) and the edges between them.

use std::collections::HashSet;

use super::encode::{Obj, array, json_str};
use crate::graph::{ResourceGraph, VertexId};
use crate::traverser::Emitted;

fn node_json(g: &ResourceGraph, v: crate::graph::VertexId, needs: i64, exclusive: bool) -> String {
    let x = g.vertex(v);
    let ty = g.names.type_name(x.ty);
    let mut m = Obj::new().str("type", ty);
    if x.basename != ty {
        m = m.str("basename", &x.basename);
    }
    if x.name != format!("{}{}", x.basename, x.id) {
        m = m.str("name", &x.name);
    }
    m = m
        .raw("id", x.id.to_string())
        .raw("rank", x.rank.to_string());
    if !x.properties.is_empty() {
        let mut p = Obj::new();
        for (k, val) in &x.properties {
            p = p.str(k, val);
        }
        m = m.raw("properties", p.render());
    }
    if !x.unit.is_empty() {
        m = m.str("unit", &x.unit);
    }
    if exclusive {
        m = m.raw("exclusive", "true");
    }
    if needs != 1 {
        m = m.raw("size", needs.to_string());
    }
    let mut paths: Vec<(&str, &str)> = x
        .paths
        .iter()
        .map(|(s, p)| (g.names.subsystem_name(*s), p.as_str()))
        .collect();
    paths.sort();
    let mut po = Obj::new();
    for (s, p) in paths {
        po = po.str(s, p);
    }
    m = m.raw("paths", po.render());
    Obj::new()
        .str("id", &x.uniq_id.to_string())
        .raw("metadata", m.render())
        .render()
}

/// The `{"graph": {...}}` object of a match (no trailing newline).
pub fn jgf_object(g: &ResourceGraph, emitted: &[Emitted]) -> String {
    jgf_filtered(g, emitted, &HashSet::new(), false)
}

/// Vertices whose emitted parent is exclusive (their whole subtree is implied by it).
fn under_exclusive(emitted: &[Emitted]) -> HashSet<VertexId> {
    // Reverse post-order visits every parent before its children; a stack of
    // (level, exclusive) holds the current ancestors.
    let mut out = HashSet::new();
    let mut stack: Vec<(u32, bool, bool)> = Vec::new();
    for e in emitted.iter().rev() {
        let Emitted::Vertex {
            v,
            level,
            exclusive,
            ..
        } = e
        else {
            continue;
        };
        while stack.last().is_some_and(|(l, _, _)| *l >= *level) {
            stack.pop();
        }
        // Omitted if the parent is exclusive or was itself omitted.
        let omitted = stack.last().is_some_and(|(_, x, o)| *x || *o);
        if omitted {
            out.insert(*v);
        }
        stack.push((*level, *exclusive, omitted));
    }
    out
}

/// JGF without the subtrees below exclusive vertices; marked with a top-level `writer`
/// key when something was left out.
pub fn jgf_shorthand_object(g: &ResourceGraph, emitted: &[Emitted]) -> String {
    let omit = under_exclusive(emitted);
    let marked = !omit.is_empty();
    jgf_filtered(g, emitted, &omit, marked)
}

fn jgf_filtered(
    g: &ResourceGraph,
    emitted: &[Emitted],
    omit: &HashSet<VertexId>,
    marked: bool,
) -> String {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for e in emitted {
        match e {
            Emitted::Vertex { v, .. } if omit.contains(v) => {}
            Emitted::Vertex {
                v,
                needs,
                exclusive,
                ..
            } => nodes.push(node_json(g, *v, *needs, *exclusive)),
            Emitted::Edge(e) if omit.contains(&g.edge(*e).target) => {}
            Emitted::Edge(e) => {
                let edge = g.edge(*e);
                let mut o = Obj::new()
                    .str("source", &g.vertex(edge.source).uniq_id.to_string())
                    .str("target", &g.vertex(edge.target).uniq_id.to_string());
                let s = g.names.subsystem_name(edge.subsystem);
                if s != "containment" {
                    o = o.raw("metadata", format!("{{\"subsystem\": {}}}", json_str(s)));
                }
                edges.push(o.render());
            }
        }
    }
    let graph = Obj::new()
        .raw("nodes", array(&nodes))
        .raw("edges", array(&edges));
    let mut top = Obj::new().raw("graph", graph.render());
    if marked {
        top = top.str("writer", "fluxion:jgf_shorthand");
    }
    top.render()
}
