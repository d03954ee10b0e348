//! Rpcs from a module to other services: requests leave through the broker with the
//! module's route id, and responses come back to the module as [`Deliver`] messages, which
//! it hands to [`RpcClient::on_response`].
//!
//! [`Deliver`]: crate::msg::Deliver

use std::collections::HashMap;

use actix::Addr;
use bytes::Bytes;
use flux_proto::{Envelope, Error, errno, flags, role};
use tokio::sync::{mpsc, oneshot};

use crate::broker::Broker;
use crate::msg::Route;

enum Waiter {
    One(oneshot::Sender<Envelope>),
    Stream(mpsc::UnboundedSender<Envelope>),
}

/// The pending rpcs of one module.
pub struct RpcClient {
    name: String,
    owner: u32,
    broker: Addr<Broker>,
    pending: HashMap<u32, Waiter>,
    next_tag: u32,
}

impl RpcClient {
    /// A client sending as module `name`, with the instance owner's credentials.
    pub fn new(name: impl Into<String>, owner: u32, broker: Addr<Broker>) -> Self {
        RpcClient {
            name: name.into(),
            owner,
            broker,
            pending: HashMap::new(),
            next_tag: 0,
        }
    }

    fn send(&mut self, mut req: Envelope, waiter: Waiter) {
        loop {
            self.next_tag = self.next_tag.wrapping_add(1);
            if self.next_tag != 0 && !self.pending.contains_key(&self.next_tag) {
                break;
            }
        }
        req.matchtag = self.next_tag;
        req.userid = self.owner;
        req.rolemask = role::OWNER;
        req.route.push(self.name.clone());
        self.pending.insert(req.matchtag, waiter);
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg: req,
        });
    }

    /// Send a request; the future resolves with its response (an error response becomes
    /// [`Error::Rpc`]). Poll it from the module's context (e.g. `ctx.spawn(fut.into_actor(self))`).
    pub fn call(
        &mut self,
        topic: &str,
        nodeid: u32,
        payload: Bytes,
    ) -> impl Future<Output = Result<Envelope, Error>> + use<> {
        let (tx, rx) = oneshot::channel();
        self.send(Envelope::request(topic, nodeid, payload), Waiter::One(tx));
        async move {
            let rsp = rx.await.map_err(|_| Error::Disconnected)?;
            match rsp.errnum {
                0 => Ok(rsp),
                e => Err(Error::rpc(e, rsp.errstr)),
            }
        }
    }

    /// Start a streaming request; responses arrive on the channel, the last one being an
    /// error response (ENODATA for a normal end).
    pub fn stream(
        &mut self,
        topic: &str,
        nodeid: u32,
        payload: Bytes,
    ) -> mpsc::UnboundedReceiver<Envelope> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut req = Envelope::request(topic, nodeid, payload);
        req.flags |= flags::STREAMING;
        self.send(req, Waiter::Stream(tx));
        rx
    }

    /// Send a request that expects no response.
    pub fn notify(&mut self, topic: &str, nodeid: u32, payload: Bytes) {
        let mut req = Envelope::request(topic, nodeid, payload);
        req.flags |= flags::NORESPONSE;
        req.userid = self.owner;
        req.rolemask = role::OWNER;
        req.route.push(self.name.clone());
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg: req,
        });
    }

    /// Hand over a response; `false` if it answers no rpc of ours.
    pub fn on_response(&mut self, rsp: Envelope) -> bool {
        let tag = rsp.matchtag;
        let last = rsp.errnum != 0 || !rsp.is_streaming();
        match self.pending.get(&tag) {
            None => false,
            Some(Waiter::Stream(tx)) => {
                let closed = tx.send(rsp).is_err();
                if last || closed {
                    self.pending.remove(&tag);
                }
                true
            }
            Some(Waiter::One(_)) => {
                if let Some(Waiter::One(tx)) = self.pending.remove(&tag) {
                    let _ = tx.send(rsp);
                }
                true
            }
        }
    }

    /// Fail every pending rpc (the module is stopping).
    pub fn cancel_all(&mut self) {
        for (_, waiter) in self.pending.drain() {
            if let Waiter::Stream(tx) = waiter {
                let end = Envelope {
                    errnum: errno::ECANCELED,
                    ..Default::default()
                };
                let _ = tx.send(end);
            }
        }
    }

    /// Number of rpcs awaiting a response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}
