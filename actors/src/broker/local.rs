//! Typed endpoints the modules of one broker offer each other: a fast path beside the
//! routed rpc for a conversation that is hot and always local (Fluxion's queue manager
//! asking its resource module for every match). Same answers as the rpc, without the
//! envelope or the trip through the broker's mailbox; these calls are not routed, so the
//! broker's message trace and counts do not see them. A module offers an endpoint by name
//! when it starts and withdraws it when it stops; a peer that finds none uses the rpc.

use std::any::Any;
use std::marker::PhantomData;

use actix::prelude::*;

use super::Broker;

/// Offer `endpoint` (e.g. a `Recipient<M>`) under `name`, replacing any earlier one.
/// `owner` identifies the offer (see [`Offer::owner_token`]) for its [`Withdraw`].
#[derive(Message)]
#[rtype(result = "()")]
pub struct Offer {
    pub name: &'static str,
    pub owner: u64,
    pub endpoint: Box<dyn Any + Send>,
}

impl Offer {
    /// A token no other offer of this process has.
    pub fn owner_token() -> u64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Take the endpoint `name` away if it is still `owner`'s (its module is stopping; a
/// successor loaded meanwhile keeps its own).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Withdraw {
    pub name: &'static str,
    pub owner: u64,
}

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
        self.local.insert(offer.name, (offer.owner, offer.endpoint));
    }
}

impl Handler<Withdraw> for Broker {
    type Result = ();

    fn handle(&mut self, w: Withdraw, _: &mut Context<Self>) {
        if self
            .local
            .get(w.name)
            .is_some_and(|(owner, _)| *owner == w.owner)
        {
            self.local.remove(w.name);
        }
    }
}

impl<T: Clone + Send + 'static> Handler<Find<T>> for Broker {
    type Result = Option<T>;

    fn handle(&mut self, Find(name, _): Find<T>, _: &mut Context<Self>) -> Option<T> {
        self.local.get(name)?.1.downcast_ref::<T>().cloned()
    }
}
