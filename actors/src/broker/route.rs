//! Routing (spec/messages.md §3): requests to the service that registered their topic, on
//! this rank or through the tree toward another; responses back along their route stack;
//! events down the tree from rank 0.

use actix::prelude::*;
use flux_proto::{Envelope, MsgType, errno, flags, nodeid};

use super::Broker;
use crate::msg::Route;
use crate::overlay::link_rank;

impl Handler<Route> for Broker {
    type Result = ();

    fn handle(&mut self, Route { from, msg }: Route, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.trace.begin(&from, &msg);
        match msg.kind() {
            MsgType::Request => self.route_request(&from, msg, ctx),
            MsgType::Response => self.respond(msg),
            MsgType::Event if link_rank(&from) == self.topo.parent(self.rank) && self.rank != 0 => {
                self.distribute_event(msg)
            }
            MsgType::Control
                if msg.topic == "overlay.shutdown"
                    && link_rank(&from) == self.topo.parent(self.rank) =>
            {
                self.shutdown(0, ctx);
            }
            MsgType::Control if msg.topic == "overlay.ready" => {
                if let Some(child) = link_rank(&from) {
                    self.children_ready.insert(child);
                    self.check_quorum(ctx);
                }
            }
            // Endpoints publish through `event.publish`; anything else is dropped.
            _ => {}
        }
        self.trace.end();
    }
}

impl Broker {
    fn route_request(&mut self, from: &str, mut msg: Envelope, ctx: &mut Context<Self>) {
        if msg.flags & flags::UPSTREAM != 0 {
            // "The same service one level up": skip this rank, continue as ANY at the parent.
            msg.flags &= !flags::UPSTREAM;
            msg.nodeid = nodeid::ANY;
            return match self.topo.parent(self.rank) {
                Some(parent) => self.forward(msg, parent),
                None => self.refuse(msg, errno::EHOSTUNREACH, "no route upstream".into()),
            };
        }
        if msg.nodeid != nodeid::ANY && msg.nodeid != self.rank {
            return match self.topo.next_hop(self.rank, msg.nodeid) {
                Some(hop) => self.forward(msg, hop),
                None => {
                    let text = format!("no route to rank {}", msg.nodeid);
                    self.refuse(msg, errno::EHOSTUNREACH, text)
                }
            };
        }
        if self.rank != 0 && msg.topic == "event.publish" {
            // Only rank 0 sequences events.
            msg.nodeid = 0;
            if let Some(hop) = self.topo.next_hop(self.rank, 0) {
                self.forward(msg, hop);
            }
            return;
        }
        let msg = match self.handle_builtin(msg, ctx) {
            None => return,
            Some(msg) => msg,
        };
        match self.services.lookup(&msg.topic).map(str::to_string) {
            Some(target) => {
                if let Some(att) = self.endpoints.get_mut(from)
                    && !att.used.contains(msg.service())
                {
                    att.used.insert(msg.service().to_string());
                }
                self.deliver(&target, msg);
            }
            None => match (msg.nodeid, self.topo.parent(self.rank)) {
                // Not here: the nearest broker up the tree may have it.
                (nodeid::ANY, Some(parent)) => self.forward(msg, parent),
                _ => {
                    let text = format!("No service matching {} is registered", msg.topic);
                    self.refuse(msg, errno::ENOSYS, text);
                }
            },
        }
    }

    /// Answer a request the broker cannot route with an error (traced as answered by the
    /// broker, as its built-in services are).
    pub(super) fn refuse(&mut self, msg: Envelope, errnum: i32, text: String) {
        self.trace.served_locally(self.rank, &msg);
        self.respond(msg.error_response(errnum, text));
    }

    /// Send a response to the endpoint on top of its route stack (nothing if the request
    /// asked for no response, or the endpoint is gone).
    pub(super) fn respond(&mut self, mut msg: Envelope) {
        if msg.is_noresponse() {
            return;
        }
        if let Some(hop) = msg.route.pop() {
            self.deliver(&hop, msg);
        }
    }
}
