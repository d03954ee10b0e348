//! The JGF match writer: the selected vertices (post-order) and the edges between them.

use super::encode::{Obj, array, json_str};
use crate::graph::ResourceGraph;
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
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for e in emitted {
        match e {
            Emitted::Vertex {
                v,
                needs,
                exclusive,
                ..
            } => nodes.push(node_json(g, *v, *needs, *exclusive)),
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
    Obj::new().raw("graph", graph.render()).render()
}
