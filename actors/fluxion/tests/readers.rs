//! GRUG expansion must produce the same graph as its checked-in JGF twin.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flux_fluxion::graph::ResourceGraph;
use flux_fluxion::readers::{LoadFormat, load};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fluxion-data");
    d.join("MANIFEST.tsv").exists().then_some(d)
}

/// What is compared per vertex: uniq_id, type, name, id, rank, size, unit, paths.
type VertexRow = (
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    Vec<(String, String)>,
);

/// One row per vertex.
fn vertices(g: &ResourceGraph) -> BTreeSet<VertexRow> {
    g.vertices
        .iter()
        .map(|v| {
            let mut paths: Vec<(String, String)> = v
                .paths
                .iter()
                .map(|(s, p)| (g.names.subsystem_name(*s).to_string(), p.clone()))
                .collect();
            paths.sort();
            (
                v.uniq_id,
                g.names.type_name(v.ty).to_string(),
                v.name.clone(),
                v.id,
                // power.json carries broker ranks below nodes too; GRUG ranks only nodes.
                if g.names.type_name(v.ty) == "node" {
                    v.rank
                } else {
                    -1
                },
                v.size,
                v.unit.clone(),
                paths,
            )
        })
        .collect()
}

/// (source uniq_id, target uniq_id, subsystem) per edge.
fn edges(g: &ResourceGraph) -> BTreeSet<(i64, i64, String)> {
    g.edges
        .iter()
        .map(|e| {
            (
                g.vertex(e.source).uniq_id,
                g.vertex(e.target).uniq_id,
                g.names.subsystem_name(e.subsystem).to_string(),
            )
        })
        .collect()
}

fn same_graph(grug: &str, jgf: &str) {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let a = load(
        &std::fs::read_to_string(d.join(grug)).unwrap(),
        LoadFormat::Grug,
        None,
    )
    .unwrap();
    let b = load(
        &std::fs::read_to_string(d.join(jgf)).unwrap(),
        LoadFormat::Jgf,
        None,
    )
    .unwrap();
    assert_eq!(a.vertex_count(), b.vertex_count());
    let (va, vb) = (vertices(&a), vertices(&b));
    let only_a: Vec<_> = va.difference(&vb).take(3).collect();
    let only_b: Vec<_> = vb.difference(&va).take(3).collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "grug only: {only_a:?}\njgf only: {only_b:?}"
    );
    let (ea, eb) = (edges(&a), edges(&b));
    let only_a: Vec<_> = ea.difference(&eb).take(3).collect();
    let only_b: Vec<_> = eb.difference(&ea).take(3).collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "grug only: {only_a:?}\njgf only: {only_b:?}"
    );
}

#[test]
fn tiny_grug_matches_tiny_jgf() {
    same_graph("grugs/tiny.graphml", "jgfs/tiny.json");
}

#[test]
fn power_grug_matches_power_jgf() {
    same_graph("grugs/power.graphml", "jgfs/power.json");
}
