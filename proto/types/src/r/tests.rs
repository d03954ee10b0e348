use serde_json::json;

use super::*;

fn ids(s: &str) -> IdSet {
    s.parse().unwrap()
}

fn pool() -> ResourceSet {
    ResourceSet::from_nodes([
        (0, "node0", ids("0-3"), ids("")),
        (1, "node1", ids("0-3"), ids("")),
        (2, "node2", ids("0-3"), ids("0-1")),
    ])
    .unwrap()
}

#[test]
fn flux_resource_r_example_round_trips() {
    let text = r#"{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-3"}}],"starttime":0.0,"expiration":0.0,"nodelist":["pi,pi"]}}"#;
    let r = ResourceSet::parse(text).unwrap();
    assert_eq!(r.nnodes(), 2);
    assert_eq!(r.ncores(), 8);
    assert_eq!(r.hostname(1), Some("pi"));
    assert_eq!(r.ranks_of_host("pi"), ids("0-1"));
    assert_eq!(r.to_json(), text);
}

#[test]
fn rfc20_example() {
    let r = ResourceSet::from_value(json!({"version": 1,
        "execution": {
            "R_lite": [{"rank": "19-22", "children": {"core": "0-47", "gpu": "0-7"}}],
            "nodelist": ["node[186-189]"],
            "nslots": 32, "starttime": 1676560542, "expiration": 1676562342}}))
    .unwrap();
    assert_eq!((r.nnodes(), r.ncores(), r.ngpus()), (4, 192, 32));
    assert_eq!(r.hostname(20), Some("node187"));
    assert_eq!(r.nslots, Some(32));
    assert_eq!(r.expiration, 1676562342.0);
    assert_eq!(
        r.to_json(),
        r#"{"version":1,"execution":{"R_lite":[{"rank":"19-22","children":{"core":"0-47","gpu":"0-7"}}],"nslots":32,"starttime":1676560542.0,"expiration":1676562342.0,"nodelist":["node[186-189]"]}}"#
    );
    assert_eq!(r.to_rlist_string(), "rank[19-22]/core[0-47],gpu[0-7]");
}

#[test]
fn build_group_and_serialize() {
    let mut r = pool();
    r.set_property("+local", &ids("0")).unwrap();
    r.set_property("big", &ids("2")).unwrap();
    r.scheduling = Some(json!({"writer": "fluxion:jgf", "graph": {}}));
    let text = r.to_json();
    assert_eq!(
        text,
        r#"{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-3"}},{"rank":"2","children":{"core":"0-3","gpu":"0-1"}}],"starttime":0.0,"expiration":0.0,"nodelist":["node[0-2]"],"properties":{"+local":"0","big":"2"}},"scheduling":{"graph":{},"writer":"fluxion:jgf"}}"#
    );
    assert_eq!(ResourceSet::parse(&text).unwrap(), r);
    assert_eq!(
        r.to_rlist_string(),
        "rank[0-1]/core[0-3] rank2/core[0-3],gpu[0-1]"
    );
    r.remove_local_properties();
    assert_eq!(r.properties().len(), 1);
    assert_eq!(r.ranks_with_property("big"), ids("2"));
    // Non-consecutive ranks with identical children share an entry.
    let r = ResourceSet::from_nodes([
        (0, "a", ids("0"), ids("")),
        (1, "b", ids("0-1"), ids("")),
        (2, "c", ids("0"), ids("")),
    ])
    .unwrap();
    assert!(r.to_json().contains(
        r#"[{"rank":"0,2","children":{"core":"0"}},{"rank":"1","children":{"core":"0-1"}}]"#
    ));
    assert_eq!(ResourceSet::parse(&r.to_json()).unwrap(), r);
}

#[test]
fn other_child_types_pass_through() {
    // From fluxion's update tests: an `asic` child next to core and gpu.
    let text = r#"{"version": 1, "execution": {"R_lite": [{"rank": "0", "children": {"core": "0-15", "gpu": "0-3", "asic": "0"}}], "nodelist": ["node0"], "starttime": 0, "expiration": 1000000}}"#;
    let r = ResourceSet::parse(text).unwrap();
    assert_eq!((r.ncores(), r.ngpus(), r.count("asic")), (16, 4, 1));
    assert_eq!(
        r.to_json(),
        r#"{"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0-15","gpu":"0-3","asic":"0"}}],"starttime":0.0,"expiration":1000000.0,"nodelist":["node0"]}}"#
    );
    assert_eq!(r.to_rlist_string(), "rank0/core[0-15],gpu[0-3],asic0");
    let mut alloc = Node::new(0, Some("node0".into()), ids("0"), ids(""));
    alloc.set_child("asic", ids("0"));
    let mut a = ResourceSet::new();
    a.insert_node(alloc).unwrap();
    assert!(r.contains(&a));
    let rest = r.subtract(&a);
    assert_eq!((rest.ncores(), rest.count("asic")), (15, 0));
    assert!(rest.node(0).unwrap().other.is_empty());
    assert_eq!(rest.union(&a).unwrap(), r);
    // Times come from the left operand.
    let common = r.intersect(&a);
    assert_eq!(
        common.nodes().collect::<Vec<_>>(),
        a.nodes().collect::<Vec<_>>()
    );
    assert_eq!(common.expiration, r.expiration);
}

