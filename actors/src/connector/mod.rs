//! The local connector: a Unix socket in the broker's 0700 rundir through which `flux`
//! commands reach the broker. Each accepted client becomes a [`Session`] actor once its
//! peer credentials pass [`authorize`].

mod auth;
mod session;

use actix::prelude::*;
use tokio::net::UnixListener;

pub use auth::{Verdict, authorize};
pub use session::Session;

use crate::broker::Broker;
use crate::msg::{Log, Stop};
use crate::tracer::{Probe, Register, Tracer};

/// Accepts local clients for one broker.
pub struct Connector {
    broker: Addr<Broker>,
    owner: u32,
    rank: u32,
    tracer: Addr<Tracer>,
    next_session: u64,
    listener: Option<UnixListener>,
    probe: Probe,
}

impl Connector {
    /// Start accepting on an already bound socket.
    pub fn start_on(
        listener: std::os::unix::net::UnixListener,
        broker: Addr<Broker>,
        owner: u32,
        rank: u32,
        tracer: Addr<Tracer>,
    ) -> std::io::Result<Addr<Connector>> {
        listener.set_nonblocking(true)?;
        let listener = UnixListener::from_std(listener)?;
        let probe = Probe::new("connector-local", "connector", rank);
        tracer.do_send(Register(probe.clone()));
        Ok(Connector {
            broker,
            owner,
            rank,
            tracer,
            next_session: 0,
            listener: Some(listener),
            probe,
        }
        .start())
    }
}

/// A client connected.
#[derive(Message)]
#[rtype(result = "()")]
struct Accepted(tokio::net::UnixStream);

impl Actor for Connector {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let me = ctx.address();
        // Accept in a task of this arbiter so the actor's mailbox stays free.
        ctx.spawn(
            async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => me.do_send(Accepted(stream)),
                        Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                        Err(_) => break,
                    }
                }
            }
            .into_actor(self),
        );
    }
}

impl Handler<Accepted> for Connector {
    type Result = ();

    fn handle(&mut self, Accepted(stream): Accepted, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        let peer_uid = stream.peer_cred().map(|c| c.uid()).ok();
        let verdict = authorize(peer_uid, self.owner);
        if let Verdict::Refuse(errnum) = verdict {
            let text = match peer_uid {
                Some(uid) => format!("connection from uid {uid} refused: not the instance owner"),
                None => "connection refused: peer credentials unavailable".to_string(),
            };
            self.broker.do_send(Log {
                severity: 4,
                appname: "connector-local".into(),
                msg: text,
            });
            actix::spawn(auth::refuse(stream, errnum));
            return;
        }
        self.next_session += 1;
        let id = format!("{:08x}", session_id(self.rank, self.next_session));
        Session::start_for(
            stream,
            id,
            self.owner,
            self.rank,
            self.broker.clone(),
            self.tracer.clone(),
        );
    }
}

impl Handler<Stop> for Connector {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// A short route id that differs between sessions and brokers (Flux prints the first eight
/// characters of each hop in `flux ping`).
fn session_id(rank: u32, n: u64) -> u32 {
    let mix = (u64::from(rank) << 40) ^ n ^ u64::from(std::process::id()) << 20;
    (mix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}
