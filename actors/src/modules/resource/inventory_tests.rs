use super::*;

fn ids(s: &str) -> IdSet {
    IdSet::parse(s).unwrap()
}

fn node(rank: u32, host: &str, cores: &str) -> ResourceSet {
    ResourceSet::from_nodes([(rank, host, ids(cores), IdSet::new())]).unwrap()
}

/// Four ranks on hosts pi0..pi3 with 4 cores each, all online.
fn four() -> Inventory {
    let r =
        ResourceSet::from_nodes((0..4).map(|i| (i, format!("pi{i}"), ids("0-3"), IdSet::new())))
            .unwrap();
    let mut inv = Inventory::configured(r, 4);
    for rank in 0..4 {
        inv.register(rank, None).unwrap();
    }
    inv
}

#[test]
fn discovered_r_completes_when_every_rank_registered() {
    let mut inv = Inventory::discovered(2);
    assert!(inv.r().is_none());
    assert!(!inv.register(1, Some(node(1, "b", "0-1"))).unwrap());
    assert!(inv.available().is_empty());
    assert!(inv.register(0, Some(node(0, "a", "0-3"))).unwrap());
    let r = inv.r().unwrap();
    assert_eq!(r.to_rlist_string(), "rank0/core[0-3] rank1/core[0-1]");
    assert_eq!(r.nodelist().to_string(), "a,b");
    assert_eq!(inv.available(), ids("0-1"));
}

#[test]
fn bad_registrations_are_refused() {
    let mut inv = Inventory::discovered(2);
    assert!(inv.register(2, Some(node(2, "c", "0"))).is_err());
    assert!(inv.register(0, Some(node(1, "b", "0"))).is_err());
    assert!(inv.register(0, None).is_err());
}

#[test]
fn configured_r_ranks_with_a_broker_are_up() {
    let r = ResourceSet::from_nodes((0..3).map(|i| (i, "sim", ids("0-63"), IdSet::new()))).unwrap();
    let mut inv = Inventory::configured(r, 1);
    assert_eq!(inv.available(), ids("0"));
    inv.register(0, None).unwrap();
    // Ranks 1-2 have no broker: never up.
    assert_eq!(inv.available(), ids("0"));
    let status = inv.status();
    assert_eq!(status["online"], "0");
    assert_eq!(status["offline"], "1-2");
}

#[test]
fn targets_are_ranks_or_hosts() {
    let inv = four();
    assert_eq!(inv.resolve("1-2").unwrap(), ids("1-2"));
    assert_eq!(inv.resolve("pi[1,3]").unwrap(), ids("1,3"));
    assert_eq!(
        inv.resolve("7").unwrap_err().to_string(),
        "invalid ranks 7: the instance has ranks 0-3"
    );
    assert_eq!(
        inv.resolve("foo").unwrap_err().to_string(),
        "unknown host foo"
    );
    assert!(inv.resolve("pi[").is_err());
}

#[test]
fn drain_modes() {
    let mut inv = four();
    inv.drain(&ids("1-2"), "bad disk", DrainMode::Fail, 10.0)
        .unwrap();
    assert_eq!(inv.available(), ids("0,3"));
    let err = inv
        .drain(&ids("2-3"), "x", DrainMode::Fail, 11.0)
        .unwrap_err();
    assert_eq!(err.to_string(), "rank 2 already drained");
    // Nothing changed by the failed request.
    assert_eq!(inv.drained(), ids("1-2"));

    inv.drain(&ids("2-3"), "new", DrainMode::Update, 12.0)
        .unwrap();
    let status = inv.status();
    assert_eq!(
        status["drain"]["1-2"],
        json!({"timestamp": 10.0, "reason": "bad disk"})
    );
    assert_eq!(
        status["drain"]["3"],
        json!({"timestamp": 12.0, "reason": "new"})
    );

    inv.drain(&ids("1"), "over", DrainMode::Overwrite, 13.0)
        .unwrap();
    assert_eq!(
        inv.status()["drain"]["1"],
        json!({"timestamp": 10.0, "reason": "over"})
    );
    inv.drain(&ids("1"), "over", DrainMode::ForceOverwrite, 14.0)
        .unwrap();
    assert_eq!(
        inv.status()["drain"]["1"],
        json!({"timestamp": 14.0, "reason": "over"})
    );
}

#[test]
fn undrain_requires_drained_unless_forced() {
    let mut inv = four();
    inv.drain(&ids("1"), "", DrainMode::Fail, 1.0).unwrap();
    assert_eq!(
        inv.undrain(&ids("1-2"), false).unwrap_err().to_string(),
        "rank 2 not drained"
    );
    assert_eq!(inv.drained(), ids("1"));
    inv.undrain(&ids("1-2"), true).unwrap();
    assert!(inv.drained().is_empty());
    assert_eq!(inv.available(), ids("0-3"));
}

#[test]
fn drain_modes_parse_as_flux_sends_them() {
    let mode: DrainMode = serde_json::from_value(json!("force-overwrite")).unwrap();
    assert_eq!(mode, DrainMode::ForceOverwrite);
    let mode: DrainMode = serde_json::from_value(json!("update")).unwrap();
    assert_eq!(mode, DrainMode::Update);
}
