//! Unit tests of the job table and of list requests.

use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, Jobspec, ResourceSet};
use serde_json::{Value, json};

use super::query::{ListRequest, Users};
use super::table::{Fetch, JobTable};

fn submit(t: &mut JobTable, id: u64, userid: u32, ts: f64) {
    let e = Entry::new(ts, "submit")
        .with("userid", userid)
        .with("urgency", 16)
        .with("flags", 0)
        .with("version", 1);
    assert_eq!(t.apply(JobId(id), &e), Ok(Some(Fetch::Jobspec(JobId(id)))));
}

fn ev(t: &mut JobTable, id: u64, ts: f64, name: &str) -> Option<Fetch> {
    t.apply(JobId(id), &Entry::new(ts, name)).unwrap()
}

fn to_sched(t: &mut JobTable, id: u64, ts: f64, priority: i64) {
    ev(t, id, ts, "validate");
    ev(t, id, ts, "depend");
    let e = Entry::new(ts, "priority").with("priority", priority);
    t.apply(JobId(id), &e).unwrap();
}

fn run(t: &mut JobTable, id: u64, ts: f64) {
    assert_eq!(ev(t, id, ts, "alloc"), Some(Fetch::R(JobId(id))));
    ev(t, id, ts, "start");
}

fn finish(t: &mut JobTable, id: u64, ts: f64, status: i32) {
    let e = Entry::new(ts, "finish").with("status", status);
    t.apply(JobId(id), &e).unwrap();
    let e = Entry::new(ts, "release")
        .with("ranks", "all")
        .with("final", true);
    t.apply(JobId(id), &e).unwrap();
    ev(t, id, ts, "free");
    ev(t, id, ts, "clean");
}

fn ids(jobs: &[Value]) -> Vec<u64> {
    jobs.iter().map(|j| j["id"].as_u64().unwrap()).collect()
}

fn list(t: &JobTable, req: Value) -> Vec<Value> {
    serde_json::from_value::<ListRequest>(req).unwrap().run(t)
}

/// Jobs 1..=8: 1-3 pending (priorities 16, 31, 16), 4-5 running (started at 10, 20),
/// 6-8 inactive (finished at 30, 50, 40; 7 failed).
fn sample() -> JobTable {
    let mut t = JobTable::new();
    for id in 1..=8 {
        submit(&mut t, id, if id == 3 { 1001 } else { 1000 }, id as f64);
    }
    to_sched(&mut t, 1, 1.0, 16);
    to_sched(&mut t, 2, 2.0, 31);
    to_sched(&mut t, 3, 3.0, 16);
    for (id, start) in [(4, 10.0), (5, 20.0), (6, 5.0), (7, 6.0), (8, 7.0)] {
        to_sched(&mut t, id, 1.0, 16);
        run(&mut t, id, start);
    }
    finish(&mut t, 6, 30.0, 0);
    finish(&mut t, 7, 50.0, 256);
    finish(&mut t, 8, 40.0, 0);
    t
}

#[test]
fn default_order_pending_running_inactive() {
    let t = sample();
    assert_eq!(ids(&list(&t, json!({}))), [2, 1, 3, 5, 4, 7, 8, 6]);
    assert_eq!(ids(&list(&t, json!({"states": 14}))), [2, 1, 3]);
    assert_eq!(ids(&list(&t, json!({"states": 48}))), [5, 4]);
    assert_eq!(ids(&list(&t, json!({"max_entries": 4}))), [2, 1, 3, 5]);
}

#[test]
fn priority_change_moves_a_pending_job() {
    let mut t = sample();
    let e = Entry::new(60.0, "urgency")
        .with("urgency", 0)
        .with("userid", 1000);
    t.apply(JobId(2), &e).unwrap();
    let e = Entry::new(60.0, "priority").with("priority", 0);
    t.apply(JobId(2), &e).unwrap();
    assert_eq!(ids(&list(&t, json!({"states": 14}))), [1, 3, 2]);
    assert_eq!(t.get(JobId(2)).unwrap().record.urgency, Some(0));
}

#[test]
fn filters_by_user_result_since_and_name() {
    let mut t = sample();
    assert_eq!(ids(&list(&t, json!({"userid": 1001}))), [3]);
    assert_eq!(ids(&list(&t, json!({"userid": "all"}))).len(), 8);
    assert_eq!(ids(&list(&t, json!({"results": 2}))), [7]);
    assert_eq!(ids(&list(&t, json!({"results": 1}))), [8, 6]);
    assert_eq!(
        ids(&list(&t, json!({"states": 48, "results": 2}))),
        [5, 4, 7]
    );
    assert_eq!(ids(&list(&t, json!({"states": 64, "since": 35.0}))), [7, 8]);
    let spec = Jobspec::parse(
        &json!({"version":1,"resources":[{"type":"slot","count":2,"label":"task",
            "with":[{"type":"core","count":1}]}],
            "tasks":[{"command":["/bin/sleep","1"],"slot":"task","count":{"per_slot":1}}],
            "attributes":{"system":{"duration":0}}})
        .to_string(),
    )
    .unwrap();
    t.update(JobId(4), |j| j.set_jobspec(&spec));
    let got = list(&t, json!({"name": "sleep"}));
    assert_eq!(ids(&got), [4]);
    assert_eq!(got[0]["ntasks"], 2);
    assert_eq!(got[0]["ncores"], 2);
    assert_eq!(got[0]["name"], "sleep");
    assert!(
        serde_json::from_value::<ListRequest>(json!({"userid": "bob"})).is_err(),
        "bad userid refused"
    );
}

