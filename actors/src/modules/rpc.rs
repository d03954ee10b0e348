//! Rpcs from a module to other services: requests leave through the broker with the
//! module's route id, and responses come back to the module as [`Deliver`] messages, which
//! it hands to [`RpcClient::on_response`].
//!
//! [`Deliver`]: crate::msg::Deliver

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

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

/// The pending rpcs of one module. Clones share them, so an async task of the module (on
/// the module's thread) can make rpcs too.
#[derive(Clone)]
pub struct RpcClient {
    name: String,
    owner: u32,
    broker: Addr<Broker>,
    state: Rc<RefCell<Pending>>,
}

#[derive(Default)]
struct Pending {
    waiters: HashMap<u32, Waiter>,
    next_tag: u32,
}

impl RpcClient {
    /// A client sending as module `name`, with the instance owner's credentials.
    pub fn new(name: impl Into<String>, owner: u32, broker: Addr<Broker>) -> Self {
        RpcClient {
            name: name.into(),
            owner,
            broker,
            state: Rc::default(),
        }
    }

    fn send(&self, mut req: Envelope, waiter: Waiter) {
        {
            let mut st = self.state.borrow_mut();
            loop {
                st.next_tag = st.next_tag.wrapping_add(1);
                if st.next_tag != 0 && !st.waiters.contains_key(&st.next_tag) {
                    break;
                }
            }
            req.matchtag = st.next_tag;
            st.waiters.insert(req.matchtag, waiter);
        }
        req.userid = self.owner;
        req.rolemask = role::OWNER;
        req.route.push(self.name.clone());
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg: req,
        });
    }

    /// Send a request; the future resolves with its response (an error response becomes
    /// [`Error::Rpc`]). Poll it from the module's context (e.g. `ctx.spawn(fut.into_actor(self))`).
    pub fn call(
        &self,
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
    pub fn notify(&self, topic: &str, nodeid: u32, payload: Bytes) {
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

    /// Send a response (to a request this module served) on its way back through the broker.
    pub fn respond(&self, msg: Envelope) {
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg,
        });
    }

    /// Hand over a response; `false` if it answers no rpc of ours.
    pub fn on_response(&mut self, rsp: Envelope) -> bool {
        let tag = rsp.matchtag;
        let last = rsp.errnum != 0 || !rsp.is_streaming();
        let mut st = self.state.borrow_mut();
        match st.waiters.get(&tag) {
            None => false,
            Some(Waiter::Stream(tx)) => {
                let closed = tx.send(rsp).is_err();
                if last || closed {
                    st.waiters.remove(&tag);
                }
                true
            }
            Some(Waiter::One(_)) => {
                if let Some(Waiter::One(tx)) = st.waiters.remove(&tag) {
                    let _ = tx.send(rsp);
                }
                true
            }
        }
    }

    /// Fail every pending rpc (the module is stopping).
    pub fn cancel_all(&mut self) {
        let waiters: Vec<Waiter> = self
            .state
            .borrow_mut()
            .waiters
            .drain()
            .map(|(_, w)| w)
            .collect();
        for waiter in waiters {
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
        self.state.borrow().waiters.len()
    }
}
