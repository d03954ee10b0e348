use std::path::PathBuf;

use super::*;
use crate::modules::ModuleArgs;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fluxion")
        .join(name)
}

fn opts(words: &[&str]) -> ResourceOptions {
    ResourceOptions::parse(ModuleArgs::parse(words)).unwrap()
}

/// `nslots` slots of `cores` cores each, for `secs` seconds.
fn jobspec(nslots: u32, cores: u32, secs: u32) -> Value {
    json!({
        "version": 1,
        "resources": [{"type": "slot", "count": nslots, "label": "task",
                       "with": [{"type": "core", "count": cores}]}],
        "tasks": [{"command": ["true"], "slot": "task", "count": {"per_slot": 1}}],
        "attributes": {"system": {"duration": secs}}
    })
}

fn req(jobid: i64, op: &str, jobspec: Value) -> MatchRequest {
    MatchRequest {
        jobid,
        op: op.into(),
        jobspec,
    }
}

#[test]
fn r_lite_and_jgf_give_the_same_cores() {
    for (file, format) in [
        ("r-2node.json", "rv1exec"),
        ("r-2node-sched.json", "rv1exec"),
        ("jgf-2node.json", "jgf"),
    ] {
        let o = opts(&[&format!("load-format={format}")]);
        let mut m = Matcher::from_file(&data(file), &o).unwrap();
        let status = m.status();
        assert_eq!(
            status["all"]["execution"]["R_lite"],
            json!([{"rank": "0-1", "children": {"core": "0-3"}}]),
            "{file}"
        );
        assert_eq!(
            status["all"]["execution"]["nodelist"],
            json!(["fluke[0-1]"])
        );
        assert_eq!(status["down"], json!(""));
    }
}

#[test]
fn allocations_come_back_as_r_and_are_released() {
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&["policy=low"])).unwrap();
    let a = m.run(&req(1, "allocate", jobspec(2, 3, 60)), 1000).unwrap();
    assert_eq!(a.status, "ALLOCATED");
    assert_eq!(a.at, 1000);
    assert_eq!(a.r["execution"]["expiration"], json!(1060));
    assert_eq!(
        a.r["execution"]["R_lite"],
        json!([{"rank": "0-1", "children": {"core": "0-2"}}])
    );
    assert!(a.r.get("scheduling").is_none());
    let busy = m.run(
        &req(2, "allocate_with_satisfiability", jobspec(1, 2, 60)),
        1000,
    );
    assert_eq!(busy.unwrap_err().errnum, errno::EBUSY);
    let later = m
        .run(&req(2, "allocate_orelse_reserve", jobspec(1, 2, 60)), 1000)
        .unwrap();
    assert_eq!((later.status.as_str(), later.at), ("RESERVED", 1060));
    assert_eq!(
        m.status()["allocated"]["execution"]["R_lite"],
        json!([{"rank": "0-1", "children": {"core": "0-2"}}])
    );
    m.cancel(2).unwrap();
    m.cancel(1).unwrap();
    assert_eq!(m.status()["allocated"]["execution"]["R_lite"], json!([]));
    let unlimited = m.run(&req(3, "allocate", jobspec(1, 4, 0)), 1000).unwrap();
    assert_eq!(unlimited.r["execution"]["expiration"], json!(0));
}

#[test]
fn the_instance_expiration_bounds_the_schedule() {
    let mut r: Value =
        serde_json::from_str(&std::fs::read_to_string(data("r-2node.json")).unwrap()).unwrap();
    r["execution"]["expiration"] = json!(2000);
    let mut m = Matcher::from_r(&r, &opts(&[])).unwrap();
    let a = m.run(&req(1, "allocate", jobspec(8, 1, 0)), 1000).unwrap();
    assert_eq!(a.r["execution"]["expiration"], json!(2000));
    // Busy until the instance ends: no reservation is possible.
    let never = m.run(&req(2, "allocate_orelse_reserve", jobspec(1, 1, 10)), 1000);
    assert_eq!(never.unwrap_err().errnum, errno::EBUSY);
}

#[test]
fn match_format_rv1_carries_the_scheduling_jgf() {
    let o = opts(&["match-format=rv1", "load-allowlist=node,core"]);
    let mut m = Matcher::from_file(&data("r-2node-sched.json"), &o).unwrap();
    let a = m.run(&req(1, "allocate", jobspec(1, 1, 0)), 5).unwrap();
    let types: Vec<&str> = a.r["scheduling"]["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["metadata"]["type"].as_str())
        .collect();
    assert!(
        types.contains(&"core") && !types.contains(&"socket"),
        "{types:?}"
    );
}

#[test]
fn impossible_and_bad_requests_are_told_apart() {
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&[])).unwrap();
    let never = m.run(&req(1, "allocate_with_satisfiability", jobspec(1, 5, 0)), 0);
    assert_eq!(never.unwrap_err().errnum, ENODEV);
    let mut gpu = jobspec(1, 1, 0);
    gpu["resources"][0]["with"][0]["type"] = json!("gpu");
    assert_eq!(m.feasible(&gpu, 0).unwrap_err().errnum, ENODEV);
    assert!(m.feasible(&jobspec(8, 1, 0), 0).is_ok());
    let bad = m.feasible(&json!({"version": 1}), 0).unwrap_err();
    assert_eq!(bad.errnum, errno::EINVAL);
    assert!(bad.reason.starts_with("invalid jobspec"), "{}", bad.reason);
    let op = m.run(&req(1, "grab", jobspec(1, 1, 0)), 0).unwrap_err();
    assert_eq!(op.errnum, errno::EINVAL);
}

