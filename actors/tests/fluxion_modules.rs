//! `sched-fluxion-resource` + `sched-fluxion-qmanager` in a real broker: a test endpoint
//! drives the `sched` protocol (alloc, free, cancel, feasibility, resource-status) the way
//! the job manager does, and swaps the schedulers with `module.load` / `module.remove`.

use std::path::PathBuf;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_actors::msg::{Attach, Deliver, Endpoint, Route};
use flux_actors::tracer::{Probe, Tracer};
use flux_actors::{Broker, BrokerConfig};
use flux_proto::{Envelope, errno, nodeid, role};
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Sink(mpsc::UnboundedSender<Envelope>);

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Sink {
    type Result = ();
    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        let _ = self.0.send(msg);
    }
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fluxion")
        .join(name)
        .display()
        .to_string()
}

/// A broker and a client endpoint that matches responses to requests by tag.
struct Fixture {
    broker: Addr<Broker>,
    rx: mpsc::UnboundedReceiver<Envelope>,
    early: Vec<Envelope>,
    tag: u32,
    _rundir: tempfile::TempDir,
}

async fn fixture(modules: Vec<(&str, Vec<String>)>, attrs: &[(&str, String)]) -> Fixture {
    let rundir = tempfile::tempdir().unwrap();
    let mut setattrs = vec![
        ("rundir".into(), rundir.path().display().to_string()),
        (
            "statedir".into(),
            rundir.path().join("state").display().to_string(),
        ),
        ("broker.rc2_none".into(), "1".into()),
    ];
    setattrs.extend(attrs.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let config = BrokerConfig {
        rank: 0,
        size: 1,
        setattrs,
        initial_program: None,
        modules: modules
            .into_iter()
            .map(|(n, a)| (n.to_string(), a))
            .collect(),
        owns_process: false,
        conf: Default::default(),
    };
    let broker = Broker::launch(config, None, Tracer::default().start()).unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let sink = Sink(tx).start();
    broker
        .send(Attach {
            id: "client".into(),
            endpoint: Endpoint {
                deliver: sink.recipient(),
                probe: Probe::new("client", "test", 0),
            },
            services: vec![],
        })
        .await
        .unwrap()
        .unwrap();
    Fixture {
        broker,
        rx,
        early: Vec::new(),
        tag: 0,
        _rundir: rundir,
    }
}

/// The two Fluxion modules over the 2-node, 8-core R, with extra qmanager options.
async fn fluxion(qmanager_args: &[&str]) -> Fixture {
    let resource = vec![
        format!("load-file={}", data("r-2node.json")),
        "policy=low".into(),
    ];
    let qmanager = qmanager_args.iter().map(|s| s.to_string()).collect();
    let mut f = fixture(
        vec![
            ("sched-fluxion-resource", resource),
            ("sched-fluxion-qmanager", qmanager),
        ],
        &[],
    )
    .await;
    f.wait_ready().await;
    f
}

/// `nslots` slots of `cores` cores for `secs` seconds (0: unlimited).
fn jobspec(nslots: u32, cores: u32, secs: u32) -> Value {
    json!({
        "version": 1,
        "resources": [{"type": "slot", "count": nslots, "label": "task",
                       "with": [{"type": "core", "count": cores}]}],
        "tasks": [{"command": ["true"], "slot": "task", "count": {"per_slot": 1}}],
        "attributes": {"system": {"duration": secs}}
    })
}

fn alloc(id: u64, jobspec: Value) -> Value {
    json!({"id": id, "priority": 16, "userid": 0, "t_submit": 1.0, "jobspec": jobspec})
}

impl Fixture {
    /// Send a request; returns its tag.
    fn send(&mut self, topic: &str, body: &Value) -> u32 {
        self.tag += 1;
        let mut msg = Envelope::request(topic, nodeid::ANY, Bytes::from(body.to_string()));
        msg.matchtag = self.tag;
        msg.rolemask = role::OWNER;
        msg.route.push("client".into());
        self.broker.do_send(Route {
            from: "client".into(),
            msg,
        });
        self.tag
    }

    /// The response to request `tag`, if it comes within `wait`.
    async fn response(&mut self, tag: u32, wait: Duration) -> Option<Envelope> {
        if let Some(i) = self.early.iter().position(|m| m.matchtag == tag) {
            return Some(self.early.remove(i));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .ok()??;
            if msg.matchtag == tag {
                return Some(msg);
            }
            self.early.push(msg);
        }
    }

    async fn expect(&mut self, tag: u32) -> Envelope {
        self.response(tag, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("no response to request {tag}"))
    }

    async fn rpc(&mut self, topic: &str, body: Value) -> Envelope {
        let tag = self.send(topic, &body);
        self.expect(tag).await
    }

    async fn notify(&mut self, topic: &str, body: Value) {
        self.tag += 1;
        let mut msg = Envelope::request(topic, nodeid::ANY, Bytes::from(body.to_string()));
        msg.flags |= flux_proto::flags::NORESPONSE;
        msg.rolemask = role::OWNER;
        msg.route.push("client".into());
        self.broker.do_send(Route {
            from: "client".into(),
            msg,
        });
    }

    async fn status(&mut self) -> Value {
        let rsp = self.rpc("sched-fluxion-qmanager.status", json!({})).await;
        assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
        rsp.json().unwrap()
    }

    async fn wait_ready(&mut self) {
        for _ in 0..250 {
            if self.status().await["resource-ready"] == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("qmanager never saw the resource graph");
    }

    async fn load(&mut self, name: &str, args: &[&str]) -> Envelope {
        self.rpc("module.load", json!({"name": name, "args": args}))
            .await
    }

    async fn remove(&mut self, name: &str) -> Envelope {
        self.rpc("module.remove", json!({"name": name})).await
    }
}

fn r_lite(rsp: &Envelope) -> Value {
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    rsp.json::<Value>().unwrap()["R"]["execution"]["R_lite"].clone()
}

const QUIET: Duration = Duration::from_millis(200);

#[actix_rt::test]
async fn fcfs_allocates_frees_and_cancels() {
    let mut f = fluxion(&[]).await;
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(2, 3, 0))).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0-1", "children": {"core": "0-2"}}])
    );
    let body: Value = rsp.json().unwrap();
    assert_eq!(body["id"], json!(1));
    assert_eq!(body["annotations"]["sched"]["selection_type"], "immediate");

    // Never satisfiable, and malformed: answered at once.
    let rsp = f.rpc("sched.alloc", alloc(2, jobspec(1, 5, 0))).await;
    assert_eq!(
        (rsp.errnum, rsp.errstr.as_str()),
        (errno::ENOSPC, "unsatisfiable request")
    );
    let rsp = f.rpc("sched.alloc", alloc(3, json!({"version": 1}))).await;
    assert_eq!(rsp.errnum, errno::EINVAL);
    assert!(rsp.errstr.contains("jobspec"), "{}", rsp.errstr);
    let mut gpus = jobspec(1, 1, 0);
    gpus["resources"][0]["with"][0]["type"] = json!("gpu");
    let rsp = f.rpc("sched.alloc", alloc(4, gpus)).await;
    assert_eq!(rsp.errnum, errno::ENOSPC);

    // Busy: waits, and says why.
    let job5 = f.send("sched.alloc", &alloc(5, jobspec(1, 2, 0)));
    let job6 = f.send("sched.alloc", &alloc(6, jobspec(1, 4, 0)));
    assert!(f.response(job5, QUIET).await.is_none());
    let rsp = f.rpc("sched.alloc", alloc(5, jobspec(1, 1, 0))).await;
    assert_eq!(rsp.errnum, errno::EEXIST, "one request per job");
    let status = f.status().await;
    assert_eq!(status["queue-policy"], "fcfs");
    assert_eq!(status["pending"][0]["id"], json!(5));
    assert_eq!(
        status["pending"][0]["reason_pending"],
        "insufficient resources"
    );

    let rsp = f.rpc("sched.resource-status", json!({})).await;
    let rs: Value = rsp.json().unwrap();
    assert_eq!(
        rs["all"]["execution"]["R_lite"],
        json!([{"rank": "0-1", "children": {"core": "0-3"}}])
    );
    assert_eq!(
        rs["allocated"]["execution"]["R_lite"],
        json!([{"rank": "0-1", "children": {"core": "0-2"}}])
    );
    assert_eq!(rs["down"], "");

    // Free job 1: job 5 then job 6 start.
    f.notify("sched.free", json!({"id": 1, "R": null})).await;
    let rsp = f.expect(job5).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "0-1"}}])
    );
    let rsp = f.expect(job6).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "1", "children": {"core": "0-3"}}])
    );

    // Cancel a waiting job.
    let job7 = f.send("sched.alloc", &alloc(7, jobspec(1, 4, 0)));
    assert!(f.response(job7, QUIET).await.is_none());
    f.notify("sched.cancel", json!({"id": 7})).await;
    let rsp = f.expect(job7).await;
    assert_eq!(rsp.errnum, errno::ECANCELED);
    assert_eq!(f.status().await["pending"], json!([]));

    // fcfs: job 9 waits behind job 8 until it is given a higher priority.
    let job8 = f.send("sched.alloc", &alloc(8, jobspec(1, 4, 0)));
    let job9 = f.send("sched.alloc", &alloc(9, jobspec(1, 2, 0)));
    assert!(f.response(job9, QUIET).await.is_none());
    f.notify("sched.prioritize", json!({"jobs": [[9, 20]]}))
        .await;
    let rsp = f.expect(job9).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "2-3"}}])
    );
    assert!(f.response(job8, QUIET).await.is_none());
    let status = f.status().await;
    assert_eq!(status["pending"][0]["id"], json!(8));
}

