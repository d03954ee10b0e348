//! Queue policy tests on a two-node cluster.

use super::*;
use crate::graph::ResourceGraph;
use crate::policy::MatchPolicy;
use crate::readers::read_grug;
use crate::traverser::{MatchOp, TraverserConfig};

const GRAPH: &str = r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
  <key id="type" for="node" attr.name="type" attr.type="string"/>
  <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
  <graph id="g" edgedefault="directed">
    <node id="c"><data key="root">1</data><data key="type">cluster</data></node>
    <node id="n"><data key="type">node</data></node>
    <node id="k"><data key="type">core</data></node>
    <edge source="c" target="n"><data key="multi_scale">2</data></edge>
    <edge source="n" target="k"><data key="multi_scale">4</data></edge>
  </graph>
</graphml>"#;

fn traverser() -> Traverser {
    let mut g = ResourceGraph::new();
    read_grug(GRAPH, &mut g).unwrap();
    let policy = MatchPolicy::parse("low").unwrap();
    Traverser::new(
        g,
        &TraverserConfig {
            policy,
            ..TraverserConfig::default()
        },
    )
    .unwrap()
}

/// `nodes` whole nodes for `secs` seconds.
fn job(id: i64, t_submit: u64, nodes: u32, secs: u32) -> PendingJob {
    let text = format!(
        "version: 9999\nresources:\n  - type: node\n    count: {nodes}\n    with:\n      - type: slot\n        count: 1\n        label: t\n        with:\n          - type: core\n            count: 4\nattributes:\n  system:\n    duration: {secs}\ntasks:\n  - command: [app]\n    slot: t\n    count:\n      per_slot: 1\n"
    );
    PendingJob {
        id,
        priority: 16,
        t_submit,
        jobspec: Jobspec::parse(&text).unwrap().into(),
    }
}

fn ids(ds: &[Decision]) -> Vec<String> {
    ds.iter()
        .map(|d| match d {
            Decision::Started { id, backfilled, .. } => {
                format!("start {id}{}", if *backfilled { " bf" } else { "" })
            }
            Decision::Reserved { id, at } => format!("reserve {id}@{at}"),
            Decision::Rejected { id, .. } => format!("reject {id}"),
            Decision::Blocked { id } => format!("block {id}"),
        })
        .collect()
}

fn submit_all(q: &mut QueueManager) {
    q.submit(job(1, 1, 1, 100));
    q.submit(job(2, 2, 2, 100));
    q.submit(job(3, 3, 1, 50));
    q.submit(job(4, 4, 1, 500));
    q.submit(job(5, 5, 3, 10));
}

#[test]
fn fcfs_stops_at_the_first_blocked_job() {
    let mut t = traverser();
    let mut q = QueueManager::new(QueueConfig::default());
    submit_all(&mut q);
    assert_eq!(ids(&q.schedule(&mut t, 0)), ["start 1"]);
    assert_eq!(q.pending_len(), 4);
}

#[test]
fn easy_backfills_around_one_reservation() {
    let mut t = traverser();
    let mut q = QueueManager::new(QueueConfig {
        policy: QueuePolicy::Easy,
        ..QueueConfig::default()
    });
    submit_all(&mut q);
    // Job 3 ends before job 2's reservation, job 4 would delay it, job 5 never fits.
    assert_eq!(
        ids(&q.schedule(&mut t, 0)),
        ["start 1", "reserve 2@100", "start 3 bf", "reject 5"]
    );
    q.free(&mut t, 1).unwrap();
    q.free(&mut t, 3).unwrap();
    // The previous reservation is dropped and job 2 now starts.
    assert_eq!(ids(&q.schedule(&mut t, 0)), ["start 2", "reserve 4@100"]);
}

#[test]
fn conservative_reserves_every_job() {
    let mut t = traverser();
    let config = QueueConfig {
        policy: QueuePolicy::Conservative,
        ..QueueConfig::default()
    };
    let mut q = QueueManager::new(config);
    submit_all(&mut q);
    let got = ids(&q.schedule(&mut t, 0));
    // Reserving job 5 fails the node-count pre-check with EBUSY (as in Fluxion), so it
    // is parked as blocked rather than rejected.
    assert_eq!(
        got,
        [
            "start 1",
            "reserve 2@100",
            "start 3 bf",
            "reserve 4@200",
            "block 5"
        ]
    );
    assert_eq!(q.blocked_len(), 1);
    q.unblock();
    assert_eq!(q.pending_len(), 3);
    assert_eq!("hybrid".parse::<QueuePolicy>(), Ok(QueuePolicy::Hybrid));
}

