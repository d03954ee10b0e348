//! Matcher tests over a small generated graph, one per policy and operation.

use super::*;
use crate::error::MatchError;
use crate::jobspec::Jobspec;
use crate::readers::read_grug;

/// cluster0 -> node[2] -> socket[2] -> {core[4] (per node numbering), gpu[1]}
const GRAPH: &str = r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
  <key id="type" for="node" attr.name="type" attr.type="string"/>
  <key id="id_scope" for="edge" attr.name="id_scope" attr.type="int"><default>0</default></key>
  <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
  <graph id="g" edgedefault="directed">
    <node id="c"><data key="root">1</data><data key="type">cluster</data></node>
    <node id="n"><data key="type">node</data></node>
    <node id="s"><data key="type">socket</data></node>
    <node id="k"><data key="type">core</data></node>
    <node id="g"><data key="type">gpu</data></node>
    <edge source="c" target="n"><data key="multi_scale">2</data></edge>
    <edge source="n" target="s"><data key="multi_scale">2</data></edge>
    <edge source="s" target="k"><data key="id_scope">1</data><data key="multi_scale">4</data></edge>
    <edge source="s" target="g"><data key="id_scope">1</data></edge>
  </graph>
</graphml>"#;

fn traverser(policy: &str) -> Traverser {
    let mut g = ResourceGraph::new();
    read_grug(GRAPH, &mut g).unwrap();
    let config = TraverserConfig {
        policy: MatchPolicy::parse(policy).unwrap(),
        ..TraverserConfig::default()
    };
    Traverser::new(g, &config).unwrap()
}

fn jobspec(shape: &str, duration: u32) -> Jobspec {
    Jobspec::parse(&format!(
        "version: 9999\nresources:\n{shape}attributes:\n  system:\n    duration: {duration}\ntasks:\n  - command: [app]\n    slot: t\n    count:\n      per_slot: 1\n"
    ))
    .unwrap()
}

/// node[1] -> slot -> socket[sockets] -> core[n]
fn cores(sockets: u32, n: u32) -> Jobspec {
    jobspec(
        &format!(
            "  - type: node\n    count: 1\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: socket\n            count: {sockets}\n            with:\n              - type: core\n                count: {n}\n"
        ),
        3600,
    )
}

/// n cores of one socket.
fn cores_on_a_node(n: u32) -> Jobspec {
    cores(1, n)
}

/// All eight cores of a node (n = 8), or more (unsatisfiable).
fn whole_node(n: u32) -> Jobspec {
    cores(2, n / 2 + n % 2)
}