#[actix_rt::test]
async fn feasibility_refuses_what_can_never_run() {
    let mut f = fluxion(&[]).await;
    let ok = f
        .rpc("sched.feasibility", json!({"jobspec": jobspec(8, 1, 0)}))
        .await;
    assert_eq!(ok.errnum, 0, "{}", ok.errstr);
    let too_big = f
        .rpc("sched.feasibility", json!({"jobspec": jobspec(1, 5, 0)}))
        .await;
    assert_eq!(too_big.errnum, errno::ENOSPC);
    let bad = f
        .rpc("sched.feasibility", json!({"jobspec": {"version": 1}}))
        .await;
    assert_eq!(bad.errnum, errno::EINVAL);
    // Busy resources do not make a job infeasible.
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(8, 1, 0))).await;
    assert_eq!(rsp.errnum, 0);
    let ok = f
        .rpc("sched.feasibility", json!({"jobspec": jobspec(1, 4, 0)}))
        .await;
    assert_eq!(ok.errnum, 0, "{}", ok.errstr);
}

#[actix_rt::test]
async fn easy_reserves_with_a_start_estimate_and_backfills() {
    let mut f = fluxion(&["queue-policy=easy", "queue-params=queue-depth=8"]).await;
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(1, 4, 100))).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "0-3"}}])
    );
    let body: Value = rsp.json().unwrap();
    let expiration = body["R"]["execution"]["expiration"].as_i64().unwrap();
    // Needs all 8 cores: reserved for when job 1 ends.
    let job2 = f.send("sched.alloc", &alloc(2, jobspec(2, 4, 10)));
    // Fits before the reservation on the free node: backfilled.
    let job3 = f.send("sched.alloc", &alloc(3, jobspec(1, 4, 50)));
    let rsp = f.expect(job3).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "1", "children": {"core": "0-3"}}])
    );
    let body: Value = rsp.json().unwrap();
    assert_eq!(body["annotations"]["sched"]["selection_type"], "backfill");
    assert!(f.response(job2, QUIET).await.is_none());
    let status = f.status().await;
    assert_eq!(status["queue-policy"], "easy");
    assert_eq!(status["reservation-depth"], json!(1));
    let pending = &status["pending"][0];
    assert_eq!(pending["id"], json!(2));
    assert_eq!(pending["t_estimate"], json!(expiration));

    f.notify("sched.free", json!({"id": 1})).await;
    f.notify("sched.free", json!({"id": 3})).await;
    let rsp = f.expect(job2).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0-1", "children": {"core": "0-3"}}])
    );
    let body: Value = rsp.json().unwrap();
    assert_eq!(body["annotations"]["sched"]["selection_type"], "reserved");
}

