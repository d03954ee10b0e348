//! One connected client: frames in, stamped with credentials and a route hop, to the
//! broker; deliveries from the broker, framed out.

use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use flux_proto::{Envelope, EnvelopeCodec, MsgType, USERID_UNKNOWN, role};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio_util::codec::FramedRead;

use crate::broker::Broker;
use crate::msg::{Attach, Deliver, Detach, Endpoint, Log, Route};
use crate::tracer::{Probe, Register, Tracer};

/// The actor serving one client connection.
pub struct Session {
    id: String,
    owner: u32,
    broker: Addr<Broker>,
    writer: FramedWrite<Envelope, OwnedWriteHalf, EnvelopeCodec>,
    probe: Probe,
}

impl Session {
    /// Admit the client (handshake byte 0) and start its session.
    pub fn start_for(
        mut stream: UnixStream,
        id: String,
        owner: u32,
        rank: u32,
        broker: Addr<Broker>,
        tracer: Addr<Tracer>,
    ) {
        actix::spawn(async move {
            if stream.write_u8(0).await.is_err() {
                return;
            }
            let (read, write) = stream.into_split();
            let probe = Probe::new(format!("session-{id}"), "session", rank);
            tracer.do_send(Register(probe.clone()));
            Session::create(move |ctx| {
                ctx.add_stream(FramedRead::new(read, EnvelopeCodec::default()));
                let writer = FramedWrite::new(write, EnvelopeCodec::default(), ctx);
                broker.do_send(Attach {
                    id: id.clone(),
                    endpoint: Endpoint {
                        deliver: ctx.address().recipient(),
                        probe: probe.clone(),
                    },
                    services: Vec::new(),
                });
                Session {
                    id,
                    owner,
                    broker,
                    writer,
                    probe,
                }
            });
        });
    }

    /// Fill in the sender's credentials: the connector knows the peer is the owner, who may
    /// speak as another user (RFC 12); everything local gets the LOCAL role.
    fn stamp(&self, msg: &mut Envelope) {
        if msg.userid == USERID_UNKNOWN || msg.rolemask == role::NONE {
            msg.userid = self.owner;
            msg.rolemask = role::OWNER;
        }
        msg.rolemask |= role::LOCAL;
    }
}

impl Actor for Session {
    type Context = Context<Self>;

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.broker.do_send(Detach {
            id: self.id.clone(),
        });
    }
}

impl StreamHandler<Result<Envelope, std::io::Error>> for Session {
    fn handle(&mut self, item: Result<Envelope, std::io::Error>, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match item {
            Ok(mut msg) if msg.kind() == MsgType::Request => {
                self.stamp(&mut msg);
                msg.route.push(self.id.clone());
                self.probe.sent();
                self.broker.do_send(Route {
                    from: self.id.clone(),
                    msg,
                });
            }
            Ok(msg) => {
                self.broker.do_send(Log {
                    severity: 4,
                    appname: "connector-local".into(),
                    msg: format!(
                        "client {} sent a {:?} message: dropped",
                        self.id,
                        msg.kind()
                    ),
                });
            }
            Err(e) => {
                // Garbage or an oversized frame: this client is done, nobody else is affected.
                self.broker.do_send(Log {
                    severity: 4,
                    appname: "connector-local".into(),
                    msg: format!("client {} disconnected: {e}", self.id),
                });
                ctx.stop();
            }
        }
    }
}

impl Handler<Deliver> for Session {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.probe.sent();
        self.writer.write(msg);
    }
}

impl WriteHandler<std::io::Error> for Session {}
