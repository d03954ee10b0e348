//! The overlay: brokers joined in a tree over TCP (spec/broker.md). Each broker listens for
//! its children and connects to its parent; every connection starts with the key handshake
//! and then carries length-prefixed envelopes, one [`Link`] actor per connection.

mod bootconf;
mod handshake;
mod link;
mod topology;

use std::net::SocketAddr;

use actix::prelude::*;

pub use bootconf::{Boot, BootError, Peer};
pub use handshake::{HandshakeError, InstanceKey, admit, join};
pub use link::{Link, link_id, link_rank};
pub use topology::{TopoError, Topology};

use crate::broker::{Broker, ParentUnreachable};
use crate::msg::Log;
use crate::tracer::Tracer;

/// How one broker joins the tree.
#[derive(Debug)]
pub struct OverlayConfig {
    pub key: InstanceKey,
    /// Where children connect (interior ranks only).
    pub listener: Option<std::net::TcpListener>,
    /// The parent's endpoint (all ranks but 0).
    pub parent: Option<SocketAddr>,
    /// The tree, when not `tbon.topo` (config boot gives each rank's parent).
    pub topology: Option<Topology>,
    /// Host names by rank, when known (config boot).
    pub hosts: Option<Vec<String>>,
}

/// Accept children on `listener` for as long as the broker lives.
pub fn serve_children(
    listener: std::net::TcpListener,
    key: InstanceKey,
    rank: u32,
    broker: Addr<Broker>,
    tracer: Addr<Tracer>,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    actix::spawn(async move {
        while let Ok((mut stream, addr)) = listener.accept().await {
            let (key, broker, tracer) = (key.clone(), broker.clone(), tracer.clone());
            actix::spawn(async move {
                match admit(&mut stream, &key).await {
                    Ok(peer) => Link::start_for(stream, peer, rank, broker, &tracer),
                    Err(e) => broker.do_send(Log {
                        severity: 3,
                        appname: "overlay".into(),
                        msg: format!("peer {addr} refused: {e}"),
                    }),
                }
            });
        }
    });
    Ok(())
}

/// Connect to the parent and start the link (retrying while the parent is not up yet).
pub fn connect_parent(
    parent: SocketAddr,
    parent_rank: u32,
    key: InstanceKey,
    rank: u32,
    broker: Addr<Broker>,
    tracer: Addr<Tracer>,
) {
    actix::spawn(async move {
        let mut delay = std::time::Duration::from_millis(5);
        let error = loop {
            match tokio::net::TcpStream::connect(parent).await {
                Ok(mut stream) => match join(&mut stream, &key, rank).await {
                    Ok(()) => return Link::start_for(stream, parent_rank, rank, broker, &tracer),
                    Err(e) => break e.to_string(),
                },
                Err(e) if delay.as_secs() >= 5 => {
                    break format!("cannot reach parent {parent}: {e}");
                }
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        };
        broker.do_send(ParentUnreachable(error));
    });
}
