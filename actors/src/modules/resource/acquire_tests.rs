//! The resource module in a real broker: `resource.acquire` streams up/down changes as
//! ranks are drained and undrained.

use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::{Envelope, flags, role};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::msg::{Attach, Deliver, Endpoint, Route};
use crate::tracer::{Probe, Tracer};
use crate::{Broker, BrokerConfig};

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

struct Client {
    broker: Addr<Broker>,
    rx: mpsc::UnboundedReceiver<Envelope>,
    _dir: tempfile::TempDir,
}

impl Client {
    fn send(&self, topic: &str, tag: u32, body: Value, streaming: bool) {
        let mut msg = Envelope::request(topic, 0, Bytes::from(body.to_string()));
        msg.matchtag = tag;
        msg.rolemask = role::OWNER;
        if streaming {
            msg.flags |= flags::STREAMING;
        }
        msg.route.push("client".into());
        self.broker.do_send(Route {
            from: "client".into(),
            msg,
        });
    }

    async fn next(&mut self) -> (u32, Value) {
        let rsp = tokio::time::timeout(Duration::from_secs(5), self.rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rsp.errnum, 0, "{}", rsp.errstr);
        (rsp.matchtag, rsp.json().unwrap())
    }
}

/// A broker of size 1 whose R has two ranks (rank 1 has no broker: down).
async fn client() -> Client {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("R.json");
    std::fs::write(
        &r,
        r#"{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-3"}}],"nodelist":["n[0-1]"]}}"#,
    )
    .unwrap();
    let config = BrokerConfig {
        rank: 0,
        size: 1,
        setattrs: vec![
            ("rundir".into(), dir.path().display().to_string()),
            (
                "statedir".into(),
                dir.path().join("state").display().to_string(),
            ),
            ("broker.rc2_none".into(), "1".into()),
            ("resource.path".into(), r.display().to_string()),
        ],
        initial_program: None,
        modules: vec![("resource".into(), vec![])],
        owns_process: false,
        conf: Default::default(),
    };
    let broker = Broker::launch(config, None, Tracer::default().start()).unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    broker
        .send(Attach {
            id: "client".into(),
            endpoint: Endpoint {
                deliver: Sink(tx).start().recipient(),
                probe: Probe::new("client", "test", 0),
            },
            services: vec![],
        })
        .await
        .unwrap()
        .unwrap();
    Client {
        broker,
        rx,
        _dir: dir,
    }
}

#[actix_rt::test]
async fn acquire_streams_drain_and_undrain() {
    let mut c = client().await;
    c.send("resource.acquire", 1, json!({}), true);
    let (tag, first) = c.next().await;
    assert_eq!(tag, 1);
    assert_eq!(first["up"], "0");
    assert_eq!(first["resources"]["execution"]["R_lite"][0]["rank"], "0-1");

    c.send(
        "resource.drain",
        2,
        json!({"targets": "n0", "reason": "fix"}),
        false,
    );
    assert_eq!(c.next().await, (2, json!({})));
    assert_eq!(c.next().await, (1, json!({"down": "0"})));

    c.send("resource.undrain", 3, json!({"targets": "0"}), false);
    assert_eq!(c.next().await, (3, json!({})));
    assert_eq!(c.next().await, (1, json!({"up": "0"})));

    c.send("resource.status", 4, json!({}), false);
    let (_, status) = c.next().await;
    assert_eq!(
        (status["online"].clone(), status["offline"].clone()),
        (json!("0"), json!("1"))
    );
    assert_eq!(status["drain"], json!({}));
}

#[actix_rt::test]
async fn acquire_must_stream() {
    let mut c = client().await;
    c.send("resource.acquire", 1, json!({}), false);
    let rsp = tokio::time::timeout(Duration::from_secs(5), c.rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rsp.errnum, flux_proto::errno::EPROTO);
}