#[test]
fn alloc_and_free() {
    let pool = pool();
    let alloc = ResourceSet::from_nodes([
        (0, "node0", ids("0-1"), ids("")),
        (2, "node2", ids("0"), ids("1")),
    ])
    .unwrap();
    assert!(pool.contains(&alloc));
    let rest = pool.subtract(&alloc);
    assert_eq!(rest.ncores(), 12 - 3);
    assert_eq!(rest.ngpus(), 1);
    assert_eq!(rest.node(0).unwrap().cores, ids("2-3"));
    assert!(!rest.contains(&alloc));
    assert_eq!(rest.intersect(&alloc).ncores(), 0);
    assert!(rest.intersect(&alloc).is_empty());
    let back = rest.union(&alloc).unwrap();
    assert_eq!(back, pool);
    assert_eq!(pool.intersect(&alloc), alloc);
    // Subtracting a whole rank drops it.
    let r0 = pool.copy_ranks(&ids("0"));
    assert_eq!(pool.subtract(&r0).ranks(), ids("1-2"));
    assert_eq!(pool.remove_ranks(&ids("0,2")).ranks(), ids("1"));
    let clash = ResourceSet::from_nodes([(0, "other", ids("5"), ids(""))]).unwrap();
    assert_eq!(pool.union(&clash), Err(RError::HostnameMismatch(0)));
}

#[test]
fn rerank_for_subinstance() {
    let mut r =
        ResourceSet::from_nodes([(5, "a", ids("0"), ids("")), (9, "b", ids("0-1"), ids(""))])
            .unwrap();
    r.set_property("x", &ids("9")).unwrap();
    let s = r.reranked();
    assert_eq!(s.ranks(), ids("0-1"));
    assert_eq!(s.hostname(1), Some("b"));
    assert_eq!(s.ranks_with_property("x"), ids("1"));
    assert_eq!(s.node(1).unwrap().rank, 1);
}

#[test]
fn validation_errors() {
    let bad = |v: serde_json::Value| ResourceSet::from_value(v).unwrap_err();
    let ex = |e: serde_json::Value| json!({"version": 1, "execution": e});
    assert_eq!(
        bad(json!({"version": 2, "execution": {"R_lite": []}})),
        RError::Version(2)
    );
    assert!(matches!(bad(json!({"version": 1})), RError::Json(_)));
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "x", "children": {"core": "0"}}]})
        )),
        RError::Json(_)
    ));
    assert_eq!(
        bad(ex(
            json!({"R_lite": [{"rank": "0-1", "children": {"core": "0"}}, {"rank": "1", "children": {"core": "0"}}]})
        )),
        RError::DuplicateRank(1)
    );
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"gpu": "0"}}]})
        )),
        RError::MissingCore(_)
    ));
    assert_eq!(
        bad(ex(
            json!({"R_lite": [{"rank": "0-1", "children": {"core": "0"}}], "nodelist": ["a"]})
        )),
        RError::NodelistCount { hosts: 1, ranks: 2 }
    );
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}], "nodelist": ["a["]})
        )),
        RError::Nodelist(_)
    ));
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}], "starttime": 10, "expiration": 5})
        )),
        RError::Expiration { .. }
    ));
    assert_eq!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}], "nslots": 0})
        )),
        RError::Nslots
    );
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}], "properties": {"a|b": "0"}})
        )),
        RError::PropertyName(_)
    ));
    assert!(matches!(
        bad(ex(
            json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}], "properties": {"a": "1"}})
        )),
        RError::PropertyRanks { .. }
    ));
    // Without nodelist, host names are unknown and no nodelist is written back.
    let r = ResourceSet::from_value(ex(
        json!({"R_lite": [{"rank": "0", "children": {"core": "0"}}]}),
    ))
    .unwrap();
    assert_eq!(r.hostname(0), None);
    assert!(!r.to_json().contains("nodelist"));
    let mut r = ResourceSet::new();
    r.add_node(0, None, ids("0"), ids("")).unwrap();
    assert_eq!(
        r.add_node(0, None, ids("1"), ids("")),
        Err(RError::DuplicateRank(0))
    );
}

#[test]
fn serde_impls() {
    let r = pool();
    let v = serde_json::to_value(&r).unwrap();
    let back: ResourceSet = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
    assert!(
        serde_json::from_value::<ResourceSet>(json!({"version": 3, "execution": {"R_lite": []}}))
            .is_err()
    );
}

mod props {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// rank -> (cores, gpus) as plain id lists.
    fn model() -> impl Strategy<Value = BTreeMap<u32, (Vec<u32>, Vec<u32>)>> {
        prop::collection::btree_map(
            0u32..12,
            (
                prop::collection::vec(0u32..8, 1..6),
                prop::collection::vec(0u32..3, 0..3),
            ),
            0..8,
        )
    }

    fn build(m: &BTreeMap<u32, (Vec<u32>, Vec<u32>)>) -> ResourceSet {
        ResourceSet::from_nodes(m.iter().map(|(&rank, (c, g))| {
            (
                rank,
                format!("n{rank}"),
                c.iter().copied().collect(),
                g.iter().copied().collect(),
            )
        }))
        .unwrap()
    }

    proptest! {
        #[test]
        fn json_round_trip(m in model()) {
            let r = build(&m);
            prop_assert_eq!(ResourceSet::parse(&r.to_json()).unwrap(), r.clone());
            prop_assert_eq!(r.nnodes(), m.len());
        }

        #[test]
        fn alloc_free_identities(a in model(), b in model()) {
            let (ra, rb) = (build(&a), build(&b));
            let common = ra.intersect(&rb);
            prop_assert!(ra.contains(&common) && rb.contains(&common));
            let rest = ra.subtract(&rb);
            prop_assert!(rest.intersect(&rb).is_empty());
            prop_assert_eq!(rest.union(&common).unwrap(), ra.clone());
            prop_assert_eq!(rest.ncores() + common.ncores(), ra.ncores());
            prop_assert_eq!(rest.ngpus() + common.ngpus(), ra.ngpus());
            let u = ra.union(&rb).unwrap();
            prop_assert!(u.contains(&ra) && u.contains(&rb));
        }
    }
}
