//! The messages of the in-process bus. Everything that talks to a broker is an *endpoint*
//! (a client session, a module) with a route id; the broker delivers requests, responses and
//! events to endpoints as [`Deliver`], and endpoints hand messages to the broker as
//! [`Route`]. Responses find their way back by popping the route stack, as in Flux.

use actix::prelude::*;
pub use flux_proto::Envelope;

use crate::tracer::Probe;

/// A message for an endpoint: a request to serve, a response to an rpc it made, or an event.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Envelope);

/// A message from an endpoint for the broker to route.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Route {
    /// The route id of the endpoint it comes from.
    pub from: String,
    pub msg: Envelope,
}

/// What the broker needs to know of an endpoint.
#[derive(Clone)]
pub struct Endpoint {
    pub deliver: Recipient<Deliver>,
    pub probe: Probe,
}

/// Register an endpoint under a route id, with the services it provides.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Attach {
    pub id: String,
    pub endpoint: Endpoint,
    pub services: Vec<String>,
}

/// An endpoint is gone: drop its services and subscriptions, tell the services it used.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Detach {
    pub id: String,
}

/// Ask an actor to finish; it answers once it has.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// A log entry for the broker's ring (flux dmesg).
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Log {
    pub severity: u8,
    pub appname: String,
    pub msg: String,
}

/// Publish an event from inside the broker (modules use this instead of an rpc).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish {
    pub topic: String,
    pub payload: bytes::Bytes,
    pub private: bool,
}
