//! R (RFC 20) writers: `rlite`, `rv1_nosched` and `rv1` (with the JGF scheduling key).

use std::collections::{BTreeMap, BTreeSet};

use super::encode::{Obj, array, hostlist, idset, json_str};
use crate::graph::{ResourceGraph, VertexId};
use crate::traverser::Emitted;

/// Per-node content of a match: node vertex -> (core ids, gpu ids).
fn per_node(g: &ResourceGraph, emitted: &[Emitted]) -> BTreeMap<VertexId, (Vec<i64>, Vec<i64>)> {
    let mut out: BTreeMap<VertexId, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    let containment = g.names.find_subsystem("containment");
    for e in emitted {
        let Emitted::Vertex { v, .. } = e else {
            continue;
        };
        let ty = g.type_name(*v);
        if ty == "node" || ty == "storage_node" {
            out.entry(*v).or_default();
            continue;
        }
        if ty != "core" && ty != "gpu" {
            continue;
        }
        // Attribute the leaf to its enclosing node.
        let mut cur = *v;
        let node = loop {
            let Some(pe) = containment.and_then(|s| g.parent_edge(cur, s)) else {
                break None;
            };
            cur = g.edge(pe).source;
            let t = g.type_name(cur);
            if t == "node" || t == "storage_node" {
                break Some(cur);
            }
        };
        if let Some(n) = node {
            let entry = out.entry(n).or_default();
            if ty == "core" {
                entry.0.push(g.vertex(*v).id);
            } else {
                entry.1.push(g.vertex(*v).id);
            }
        }
    }
    out
}

/// The R_lite array: nodes grouped by identical children, ordered by the children text.
pub fn r_lite(g: &ResourceGraph, emitted: &[Emitted]) -> String {
    let mut groups: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (node, (cores, gpus)) in per_node(g, emitted) {
        let mut children = Obj::new();
        if !cores.is_empty() {
            children = children.str("core", &idset(&cores));
        }
        if !gpus.is_empty() {
            children = children.str("gpu", &idset(&gpus));
        }
        groups
            .entry(children.render())
            .or_default()
            .push(g.vertex(node).rank);
    }
    let entries: Vec<String> = groups
        .iter()
        .map(|(children, ranks)| {
            Obj::new()
                .str("rank", &idset(ranks))
                .raw("children", children.clone())
                .render()
        })
        .collect();
    array(&entries)
}

/// RFC 20 R, optionally with the `scheduling` key holding `jgf`.
pub fn rv1(
    g: &ResourceGraph,
    emitted: &[Emitted],
    start: i64,
    end: i64,
    jgf: Option<&str>,
) -> String {
    let nodes = per_node(g, emitted);
    let mut by_rank: Vec<(i64, String)> = nodes
        .keys()
        .map(|n| (g.vertex(*n).rank, g.vertex(*n).name.clone()))
        .collect();
    by_rank.sort();
    let names: Vec<String> = by_rank.iter().map(|(_, n)| n.clone()).collect();
    let mut props: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for n in nodes.keys() {
        for k in g.vertex(*n).properties.keys() {
            props
                .entry(k.clone())
                .or_default()
                .insert(g.vertex(*n).rank);
        }
    }
    let mut exec = Obj::new().raw("R_lite", r_lite(g, emitted));
    exec = exec.raw("nodelist", array(&[json_str(&hostlist(&names))]));
    if !props.is_empty() {
        let mut p = Obj::new();
        for (k, ranks) in &props {
            p = p.str(k, &idset(&ranks.iter().copied().collect::<Vec<_>>()));
        }
        exec = exec.raw("properties", p.render());
    }
    exec = exec
        .raw("starttime", start.to_string())
        .raw("expiration", end.to_string());
    let mut r = Obj::new()
        .raw("version", "1")
        .raw("execution", exec.render());
    if let Some(j) = jgf {
        r = r.raw("scheduling", j.to_string());
    }
    r.render()
}