#[actix_rt::test]
async fn swaps_with_sched_simple_and_refuses_bad_options() {
    let mut f = fluxion(&[]).await;
    let rsp = f.load("sched-simple", &[]).await;
    assert_ne!(rsp.errnum, 0);
    assert!(rsp.errstr.contains("sched"), "{}", rsp.errstr);
    assert_eq!(f.remove("sched-fluxion-qmanager").await.errnum, 0);
    assert_eq!(f.remove("sched-fluxion-resource").await.errnum, 0);
    assert_eq!(f.load("sched-simple", &[]).await.errnum, 0);
    assert_eq!(f.remove("sched-simple").await.errnum, 0);

    let rsp = f
        .load("sched-fluxion-qmanager", &["queue-policy=lifo"])
        .await;
    assert!(
        rsp.errstr.contains("unknown queue-policy 'lifo'"),
        "{}",
        rsp.errstr
    );
    let rsp = f
        .load("sched-fluxion-qmanager", &["queue-params=queue-depth=0"])
        .await;
    assert!(rsp.errstr.contains("queue-depth=0"), "{}", rsp.errstr);
    let rsp = f.load("sched-fluxion-resource", &["policy=best"]).await;
    assert!(
        rsp.errstr.contains("unknown match policy 'best'"),
        "{}",
        rsp.errstr
    );
    let rsp = f
        .load("sched-fluxion-resource", &["load-file=/nonexistent.json"])
        .await;
    assert!(rsp.errstr.contains("/nonexistent.json"), "{}", rsp.errstr);

    // The tutorial's reload, on a JGF this time.
    let jgf = format!("load-file={}", data("jgf-2node.json"));
    let rsp = f
        .load(
            "sched-fluxion-resource",
            &["load-allowlist=node,socket,core", &jgf],
        )
        .await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    let rsp = f
        .load("sched-fluxion-qmanager", &["queue-params=queue-depth=4"])
        .await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    f.wait_ready().await;
    assert_eq!(f.status().await["queue-depth"], json!(4));
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(2, 2, 0))).await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);

    // Without the resource module the queue waits; with it back, it runs.
    assert_eq!(f.remove("sched-fluxion-resource").await.errnum, 0);
    let job2 = f.send("sched.alloc", &alloc(2, jobspec(1, 1, 0)));
    assert!(f.response(job2, QUIET).await.is_none());
    let rsp = f.load("sched-fluxion-resource", &[&jgf]).await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    assert_eq!(f.expect(job2).await.errnum, 0);
}

