//! Typed endpoints the modules of one broker offer each other: a fast path beside the
//! routed rpc for a conversation that is hot and always local (Fluxion's queue manager
//! asking its resource module for every match). Same semantics as the rpc, without the
//! envelope, the JSON text or the trip through the broker's mailbox. A module offers an
//! endpoint by name when it starts and withdraws it when it stops; a peer that finds none
//! uses the rpc.

use std::any::Any;
use std::marker::PhantomData;

use actix::prelude::*;

use super::Broker;

/// Offer `endpoint` (e.g. a `Recipient<M>`) under `name`, replacing any earlier one.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Offer {
    pub name: &'static str,
    pub endpoint: Box<dyn Any + Send>,
}

/// Take the endpoint `name` away (its module is stopping).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Withdraw(pub &'static str);

/// The endpoint offered under `name`, if there is one of type `T`.
pub struct Find<T>(pub &'static str, PhantomData<T>);

impl<T> Find<T> {
    pub fn new(name: &'static str) -> Self {
        Find(name, PhantomData)
    }
}

impl<T: Clone + Send + 'static> Message for Find<T> {
    type Result = Option<T>;
}

impl Handler<Offer> for Broker {
    type Result = ();

    fn handle(&mut self, offer: Offer, _: &mut Context<Self>) {
        self.local.insert(offer.name, offer.endpoint);
    }
}

impl Handler<Withdraw> for Broker {
    type Result = ();

    fn handle(&mut self, Withdraw(name): Withdraw, _: &mut Context<Self>) {
        self.local.remove(name);
    }
}

impl<T: Clone + Send + 'static> Handler<Find<T>> for Broker {
    type Result = Option<T>;

    fn handle(&mut self, Find(name, _): Find<T>, _: &mut Context<Self>) -> Option<T> {
        self.local.get(name)?.downcast_ref::<T>().cloned()
    }
}
