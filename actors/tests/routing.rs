//! The broker's routing with real actors and no sockets: a test endpoint attaches, sends
//! requests, and checks what comes back.

use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_actors::msg::{Attach, Deliver, Endpoint, Route};
use flux_actors::tracer::{Probe, Tracer};
use flux_actors::{Broker, BrokerConfig};
use flux_proto::{Envelope, MsgType, errno, flags, nodeid, role};
use tokio::sync::mpsc;

/// Forwards whatever the broker delivers to a channel.
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

struct Fixture {
    broker: Addr<Broker>,
    rx: mpsc::UnboundedReceiver<Envelope>,
    _rundir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let rundir = tempfile::tempdir().unwrap();
    let config = BrokerConfig {
        rank: 0,
        size: 1,
        setattrs: vec![
            ("rundir".into(), rundir.path().display().to_string()),
            (
                "statedir".into(),
                rundir.path().join("state").display().to_string(),
            ),
            ("broker.rc2_none".into(), "1".into()),
        ],
        initial_program: None,
        modules: vec![("heartbeat".into(), vec![])],
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
        _rundir: rundir,
    }
}

impl Fixture {
    async fn request(&mut self, topic: &str, nodeid: u32, payload: &str) -> Envelope {
        let mut msg = Envelope::request(topic, nodeid, Bytes::from(payload.to_string()));
        msg.matchtag = 9;
        msg.rolemask = role::OWNER;
        msg.route.push("client".into());
        self.broker.do_send(Route {
            from: "client".into(),
            msg,
        });
        tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .unwrap()
            .unwrap()
    }
}

#[actix_rt::test]
async fn requests_reach_builtin_and_module_services() {
    let mut f = fixture().await;
    let rsp = f
        .request("attr.get", nodeid::ANY, r#"{"name":"rank"}"#)
        .await;
    assert_eq!(
        (rsp.kind(), rsp.errnum, rsp.matchtag),
        (MsgType::Response, 0, 9)
    );
    assert_eq!(&rsp.payload[..], br#"{"value":"0"}"#);
    assert!(rsp.route.is_empty(), "the hop was popped on the way back");

    let rsp = f.request("heartbeat.ping", 0, r#"{"seq":1}"#).await;
    assert_eq!(rsp.errnum, 0);
    assert_eq!(rsp.json::<serde_json::Value>().unwrap()["route"], "client");
}

#[actix_rt::test]
async fn unknown_services_and_ranks_get_errors() {
    let mut f = fixture().await;
    let rsp = f.request("nosuch.method", nodeid::ANY, "{}").await;
    assert_eq!(rsp.errnum, errno::ENOSYS);
    let rsp = f.request("heartbeat.ping", 5, "{}").await;
    assert_eq!(rsp.errnum, errno::EHOSTUNREACH);
    let rsp = f.request("heartbeat.nosuch", nodeid::ANY, "{}").await;
    assert_eq!(rsp.errnum, errno::ENOSYS);
    let rsp = f.request("attr.get", nodeid::ANY, "not json").await;
    assert_eq!(rsp.errnum, errno::EPROTO);
}

#[actix_rt::test]
async fn guests_may_not_use_owner_services() {
    let mut f = fixture().await;
    let mut msg = Envelope::request(
        "attr.set",
        nodeid::ANY,
        Bytes::from_static(br#"{"name":"x","value":"1"}"#),
    );
    msg.rolemask = role::USER;
    msg.route.push("client".into());
    f.broker.do_send(Route {
        from: "client".into(),
        msg,
    });
    let rsp = f.rx.recv().await.unwrap();
    assert_eq!(rsp.errnum, errno::EPERM);
}

#[actix_rt::test]
async fn events_reach_subscribers_with_increasing_sequence() {
    let mut f = fixture().await;
    f.request("event.subscribe", nodeid::ANY, r#"{"topic":"t."}"#)
        .await;
    let a = f.request("event.publish", 0, r#"{"topic":"t.one"}"#).await;
    // The event may arrive before or after the publish response.
    let mut got = [a, f.rx.recv().await.unwrap()];
    got.sort_by_key(|m| m.msg_type);
    let (rsp, event) = (&got[0], &got[1]);
    assert_eq!(event.kind(), MsgType::Event);
    assert_eq!(event.topic, "t.one");
    let seq: serde_json::Value = rsp.json().unwrap();
    assert_eq!(seq["seq"], event.seq);

    let mut noresp = Envelope::request(
        "event.publish",
        0,
        Bytes::from_static(br#"{"topic":"t.two"}"#),
    );
    noresp.flags |= flags::NORESPONSE;
    noresp.route.push("client".into());
    f.broker.do_send(Route {
        from: "client".into(),
        msg: noresp,
    });
    let next = f.rx.recv().await.unwrap();
    assert_eq!(
        (next.kind(), next.topic.as_str(), next.seq),
        (MsgType::Event, "t.two", event.seq + 1)
    );
}

/// A module-like endpoint making rpcs with [`RpcClient`].
struct Caller {
    rpc: flux_actors::modules::RpcClient,
}

impl Actor for Caller {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Caller {
    type Result = ();
    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        assert!(self.rpc.on_response(msg), "a response to one of our rpcs");
    }
}

#[derive(Message)]
#[rtype(result = "Result<Envelope, flux_proto::Error>")]
struct Call(&'static str, &'static str);

impl Handler<Call> for Caller {
    type Result = ResponseFuture<Result<Envelope, flux_proto::Error>>;
    fn handle(&mut self, Call(topic, body): Call, _: &mut Context<Self>) -> Self::Result {
        Box::pin(
            self.rpc
                .call(topic, nodeid::ANY, Bytes::from_static(body.as_bytes())),
        )
    }
}

#[actix_rt::test]
async fn modules_make_rpcs_through_the_broker() {
    let f = fixture().await;
    let caller = Caller::create(|ctx| {
        f.broker.do_send(Attach {
            id: "caller".into(),
            endpoint: Endpoint {
                deliver: ctx.address().recipient(),
                probe: Probe::new("caller", "test", 0),
            },
            services: vec![],
        });
        Caller {
            rpc: flux_actors::modules::RpcClient::new("caller", 0, f.broker.clone()),
        }
    });
    let rsp = caller
        .send(Call("heartbeat.ping", r#"{"seq":5}"#))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rsp.json::<serde_json::Value>().unwrap()["seq"], 5);
    let err = caller
        .send(Call("nosuch.thing", "{}"))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.errnum(), errno::ENOSYS);
}