#[actix_rt::test]
async fn the_graph_follows_resource_acquire() {
    // R has ranks 0-1 but the instance has one broker: rank 1 stays down.
    let mut f = fixture(
        vec![
            // Listed before `resource`: the order of loading does not matter.
            (
                "sched-fluxion-resource",
                vec!["load-allowlist=node,core".into()],
            ),
            ("sched-fluxion-qmanager", vec![]),
            ("kvs", vec![]),
            ("resource", vec![]),
        ],
        &[("resource.path", data("r-2node-sched.json"))],
    )
    .await;
    f.wait_ready().await;
    let rs: Value = f
        .rpc("sched.resource-status", json!({}))
        .await
        .json()
        .unwrap();
    assert_eq!(rs["down"], "1");
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(1, 4, 0))).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "0-3"}}])
    );
    f.notify("sched.free", json!({"id": 1})).await;

    // Drained: the job waits until the rank comes back.
    let rsp = f.rpc("resource.drain", json!({"targets": "0"})).await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    let job2 = f.send("sched.alloc", &alloc(2, jobspec(1, 1, 0)));
    assert!(f.response(job2, QUIET).await.is_none());
    let rsp = f.rpc("resource.undrain", json!({"targets": "0"})).await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    let rsp = f.expect(job2).await;
    // The default policy, first, prefers high ids.
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "3"}}])
    );
}

