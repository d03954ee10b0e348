//! Booking existing allocations (R with and without the JGF `scheduling` key).

use serde_json::{Value, json};

use crate::error::MatchError;
use crate::graph::ResourceGraph;
use crate::jobspec::Jobspec;
use crate::readers::read_rv1exec;
use crate::traverser::{Emitted, MatchOp, Traverser, TraverserConfig};
use crate::writers::{jgf_object, rv1};

/// Two nodes (ranks 0-1) of four cores and one gpu each, as R describes an instance.
fn traverser() -> Traverser {
    let r = json!({"version": 1, "execution": {
        "R_lite": [{"rank": "0-1", "children": {"core": "0-3", "gpu": "0"}}],
        "nodelist": ["node[0-1]"], "starttime": 0, "expiration": 0}});
    let mut g = ResourceGraph::new();
    read_rv1exec(&r.to_string(), &mut g).unwrap();
    Traverser::new(g, &TraverserConfig::default()).unwrap()
}

/// An allocation as sched-simple writes it: R_lite only.
fn alloc(rank: &str, cores: &str, start: f64, expiration: f64) -> Value {
    json!({"version": 1, "execution": {
        "R_lite": [{"rank": rank, "children": {"core": cores}}],
        "nodelist": ["node0"], "starttime": start, "expiration": expiration}})
}

/// `cores` cores on one node.
fn cores(n: u32) -> Jobspec {
    Jobspec::parse(&format!(
        "version: 9999\nresources:\n  - type: node\n    count: 1\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: core\n            count: {n}\nattributes:\n  system:\n    duration: 3600\ntasks:\n  - command: [app]\n    slot: t\n    count:\n      per_slot: 1\n"
    ))
    .unwrap()
}

/// The exclusively held vertices, as `rank:name`.
fn held(t: &Traverser, emitted: &[Emitted]) -> Vec<String> {
    let mut out: Vec<String> = emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::Vertex {
                v, exclusive: true, ..
            } => {
                let v = t.graph.vertex(*v);
                Some(format!("{}:{}", v.rank, v.name))
            }
            _ => None,
        })
        .collect();
    out.sort();
    out
}

#[test]
fn r_lite_books_the_named_cores_until_cancelled() {
    let mut t = traverser();
    let booked = t.update_from_r(&alloc("1", "2-3", 100.0, 0.0), 7).unwrap();
    assert_eq!(held(&t, &booked.emitted), ["1:core2", "1:core3"]);
    assert_eq!((booked.at, booked.end), (100, t.graph_end()));
    assert!(t.job_booked(7));
    // Node 0 is whole, node 1 is not.
    let m = t.run(&cores(4), MatchOp::Allocate, 1, 200).unwrap();
    assert!(held(&t, &m.emitted).iter().all(|v| v.starts_with("0:")));
    assert_eq!(
        t.run(&cores(4), MatchOp::Allocate, 2, 200),
        Err(MatchError::Busy)
    );
    let m = t.run(&cores(2), MatchOp::Allocate, 3, 200).unwrap();
    assert_eq!(held(&t, &m.emitted), ["1:core0", "1:core1"]);
    t.cancel(3).unwrap();
    t.cancel(7).unwrap();
    assert!(!t.job_booked(7));
    t.run(&cores(4), MatchOp::Allocate, 2, 200).unwrap();
}

#[test]
fn r_lite_books_over_starttime_to_expiration() {
    let mut t = traverser();
    t.update_from_r(&alloc("0-1", "0-3", 100.5, 199.5), 7)
        .unwrap();
    assert_eq!(
        t.run(&cores(1), MatchOp::Allocate, 1, 150),
        Err(MatchError::Busy)
    );
    // The cores are free from R's expiration on: a reservation starts there.
    let m = t
        .run(&cores(1), MatchOp::AllocateOrElseReserve, 1, 150)
        .unwrap();
    assert_eq!((m.at, m.reserved), (200, true));
    // Without an expiration, the job holds its cores to the end of the graph window.
    let mut t = traverser();
    t.update_from_r(&alloc("0-1", "0-3", 100.0, 0.0), 7)
        .unwrap();
    assert_eq!(
        t.run(&cores(1), MatchOp::AllocateOrElseReserve, 1, 150),
        Err(MatchError::Busy)
    );
}

