use std::time::Instant;

use super::*;

/// `n` ranks named `node0..`, each with `cores` cores and `gpus` GPUs.
fn r(n: u32, cores: u32, gpus: u32) -> ResourceSet {
    let gpu_ids = if gpus > 0 {
        IdSet::from_range(0, gpus - 1)
    } else {
        IdSet::new()
    };
    ResourceSet::from_nodes((0..n).map(|i| {
        (
            i,
            format!("node{i}"),
            IdSet::from_range(0, cores - 1),
            gpu_ids.clone(),
        )
    }))
    .unwrap()
}

fn ids(s: &str) -> IdSet {
    IdSet::parse(s).unwrap()
}

fn jobspec(resources: &str) -> Jobspec {
    Jobspec::parse(&format!(
        r#"{{"version":1,"resources":{resources},
            "tasks":[{{"command":["true"],"slot":"task","count":{{"per_slot":1}}}}],
            "attributes":{{"system":{{"duration":60}}}}}}"#
    ))
    .unwrap()
}

#[test]
fn new_pool_is_down_until_set_up() {
    let mut pool = Pool::new(&r(2, 4, 0));
    assert_eq!(pool.down(), ids("0-1"));
    assert_eq!(pool.alloc_request(&Request::slots(1, 1), 0.0), Ok(None));
    pool.set_up(&ids("1"));
    let got = pool
        .alloc_request(&Request::slots(1, 1), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(got.ranks(), ids("1"));
    assert_eq!(pool.up(), ids("1"));
}

#[test]
fn first_fit_takes_lowest_ranks_and_cores() {
    let mut pool = Pool::all_up(&r(2, 4, 0));
    let a = pool
        .alloc_request(&Request::slots(1, 2), 5.0)
        .unwrap()
        .unwrap();
    assert_eq!(a.to_rlist_string(), "rank0/core[0-1]");
    assert_eq!(a.nslots, Some(1));
    assert_eq!(a.starttime, 5.0);
    let b = pool
        .alloc_request(&Request::slots(3, 1), 5.0)
        .unwrap()
        .unwrap();
    // Two slots fill rank 0, the third goes to rank 1.
    assert_eq!(b.to_rlist_string(), "rank0/core[2-3] rank1/core0");
    assert_eq!(pool.allocated().ncores(), 5);
    assert_eq!(pool.free_set().to_rlist_string(), "rank1/core[1-3]");
}

#[test]
fn slots_never_span_nodes() {
    let mut pool = Pool::all_up(&r(2, 4, 0));
    pool.alloc_request(&Request::slots(1, 3), 0.0)
        .unwrap()
        .unwrap();
    // 3 free cores are left on rank 1 and 1 on rank 0: a 2-core slot must go to rank 1.
    let a = pool
        .alloc_request(&Request::slots(1, 2), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(a.to_rlist_string(), "rank1/core[0-1]");
    // Two more 2-core slots do not fit now (1 + 2 cores left, one slot each at most: 1).
    assert_eq!(pool.alloc_request(&Request::slots(2, 2), 0.0), Ok(None));
}

#[test]
fn nodes_count_spreads_slots() {
    let mut pool = Pool::all_up(&r(4, 4, 0));
    let req = Request {
        nnodes: 2,
        ..Request::slots(3, 1)
    };
    let a = pool.alloc_request(&req, 0.0).unwrap().unwrap();
    assert_eq!(a.to_rlist_string(), "rank0/core[0-1] rank1/core0");
    assert_eq!(a.nnodes(), 2);
}

#[test]
fn exclusive_takes_whole_idle_nodes() {
    let mut pool = Pool::all_up(&r(3, 4, 2));
    pool.alloc_request(&Request::slots(1, 1), 0.0)
        .unwrap()
        .unwrap();
    let req = Request {
        nnodes: 2,
        exclusive: true,
        ..Request::slots(2, 1)
    };
    let a = pool.alloc_request(&req, 0.0).unwrap().unwrap();
    // Rank 0 is busy: ranks 1 and 2, all of them.
    assert_eq!(a.to_rlist_string(), "rank[1-2]/core[0-3],gpu[0-1]");
    assert_eq!(pool.alloc_request(&req, 0.0), Ok(None));
}

#[test]
fn gpus_are_allocated_per_slot() {
    let mut pool = Pool::all_up(&r(2, 4, 1));
    let req = Request {
        gpus_per_slot: 1,
        ..Request::slots(2, 1)
    };
    let a = pool.alloc_request(&req, 0.0).unwrap().unwrap();
    assert_eq!(a.to_rlist_string(), "rank[0-1]/core0,gpu0");
    assert_eq!(pool.alloc_request(&req, 0.0), Ok(None));
    pool.free(&a);
    assert!(pool.alloc_request(&req, 0.0).unwrap().is_some());
}

#[test]
fn free_whole_and_partial() {
    let mut pool = Pool::all_up(&r(2, 2, 0));
    let a = pool
        .alloc_request(&Request::slots(4, 1), 0.0)
        .unwrap()
        .unwrap();
    assert!(pool.free_set().is_empty());
    pool.free(&a.copy_ranks(&ids("1")));
    assert_eq!(pool.free_set().to_rlist_string(), "rank1/core[0-1]");
    assert_eq!(pool.allocated().to_rlist_string(), "rank0/core[0-1]");
    pool.free(&a);
    // Freeing twice, or ids we never had, changes nothing.
    pool.free(&a);
    pool.free(&r(4, 8, 0));
    assert_eq!(pool.free_set(), r(2, 2, 0));
    assert!(pool.allocated().is_empty());
}

#[test]
fn down_ranks_are_skipped_but_keep_allocations() {
    let mut pool = Pool::all_up(&r(2, 2, 0));
    let a = pool
        .alloc_request(&Request::slots(1, 1), 0.0)
        .unwrap()
        .unwrap();
    pool.set_down(&ids("0"));
    let b = pool
        .alloc_request(&Request::slots(1, 1), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(b.ranks(), ids("1"));
    assert_eq!(pool.down(), ids("0"));
    assert_eq!(pool.down_set().ncores(), 2);
    assert_eq!(pool.allocated().ncores(), 2);
    assert_eq!(pool.free_set().to_rlist_string(), "rank1/core1");
    pool.free(&a);
    pool.set_up(&ids("0"));
    assert_eq!(pool.free_set().ncores(), 3);
}

#[test]
fn infeasible_requests_say_why() {
    let mut pool = Pool::all_up(&r(2, 4, 0));
    let cases = [
        (
            Request::slots(9, 1),
            "9 slots of 1 cores do not fit in 8 cores on 2 nodes",
        ),
        (
            Request::slots(1, 5),
            "requested 5 cores per slot, nodes have at most 4",
        ),
        (
            Request {
                nnodes: 3,
                ..Request::slots(3, 1)
            },
            "requested 3 nodes, instance has 2",
        ),
        (
            Request {
                gpus_per_slot: 1,
                ..Request::slots(1, 1)
            },
            "requested 1 GPUs per slot, nodes have at most 0",
        ),
    ];
    for (req, reason) in cases {
        let err = pool.alloc_request(&req, 0.0).unwrap_err();
        assert_eq!(err, PoolError::Unsatisfiable(reason.into()), "{req:?}");
        assert!(pool.check_feasible(&req).is_err());
    }
    // Feasible but busy: wait, not fail.
    pool.alloc_request(&Request::slots(8, 1), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(pool.check_feasible(&Request::slots(8, 1)), Ok(()));
    assert_eq!(pool.alloc_request(&Request::slots(1, 1), 0.0), Ok(None));
    // Down ranks still count for feasibility.
    pool.set_down(&ids("0-1"));
    assert_eq!(pool.check_feasible(&Request::slots(8, 1)), Ok(()));
}

#[test]
fn malformed_requests_are_rejected() {
    let pool = Pool::all_up(&r(1, 4, 0));
    for req in [
        Request::slots(0, 1),
        Request::slots(1, 0),
        Request {
            nnodes: 2,
            ..Request::slots(1, 1)
        },
    ] {
        assert!(matches!(
            pool.check_feasible(&req),
            Err(PoolError::Unsupported(_))
        ));
    }
}

#[test]
fn jobspecs_translate_to_requests() {
    let spec = jobspec(
        r#"[{"type":"node","count":2,"exclusive":true,"with":[{"type":"slot","count":3,
            "label":"task","with":[{"type":"core","count":2},{"type":"gpu","count":1}]}]}]"#,
    );
    let req = Request::from_jobspec(&spec).unwrap();
    assert_eq!(
        req,
        Request {
            nnodes: 2,
            nslots: 6,
            cores_per_slot: 2,
            gpus_per_slot: 1,
            exclusive: true,
            duration: 60.0,
            constraint: None,
        }
    );
    let spec =
        jobspec(r#"[{"type":"slot","count":4,"label":"task","with":[{"type":"core","count":1}]}]"#);
    let mut pool = Pool::all_up(&r(1, 4, 0));
    let a = pool.alloc(&spec).unwrap().unwrap();
    assert_eq!(a.to_rlist_string(), "rank0/core[0-3]");
    assert!((a.expiration - a.starttime - 60.0).abs() < 1e-6);
    assert!(pool.feasible(&spec).is_ok());
}

#[test]
fn expiration_defaults_to_the_instance() {
    let mut all = r(1, 2, 0);
    all.expiration = 1000.0;
    let mut pool = Pool::all_up(&all);
    let a = pool
        .alloc_request(&Request::slots(1, 1), 10.0)
        .unwrap()
        .unwrap();
    assert_eq!(a.expiration, 1000.0);
}

/// Time many first-fit allocations; run with
/// `cargo test --release -p flux-actors pool_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn pool_speed() {
    for (label, all, req) in [
        (
            "64-core node, 1-core jobs",
            r(1, 64, 0),
            Request::slots(1, 1),
        ),
        (
            "1024 nodes x 32 cores, 1-core jobs",
            r(1024, 32, 0),
            Request::slots(1, 1),
        ),
        (
            "1024 nodes x 32 cores, 4-node exclusive jobs",
            r(1024, 32, 0),
            Request {
                nnodes: 4,
                exclusive: true,
                ..Request::slots(4, 1)
            },
        ),
    ] {
        let mut pool = Pool::all_up(&all);
        let start = Instant::now();
        let mut n = 0u32;
        let mut held = Vec::new();
        // Fill the pool, then free everything; repeat.
        for _ in 0..10 {
            while let Some(a) = pool.alloc_request(&req, 0.0).unwrap() {
                held.push(a);
                n += 1;
            }
            for a in held.drain(..) {
                pool.free(&a);
            }
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{label}: {n} allocs (+ frees), {per:.2} us each");
    }
    // Worst case: a full 1024-node pool, every node scanned, then the feasibility check.
    let mut pool = Pool::all_up(&r(1024, 32, 0));
    pool.alloc_request(&Request::slots(1024 * 32, 1), 0.0)
        .unwrap()
        .unwrap();
    let start = Instant::now();
    for _ in 0..10_000 {
        assert_eq!(pool.alloc_request(&Request::slots(1, 1), 0.0), Ok(None));
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / 10_000.0;
    println!("1024 nodes full, request must wait: {per:.2} us each");
}

fn constrained(query: &str, nslots: u32) -> Request {
    let c = flux_proto::types::jobspec::parse_constraint(query).unwrap();
    Request::slots(nslots, 1)
        .with_constraint(flux_proto::types::jobspec::Constraint::parse(&c).unwrap())
}

#[test]
fn constraints_choose_the_nodes() {
    let mut all = r(4, 2, 0);
    all.set_property("gpu", &ids("2-3")).unwrap();
    let mut pool = Pool::all_up(&all);
    let got = pool
        .alloc_request(&constrained("host:node[1-2]", 3), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(got.ranks(), ids("1-2"));
    let got = pool
        .alloc_request(&constrained("gpu", 2), 0.0)
        .unwrap()
        .unwrap();
    assert_eq!(
        got.ranks(),
        ids("2-3"),
        "first fit: node2's last core, then node3"
    );
    // node1 is full: of the nodes without GPUs only node0's 2 cores are free.
    assert_eq!(pool.alloc_request(&constrained("^gpu", 3), 0.0), Ok(None));
    assert!(pool.check_feasible(&constrained("^gpu", 4)).is_ok());
    assert!(pool.check_feasible(&constrained("^gpu", 5)).is_err());
    let e = pool.check_feasible(&constrained("rank:7", 1)).unwrap_err();
    assert!(e.to_string().contains("constraints"), "{e}");
}
