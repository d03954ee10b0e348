//! The broker runtime: one [`broker::Broker`] actor per rank with its attributes, service
//! table, event and log services and module supervisor; the [`connector`] that lets local
//! clients in; the [`tracer`] counting what every actor does; and the broker [`modules`].
//!
//! Everything runs as actix actors on one executor. Each actor is a thin shell around a
//! plain core (attributes, service table, subscriptions, log ring) that is unit-tested on
//! its own.

pub mod broker;
pub mod connector;
pub mod dashboard;
pub mod hwloc;
pub mod modules;
pub mod msg;
pub mod overlay;
pub mod runat;
pub mod tracer;

pub use broker::{Broker, BrokerConfig};
