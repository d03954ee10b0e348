//! Routing (spec/messages.md §3): requests to the service that registered their topic,
//! responses back along their route stack.

use actix::prelude::*;
use flux_proto::{Envelope, MsgType, errno, flags, nodeid};

use super::Broker;
use crate::msg::Route;

impl Handler<Route> for Broker {
    type Result = ();

    fn handle(&mut self, Route { from, msg }: Route, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match msg.kind() {
            MsgType::Request => self.route_request(&from, msg, ctx),
            MsgType::Response => self.respond(msg),
            // Endpoints publish through `event.publish`; anything else is dropped.
            _ => {}
        }
    }
}

impl Broker {
    fn route_request(&mut self, from: &str, msg: Envelope, ctx: &mut Context<Self>) {
        if msg.flags & flags::UPSTREAM != 0 {
            // A single broker has no parent to hand the request to.
            return self.respond(msg.error_response(errno::EHOSTUNREACH, "no route upstream"));
        }
        if msg.nodeid != nodeid::ANY && msg.nodeid != self.rank {
            let text = format!("no route to rank {}", msg.nodeid);
            return self.respond(msg.error_response(errno::EHOSTUNREACH, text));
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
            None => {
                let text = format!("No service matching {} is registered", msg.topic);
                self.respond(msg.error_response(errno::ENOSYS, text));
            }
        }
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