#[test]
fn job_objects_carry_flux_attributes() {
    let mut t = sample();
    let r = ResourceSet::from_nodes([(0u32, "node0", "0-3".parse().unwrap(), Default::default())])
        .unwrap();
    t.update(JobId(7), |j| j.set_r(&r));
    let job = &list(&t, json!({"results": 2}))[0];
    assert_eq!(job["state"], 64);
    assert_eq!(job["result"], 2);
    assert_eq!(job["success"], false);
    assert_eq!(job["waitstatus"], 256);
    assert_eq!(job["t_run"], 6.0);
    assert_eq!(job["t_inactive"], 50.0);
    assert_eq!(job["nodelist"], "node0");
    assert_eq!(job["ranks"], "0");
    assert_eq!(job["ncores"], 4);
    assert_eq!(job["exception_occurred"], false);
    let some = list(&t, json!({"results": 2, "attrs": ["state"]}));
    assert_eq!(some[0], json!({"id": 7, "state": 64}));
    let req: ListRequest = serde_json::from_value(json!({"attrs": ["bogus"]})).unwrap();
    assert_eq!(req.check_attrs(), Err("unknown attribute 'bogus'".into()));
    assert_eq!(req.userid, Users::All);
}

#[test]
fn canceled_pending_job_and_stats() {
    let mut t = sample();
    let e = Entry::new(70.0, "exception")
        .with("type", "cancel")
        .with("severity", 0)
        .with("note", "");
    t.apply(JobId(1), &e).unwrap();
    ev(&mut t, 1, 71.0, "clean");
    let job = &list(&t, json!({"results": 4}))[0];
    assert_eq!(job["id"], 1);
    assert_eq!(job["exception_type"], "cancel");
    assert_eq!(t.get(JobId(1)).unwrap().record.status_abbrev(), "CA");
    let stats = t.stats();
    assert_eq!(stats.total, 8);
    assert_eq!(stats.states["SCHED"], 2);
    assert_eq!(stats.states["RUN"], 2);
    assert_eq!(stats.states["INACTIVE"], 4);
    assert_eq!(stats.results["COMPLETED"], 2);
    assert_eq!(stats.results["CANCELED"], 1);
    assert_eq!(stats.results["FAILED"], 1);
}

#[test]
fn bad_events_leave_the_table_intact() {
    let mut t = sample();
    assert!(t.apply(JobId(99), &Entry::new(1.0, "clean")).is_err());
    assert!(t.apply(JobId(6), &Entry::new(1.0, "alloc")).is_err());
    let e = Entry::new(1.0, "submit").with("userid", 1);
    assert!(t.apply(JobId(6), &e).is_err());
    assert_eq!(t.len(), 8);
    assert_eq!(ids(&list(&t, json!({}))), [2, 1, 3, 5, 4, 7, 8, 6]);
}

#[test]
fn many_jobs_list_fast() {
    let mut t = JobTable::new();
    for id in 1..=100_000u64 {
        submit(&mut t, id, 1000, id as f64);
        to_sched(&mut t, id, id as f64, (id % 32) as i64);
        if id % 2 == 0 {
            run(&mut t, id, id as f64);
            finish(&mut t, id, id as f64 + 1.0, 0);
        }
    }
    let start = std::time::Instant::now();
    let jobs = list(&t, json!({}));
    assert_eq!(jobs.len(), 1000);
    assert_eq!(jobs[0]["priority"], 31);
    let all = list(&t, json!({"states": 64, "max_entries": 3}));
    assert_eq!(ids(&all), [100_000, 99_998, 99_996]);
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn annotations_follow_a_pending_job_until_alloc() {
    let mut t = JobTable::new();
    submit(&mut t, 1, 100, 1.0);
    to_sched(&mut t, 1, 1.0, 16);
    let reason = json!({"sched": {"reason_pending": "insufficient resources", "t_estimate": 9.0}});
    let e = Entry::new(2.0, "annotations").with("annotations", reason.clone());
    assert_eq!(t.apply(JobId(1), &e), Ok(None));
    let job = t.get(JobId(1)).unwrap();
    assert_eq!(job.annotations, Some(reason));
    assert_eq!(job.state(), flux_proto::types::JobState::Sched);
    run(&mut t, 1, 3.0);
    assert_eq!(
        t.get(JobId(1)).unwrap().annotations,
        None,
        "alloc replaces them"
    );
    let unknown = Entry::new(2.0, "annotations").with("annotations", json!({}));
    assert!(t.apply(JobId(7), &unknown).is_err());
}
