//! Simple PMI-1 (RFC 13): the line protocol MPI programs and brokers use to bootstrap —
//! the request/response grammar ([`wire`]), the server side a job shell (or a test
//! launcher) runs ([`server`]), and a blocking client ([`client`]).

pub mod client;
pub mod server;
pub mod wire;

pub use client::{PmiClient, PmiError};
pub use server::PmiServer;
pub use wire::{Request, parse_request};