/// Exclusive vertices as "parent/child" style full paths, in emission order.
fn taken(t: &Traverser, m: &MatchOutcome) -> Vec<String> {
    let c = t.graph.names.find_subsystem("containment").unwrap();
    m.emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::Vertex {
                v, exclusive: true, ..
            } => Some(t.graph.vertex(*v).paths[&c].clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn high_takes_highest_ids() {
    let mut t = traverser("high");
    let m = t.run(&cores_on_a_node(2), MatchOp::Allocate, 1, 0).unwrap();
    let next = t.run(&cores_on_a_node(3), MatchOp::Allocate, 2, 0).unwrap();
    // socket1 of node1 has two cores left, so three come from socket0.
    assert_eq!(taken(&t, &next)[0], "/cluster0/node1/socket0/core1");
    assert_eq!(
        taken(&t, &m),
        [
            "/cluster0/node1/socket1/core6",
            "/cluster0/node1/socket1/core7",
            "/cluster0/node1/socket1",
        ]
    );
}

#[test]
fn low_takes_lowest_ids() {
    let mut t = traverser("low");
    let m = t.run(&cores_on_a_node(2), MatchOp::Allocate, 1, 0).unwrap();
    assert_eq!(
        taken(&t, &m),
        [
            "/cluster0/node0/socket0/core0",
            "/cluster0/node0/socket0/core1",
            "/cluster0/node0/socket0",
        ]
    );
}

#[test]
fn node_exclusive_policy_takes_whole_nodes() {
    let mut t = traverser("lonodex");
    let m = t.run(&cores_on_a_node(1), MatchOp::Allocate, 1, 0).unwrap();
    let x = taken(&t, &m);
    // The node, both sockets, eight cores and two gpus.
    assert_eq!(x.len(), 1 + 2 + 8 + 2);
    assert!(x.iter().all(|p| p.starts_with("/cluster0/node0")));
    let m = t.run(&cores_on_a_node(1), MatchOp::Allocate, 2, 0).unwrap();
    assert!(
        taken(&t, &m)
            .iter()
            .all(|p| p.starts_with("/cluster0/node1"))
    );
    assert_eq!(
        t.run(&cores_on_a_node(1), MatchOp::Allocate, 3, 0),
        Err(MatchError::Busy)
    );
}

#[test]
fn first_spreads_over_untouched_nodes() {
    let mut t = traverser("first");
    let a = t.run(&cores_on_a_node(1), MatchOp::Allocate, 1, 0).unwrap();
    let b = t.run(&cores_on_a_node(1), MatchOp::Allocate, 2, 0).unwrap();
    assert!(taken(&t, &a)[0].starts_with("/cluster0/node1"));
    assert!(taken(&t, &b)[0].starts_with("/cluster0/node0"));
}

#[test]
fn reserve_cancel_and_satisfiability() {
    let mut t = traverser("low");
    let op = MatchOp::AllocateOrElseReserve;
    for job in 1..=2 {
        assert!(!t.run(&whole_node(8), op, job, 0).unwrap().reserved);
    }
    let busy = t.run(&whole_node(8), MatchOp::Allocate, 3, 0);
    assert_eq!(busy, Err(MatchError::Busy));
    let m = t.run(&whole_node(8), op, 4, 0).unwrap();
    assert!(m.reserved);
    assert_eq!(m.at, 3600);
    t.cancel(1).unwrap();
    let m = t.run(&whole_node(8), MatchOp::Allocate, 5, 0).unwrap();
    assert!(taken(&t, &m)[0].starts_with("/cluster0/node0"));
    let never = t.run(&whole_node(10), MatchOp::Satisfiability, 0, 0);
    assert_eq!(never, Err(MatchError::Unsatisfiable));
    assert!(t.run(&whole_node(8), MatchOp::Satisfiability, 0, 0).is_ok());
    assert_eq!(
        t.run(&whole_node(10), op, 6, 0),
        Err(MatchError::Unsatisfiable)
    );
}

#[test]
fn root_filter_tracks_bookings() {
    let mut t = traverser("high");
    let root = t.root();
    let core = t.graph.names.find_type("core").unwrap();
    let filter = t.vertex_sched(root).subplan.as_ref().unwrap();
    let i = filter.types().iter().position(|ty| *ty == core).unwrap();
    assert_eq!(filter.avail_at(0, i).unwrap(), 16);
    t.run(&cores_on_a_node(3), MatchOp::Allocate, 1, 0).unwrap();
    let filter = t.vertex_sched(root).subplan.as_ref().unwrap();
    assert_eq!(filter.avail_at(0, i).unwrap(), 13);
    assert_eq!(filter.avail_at(3600, i).unwrap(), 16);
    t.cancel(1).unwrap();
    let filter = t.vertex_sched(root).subplan.as_ref().unwrap();
    assert_eq!(filter.avail_at(0, i).unwrap(), 16);
}

#[test]
fn omitted_prefix_and_slot_at_top() {
    let mut t = traverser("high");
    let js = jobspec(
        "  - type: slot\n    count: 3\n    label: t\n    with:\n      - type: gpu\n        count: 1\n",
        60,
    );
    let m = t.run(&js, MatchOp::Allocate, 1, 0).unwrap();
    assert_eq!(taken(&t, &m).len(), 3);
    let more = jobspec(
        "  - type: slot\n    count: 2\n    label: t\n    with:\n      - type: gpu\n        count: 1\n",
        60,
    );
    assert_eq!(t.run(&more, MatchOp::Allocate, 2, 0), Err(MatchError::Busy));
}

#[test]
fn hot_structs_stay_small() {
    // Per-vertex state is replicated for every vertex; keep it compact.
    assert!(std::mem::size_of::<crate::graph::Vertex>() <= 160);
    assert!(std::mem::size_of::<VertexSched>() <= 288);
    assert_eq!(std::mem::size_of::<crate::graph::Edge>(), 12);
}

#[test]
fn locality_prefers_the_highest_contiguous_run() {
    let recipe = r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
      <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
      <key id="type" for="node" attr.name="type" attr.type="string"/>
      <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
      <graph id="g" edgedefault="directed">
        <node id="c"><data key="root">1</data><data key="type">cluster</data></node>
        <node id="n"><data key="type">node</data></node>
        <node id="k"><data key="type">core</data></node>
        <edge source="c" target="n"><data key="multi_scale">4</data></edge>
        <edge source="n" target="k"><data key="multi_scale">2</data></edge>
      </graph></graphml>"#;
    let one_node = jobspec(
        "  - type: node\n    count: 1\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: core\n            count: 2\n",
        60,
    );
    let node_of = |t: &Traverser, m: &MatchOutcome| {
        taken(t, m)[0]
            .split('/')
            .nth(2)
            .unwrap_or_default()
            .to_string()
    };
    let mut g = ResourceGraph::new();
    read_grug(recipe, &mut g).unwrap();
    let policy = MatchPolicy::parse("locality").unwrap();
    let mut t = Traverser::new(
        g,
        &TraverserConfig {
            policy,
            ..TraverserConfig::default()
        },
    )
    .unwrap();
    // All free nodes form one run of scores, so ties keep graph order: node0, 1, 2.
    for (job, want) in [(1, "node0"), (2, "node1"), (3, "node2")] {
        let m = t.run(&one_node, MatchOp::Allocate, job, 0).unwrap();
        assert_eq!(node_of(&t, &m), want);
    }
    // Free ids {0, 2, 3}: runs [0] and [2, 3]; the higher run wins, first in it is node2
    // (high would take node3).
    t.cancel(1).unwrap();
    t.cancel(3).unwrap();
    let m = t.run(&one_node, MatchOp::Allocate, 4, 0).unwrap();
    assert_eq!(node_of(&t, &m), "node2");
}

#[test]
fn allocation_is_rebuilt_from_its_jgf() {
    let mut first = traverser("high");
    let m = first.run(&whole_node(8), MatchOp::Allocate, 1, 0).unwrap();
    let jgf = crate::writers::jgf_object(&first.graph, &m.emitted);
    let mut again = traverser("high");
    let rebuilt = again.update_from_jgf(&jgf, 1, 0, 3600, false).unwrap();
    assert_eq!(taken(&again, &rebuilt), taken(&first, &m));
    // The rebuilt job holds node1, so the next whole-node job lands on node0.
    let next = again.run(&whole_node(8), MatchOp::Allocate, 2, 0).unwrap();
    assert!(taken(&again, &next)[0].starts_with("/cluster0/node0"));
    assert!(again.update_from_jgf(&jgf, 3, 0, 0, false).is_err());
}

#[test]
fn partial_cancel_releases_ranks() {
    let mut t = traverser("low");
    let both = jobspec(
        "  - type: node\n    count: 2\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: socket\n            count: 2\n            with:\n              - type: core\n                count: 4\n",
        3600,
    );
    t.run(&both, MatchOp::Allocate, 1, 0).unwrap();
    assert_eq!(
        t.run(&whole_node(8), MatchOp::Allocate, 2, 0),
        Err(MatchError::Busy)
    );
    assert!(!t.partial_cancel(1, &[0]).unwrap());
    let m = t.run(&whole_node(8), MatchOp::Allocate, 3, 0).unwrap();
    assert!(taken(&t, &m)[0].starts_with("/cluster0/node0"));
    assert!(t.partial_cancel(1, &[1]).unwrap());
    let core = t.graph.names.find_type("core").unwrap();
    let filter = t.vertex_sched(t.root()).subplan.as_ref().unwrap();
    let i = filter.types().iter().position(|ty| *ty == core).unwrap();
    assert_eq!(filter.avail_at(0, i).unwrap(), 8);
    assert!(t.vertex_sched(t.root()).jobs().tags.iter().all(|j| *j == 3));
}

#[test]
fn constraints_restrict_nodes() {
    let mut t = traverser("high");
    t.set_property("/cluster0/node0", "fast", "").unwrap();
    let text = "version: 1\nresources:\n  - type: node\n    count: 1\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: socket\n            count: 1\n            with:\n              - type: core\n                count: 1\nattributes:\n  system:\n    duration: 60\n    constraints:\n      properties: [fast]\ntasks:\n  - command: [app]\n    slot: t\n    count:\n      per_slot: 1\n";
    let js = Jobspec::parse(text).unwrap();
    // high would pick node1; the constraint leaves only node0.
    let m = t.run(&js, MatchOp::Allocate, 1, 0).unwrap();
    assert!(taken(&t, &m)[0].starts_with("/cluster0/node0"));
    let not_fast = Jobspec::parse(&text.replace("[fast]", "[^fast]")).unwrap();
    let m = t.run(&not_fast, MatchOp::Allocate, 2, 0).unwrap();
    assert!(taken(&t, &m)[0].starts_with("/cluster0/node1"));
    let none = Jobspec::parse(&text.replace("[fast]", "[missing]")).unwrap();
    assert_eq!(t.run(&none, MatchOp::Allocate, 3, 0), Err(MatchError::Busy));
    assert_eq!(
        t.run(&none, MatchOp::Satisfiability, 0, 0),
        Err(MatchError::Unsatisfiable)
    );
}
