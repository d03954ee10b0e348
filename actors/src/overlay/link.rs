//! One TCP connection between two brokers of the tree, after the handshake: frames in,
//! handed to the broker as coming from `r<peer>`; deliveries out.

use std::time::{Duration, Instant};

use actix::io::{FramedWrite, WriteHandler};
use actix::prelude::*;
use flux_proto::{Envelope, EnvelopeCodec, MsgType};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio_util::codec::FramedRead;

use crate::broker::Broker;
use crate::msg::{Attach, Deliver, Detach, Endpoint, Log, Route, Stop};
use crate::tracer::{Probe, Register, Tracer};

const KEEPALIVE_TOPIC: &str = "overlay.keepalive";

/// The route id of the link to `rank`.
pub fn link_id(rank: u32) -> String {
    format!("r{rank}")
}

/// The rank a link id names, if it names one.
pub fn link_rank(id: &str) -> Option<u32> {
    id.strip_prefix('r')?.parse().ok()
}

/// How often a link says it is alive when it has nothing else to say.
const KEEPALIVE: Duration = Duration::from_secs(1);
/// A peer silent for this long is lost (cut off, or hung).
const PEER_TIMEOUT: Duration = Duration::from_secs(5);

/// The actor owning one overlay connection.
pub struct Link {
    id: String,
    broker: Addr<Broker>,
    writer: FramedWrite<Envelope, OwnedWriteHalf, EnvelopeCodec>,
    probe: Probe,
    last_heard: Instant,
    /// When the keepalive timer last ran.
    last_tick: Instant,
}

impl Link {
    /// Start the link to `peer` on an admitted connection and attach it to the broker.
    pub fn start_for(
        stream: TcpStream,
        peer: u32,
        rank: u32,
        broker: Addr<Broker>,
        tracer: &Addr<Tracer>,
    ) {
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let id = link_id(peer);
        let probe = Probe::new(format!("overlay-{id}"), "overlay", rank);
        tracer.do_send(Register(probe.clone()));
        Link::create(move |ctx| {
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
            Link {
                id,
                broker,
                writer,
                probe,
                last_heard: Instant::now(),
                last_tick: Instant::now(),
            }
        });
    }
}

impl Actor for Link {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(KEEPALIVE, |act, ctx| {
            // A late tick means this process was stalled (overloaded host, a long
            // synchronous step): the peer's keepalives may be waiting unread in the socket,
            // so silence is judged only over time this side was running.
            if act.last_tick.elapsed() > 2 * KEEPALIVE {
                act.last_heard = Instant::now();
            }
            act.last_tick = Instant::now();
            if act.last_heard.elapsed() > PEER_TIMEOUT {
                act.broker.do_send(Log {
                    severity: 3,
                    appname: "overlay".into(),
                    msg: format!("{}: no word for {}s", act.id, PEER_TIMEOUT.as_secs()),
                });
                ctx.stop();
                return;
            }
            act.writer.write(Envelope {
                msg_type: MsgType::Control as i32,
                topic: KEEPALIVE_TOPIC.into(),
                ..Default::default()
            });
        });
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.broker.do_send(Detach {
            id: self.id.clone(),
        });
    }
}

impl StreamHandler<Result<Envelope, std::io::Error>> for Link {
    fn handle(&mut self, item: Result<Envelope, std::io::Error>, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match item {
            Ok(msg) if msg.kind() == MsgType::Control && msg.topic == KEEPALIVE_TOPIC => {
                self.last_heard = Instant::now();
            }
            Ok(mut msg) => {
                self.last_heard = Instant::now();
                if msg.kind() == MsgType::Request {
                    msg.route.push(self.id.clone());
                }
                self.probe.sent();
                self.broker.do_send(Route {
                    from: self.id.clone(),
                    msg,
                });
            }
            Err(e) => {
                self.broker.do_send(Log {
                    severity: 3,
                    appname: "overlay".into(),
                    msg: format!("{}: {e}", self.id),
                });
                ctx.stop();
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Deliver> for Link {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.probe.sent();
        self.writer.write(msg);
    }
}

impl Handler<Stop> for Link {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl WriteHandler<std::io::Error> for Link {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ids_name_ranks() {
        assert_eq!(link_id(12), "r12");
        assert_eq!(link_rank("r12"), Some(12));
        assert_eq!(link_rank("heartbeat"), None);
        assert_eq!(link_rank("r"), None);
    }
}