#[test]
fn stepped_loop_skips_removed_jobs_and_reprioritizes() {
    let mut t = traverser();
    let mut q = QueueManager::new(QueueConfig {
        policy: QueuePolicy::Easy,
        ..QueueConfig::default()
    });
    q.submit(job(1, 1, 2, 100));
    q.submit(job(2, 2, 1, 50));
    q.submit(job(3, 3, 1, 50));
    assert!(q.reprioritize(3, 20));
    assert!(q.begin_loop().is_empty());
    let step = q.next_match().unwrap();
    assert_eq!(step.id, 3, "the higher priority goes first");
    assert_eq!(step.op, MatchOp::AllocateOrElseReserve);
    // Job 2 goes away while job 3's match is outstanding.
    assert!(q.remove(2).is_some());
    let r = t.run(&q.job(3).unwrap().jobspec.clone(), step.op, 3, 0);
    assert!(matches!(
        q.on_match(3, r),
        Some(Decision::Started { id: 3, .. })
    ));
    let step = q.next_match().unwrap();
    assert_eq!(step.id, 1);
    let r = t.run(&q.job(1).unwrap().jobspec.clone(), step.op, 1, 0);
    assert_eq!(q.on_match(1, r), Some(Decision::Reserved { id: 1, at: 50 }));
    assert_eq!(q.next_match(), None);
    assert!(!q.in_loop());
    assert_eq!(q.begin_loop(), vec![1]);
}

#[test]
fn a_job_removed_in_flight_gives_its_booking_back() {
    let mut t = traverser();
    let mut q = QueueManager::new(QueueConfig::default());
    q.submit(job(7, 1, 1, 10));
    q.begin_loop();
    let step = q.next_match().unwrap();
    let spec = q.job(7).unwrap().jobspec.clone();
    q.remove(7);
    let r = t.run(&spec, step.op, 7, 0);
    assert!(r.is_ok());
    assert_eq!(q.on_match(7, r), None);
    assert_eq!(q.begin_loop(), vec![7], "released by the next loop");
}

/// One loop over `queues`, matching against `t` (what the module does through rpcs).
fn schedule_queues(queues: &mut Queues, t: &mut Traverser, now: i64) -> Vec<Decision> {
    for id in queues.begin_loop() {
        let _ = t.cancel(id);
    }
    let mut decisions = Vec::new();
    let jobs: std::collections::HashMap<i64, PendingJob> = (1..=9)
        .map(|id| (id, job(id, id as u64, if id == 1 { 2 } else { 1 }, 100)))
        .collect();
    while let Some(step) = queues.next_match() {
        let result = t.run(&jobs[&step.id].jobspec, step.op, step.id, now);
        decisions.extend(queues.on_match(step.id, result));
    }
    decisions
}

#[test]
fn a_blocked_fcfs_queue_holds_up_only_itself() {
    let mut t = traverser();
    let fcfs = QueueConfig::default();
    let mut queues = Queues::named(vec![("batch".into(), fcfs), ("debug".into(), fcfs)]);
    // Job 9 holds a node; job 1 (two nodes) then blocks the head of `batch`.
    queues.submit(Some("debug"), job(9, 0, 1, 100)).unwrap();
    assert_eq!(ids(&schedule_queues(&mut queues, &mut t, 0)), ["start 9"]);
    queues.submit(Some("batch"), job(1, 1, 2, 100)).unwrap();
    queues.submit(Some("batch"), job(2, 2, 1, 100)).unwrap();
    queues.submit(Some("debug"), job(3, 3, 1, 100)).unwrap();
    assert_eq!(
        ids(&schedule_queues(&mut queues, &mut t, 0)),
        ["start 3"],
        "batch waits behind job 1 under fcfs; debug does not"
    );
    assert_eq!(queues.pending_len(), 2);
    assert!(queues.submit(Some("gpu"), job(4, 4, 1, 1)).is_err());
    assert!(queues.submit(None, job(4, 4, 1, 1)).is_err());
    assert!(queues.reprioritize(2, 20));
    assert!(queues.remove(2).is_some());
    assert!(queues.remove(2).is_none());
    assert!(!queues.reprioritize(2, 1));
}

#[test]
fn the_anonymous_queue_takes_any_job() {
    let mut t = traverser();
    let mut queues = Queues::anonymous(QueueConfig::default());
    queues.submit(Some("whatever"), job(2, 2, 1, 100)).unwrap();
    queues.submit(None, job(3, 3, 1, 100)).unwrap();
    assert_eq!(
        ids(&schedule_queues(&mut queues, &mut t, 0)),
        ["start 2", "start 3"]
    );
    assert_eq!(queues.configs().count(), 1);
}