#[test]
fn down_ranks_are_not_used() {
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&[])).unwrap();
    m.set_up_only("0").unwrap();
    assert_eq!((m.up().as_str(), m.down().as_str()), ("0", "1"));
    let a = m.run(&req(1, "allocate", jobspec(1, 4, 0)), 0).unwrap();
    assert_eq!(a.r["execution"]["R_lite"][0]["rank"], json!("0"));
    assert!(m.run(&req(2, "allocate", jobspec(1, 1, 0)), 0).is_err());
    assert_eq!(
        m.find("status=down").unwrap()["execution"]["R_lite"],
        json!([{"rank": "1", "children": {"core": "0-3"}}])
    );
    assert_eq!(
        m.find("jobid-alloc=1").unwrap()["execution"]["R_lite"],
        json!([{"rank": "0", "children": {"core": "0-3"}}])
    );
    assert_eq!(m.find("colour=red").unwrap_err().errnum, errno::EINVAL);
    assert!(m.set_status("1", true).unwrap());
    assert!(!m.set_status("1", true).unwrap(), "no change");
    assert!(m.run(&req(2, "allocate", jobspec(1, 1, 0)), 0).is_ok());
}

#[test]
fn unreadable_inputs_fail_with_a_message() {
    let e = Matcher::from_file(&data("missing.json"), &opts(&[])).unwrap_err();
    assert!(e.to_string().contains("missing.json"), "{e}");
    let e = Matcher::from_r(&json!({"version": 1}), &opts(&[])).unwrap_err();
    assert!(e.to_string().contains("execution"), "{e}");
}

/// R of a job sched-simple started: `cores` of `rank`, no JGF.
fn running(rank: &str, cores: &str) -> Value {
    json!({"version": 1, "execution": {
        "R_lite": [{"rank": rank, "children": {"core": cores}}],
        "nodelist": ["fluke0"], "starttime": 1.0, "expiration": 0.0}})
}

#[test]
fn running_jobs_are_booked_until_freed() {
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&[])).unwrap();
    m.update(11, &running("0-1", "0-2")).unwrap();
    // Booking a job twice (a second hello) leaves it as it is.
    m.update(11, &running("0-1", "0-2")).unwrap();
    let allocated = m.find("sched-now=allocated").unwrap();
    assert_eq!(
        allocated["execution"]["R_lite"],
        json!([{"rank": "0-1", "children": {"core": "0-2"}}])
    );
    let busy = m.run(&req(1, "allocate", jobspec(1, 2, 60)), 100);
    assert_eq!(busy.unwrap_err().errnum, errno::EBUSY);
    m.run(&req(2, "allocate", jobspec(2, 1, 60)), 100).unwrap();
    m.cancel(2).unwrap();
    m.cancel(11).unwrap();
    m.run(&req(1, "allocate", jobspec(2, 4, 60)), 100).unwrap();
}

#[test]
fn running_jobs_the_graph_cannot_hold_are_refused() {
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&[])).unwrap();
    let unknown = m.update(11, &running("7", "0")).unwrap_err();
    assert_eq!(unknown.errnum, errno::ENOENT, "{}", unknown.reason);
    assert!(unknown.reason.contains("rank 7"), "{}", unknown.reason);
    let unknown = m.update(11, &running("0", "4")).unwrap_err();
    assert_eq!(unknown.errnum, errno::ENOENT);
    m.update(11, &running("0", "0-1")).unwrap();
    let taken = m.update(12, &running("0", "1")).unwrap_err();
    assert_eq!(taken.errnum, errno::EEXIST, "{}", taken.reason);
    let bad = m.update(12, &json!({"version": 1})).unwrap_err();
    assert_eq!(bad.errnum, errno::EINVAL);
}

#[test]
fn rv1exec_force_books_r_lite_even_with_a_jgf() {
    // A scheduling key that names nothing: only R_lite can place the job.
    let mut r = running("1", "2-3");
    r["scheduling"] = json!({"graph": {"nodes": [], "edges": []}});
    let mut m = Matcher::from_file(&data("r-2node.json"), &opts(&[])).unwrap();
    assert_eq!(m.update(5, &r).unwrap_err().errnum, errno::EINVAL);
    let force = opts(&["load-format=rv1exec_force"]);
    let mut m = Matcher::from_file(&data("r-2node.json"), &force).unwrap();
    m.update(5, &r).unwrap();
    assert_eq!(
        m.find("jobid-alloc=5").unwrap()["execution"]["R_lite"],
        json!([{"rank": "1", "children": {"core": "2-3"}}])
    );
}