#[test]
fn r_lite_books_gpus_with_cores() {
    let mut t = traverser();
    let r = json!({"version": 1, "execution": {
        "R_lite": [{"rank": "0", "children": {"core": "0", "gpu": "0"}}],
        "starttime": 0, "expiration": 0}});
    let booked = t.update_from_r(&r, 7).unwrap();
    assert_eq!(held(&t, &booked.emitted), ["0:core0", "0:gpu0"]);
}

#[test]
fn r_lite_naming_what_the_graph_lacks_is_refused() {
    let mut t = traverser();
    assert_eq!(
        t.update_from_r(&alloc("5", "0", 0.0, 0.0), 7),
        Err(MatchError::UnknownRank(5))
    );
    assert_eq!(
        t.update_from_r(&alloc("0-1", "3-4", 0.0, 0.0), 7),
        Err(MatchError::UnknownResource {
            rank: 0,
            kind: "core".into(),
            id: 4
        })
    );
    let r = json!({"version": 1, "execution": {
        "R_lite": [{"rank": "0", "children": {"fpga": "0"}}], "starttime": 0}});
    assert!(matches!(
        t.update_from_r(&r, 7),
        Err(MatchError::UnknownResource { .. })
    ));
    assert!(matches!(
        t.update_from_r(&json!({"version": 1}), 7),
        Err(MatchError::Invalid(_))
    ));
    // Nothing was left behind by the failures.
    assert!(!t.job_booked(7));
    t.run(&cores(4), MatchOp::Allocate, 1, 10).unwrap();
    t.run(&cores(4), MatchOp::Allocate, 2, 10).unwrap();
}

#[test]
fn r_lite_overlapping_an_allocation_is_refused_and_leaves_nothing() {
    let mut t = traverser();
    t.update_from_r(&alloc("0", "0-1", 0.0, 0.0), 1).unwrap();
    assert_eq!(
        t.update_from_r(&alloc("0", "1-2", 0.0, 0.0), 2),
        Err(MatchError::AlreadyAllocated {
            rank: 0,
            kind: "core".into(),
            id: 1
        })
    );
    assert!(!t.job_booked(2));
    assert_eq!(
        t.update_from_r(&alloc("0", "0-1", 0.0, 0.0), 1),
        Err(MatchError::JobExists(1))
    );
    t.update_from_r(&alloc("0", "2-3", 0.0, 0.0), 3).unwrap();
    // Node 0 is full.
    let m = t.run(&cores(1), MatchOp::Allocate, 4, 10).unwrap();
    assert!(held(&t, &m.emitted)[0].starts_with("1:"));
    assert_eq!(
        t.run(&cores(4), MatchOp::Allocate, 5, 10),
        Err(MatchError::Busy)
    );
}

#[test]
fn r_with_scheduling_books_through_its_jgf() {
    let mut t = traverser();
    let m = t.run(&cores(3), MatchOp::Allocate, 1, 100).unwrap();
    let jgf = jgf_object(&t.graph, &m.emitted);
    let r: Value = serde_json::from_str(&rv1(&t.graph, &m.emitted, 100, 0, Some(&jgf))).unwrap();
    assert!(r.get("scheduling").is_some());
    t.cancel(1).unwrap();
    let booked = t.update_from_r(&r, 9).unwrap();
    let cores_held = held(&t, &booked.emitted);
    assert_eq!(cores_held, held(&t, &m.emitted));
    // The other node is the only one with four free cores.
    let node = &cores_held[0][..2];
    let m = t.run(&cores(4), MatchOp::Allocate, 2, 100).unwrap();
    assert!(!held(&t, &m.emitted)[0].starts_with(node));
    assert_eq!(
        t.run(&cores(2), MatchOp::Allocate, 3, 100),
        Err(MatchError::Busy)
    );
}