#[actix_rt::test]
async fn an_hwloc_xml_file_is_the_graph() {
    let mut f = fluxion(&[]).await;
    assert_eq!(f.remove("sched-fluxion-qmanager").await.errnum, 0);
    assert_eq!(f.remove("sched-fluxion-resource").await.errnum, 0);
    // A file that is not an hwloc topology refuses the load, and says why.
    let bad = format!("load-file={}", data("r-2node.json"));
    let rsp = f
        .load("sched-fluxion-resource", &["load-format=hwloc", &bad])
        .await;
    assert!(rsp.errstr.contains("hwloc: "), "{}", rsp.errstr);

    // fluke0: 2 packages x 2 cores, read as rank 0; sockets are kept, PUs dropped.
    let xml = format!("load-file={}", data("hwloc-fluke0.xml"));
    let args = [
        "load-format=hwloc",
        "load-allowlist=node,socket,core",
        "policy=low",
        &xml,
    ];
    let rsp = f.load("sched-fluxion-resource", &args).await;
    assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
    assert_eq!(f.load("sched-fluxion-qmanager", &[]).await.errnum, 0);
    f.wait_ready().await;
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(2, 2, 0))).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "0-3"}}])
    );
    let body: Value = rsp.json().unwrap();
    assert_eq!(body["R"]["execution"]["nodelist"], json!(["fluke0"]));
    let rsp = f.rpc("sched.alloc", alloc(2, jobspec(1, 5, 0))).await;
    assert_eq!(rsp.errnum, errno::ENOSPC);
}

/// Fluxion on a simulated machine (`resource.hwloc-xml`, fluke0: 2 packages x 2 cores)
/// standing for this host's hwloc topology, ready to schedule.
async fn fluke0_from_hwloc(resource_args: &[&str]) -> Fixture {
    let mut resource = vec!["load-format=hwloc".to_string()];
    resource.extend(resource_args.iter().map(|a| a.to_string()));
    let mut f = fixture(
        vec![
            ("sched-fluxion-resource", resource),
            ("sched-fluxion-qmanager", vec![]),
        ],
        &[("resource.hwloc-xml", data("hwloc-fluke0.xml"))],
    )
    .await;
    f.wait_ready().await;
    f
}

#[actix_rt::test]
async fn load_format_hwloc_alone_reads_this_machine() {
    // A simulated machine (`resource.hwloc-xml`) stands for this host's hwloc topology.
    let mut f = fluke0_from_hwloc(&["policy=high"]).await;
    let rsp = f.rpc("sched.alloc", alloc(1, jobspec(1, 2, 0))).await;
    assert_eq!(
        r_lite(&rsp),
        json!([{"rank": "0", "children": {"core": "2-3"}}])
    );
}

#[actix_rt::test]
async fn hwloc_graphs_leave_sockets_out_by_default() {
    // fluke0 has 2 packages x 2 cores: a 3-core slot spans them, which a graph with a
    // socket level cannot give (`node->slot->core` does not skip levels).
    for (allowlist, fits) in [
        (None, true),
        (Some("load-allowlist=node,socket,core"), false),
    ] {
        let mut f = fluke0_from_hwloc(allowlist.as_slice()).await;
        let rsp = f.rpc("sched.alloc", alloc(1, jobspec(1, 3, 0))).await;
        assert_eq!(rsp.errnum == 0, fits, "{allowlist:?}: {}", rsp.errstr);
    }
}
