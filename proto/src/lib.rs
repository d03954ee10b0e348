//! The wire between `flux`, `fluxd` and the brokers: the protobuf [`Envelope`], the
//! length-prefixed frame codec, and the client [`Handle`] that every command, the job shell
//! and the tests use. Flux's domain types (jobspec, R, FLUID, ...) are re-exported as
//! [`types`].

mod codec;
pub mod errno;
mod error;
mod handle;
mod message;
mod uri;

/// Types generated from `schema/flux.proto`.
#[allow(missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/flux.rs"));
}

pub use codec::{DEFAULT_MAX_FRAME, EnvelopeCodec};
pub use error::{Error, Result};
pub use flux_types as types;
pub use handle::{Handle, RpcStream};
pub use message::{Envelope, MsgType, USERID_UNKNOWN, flags, nodeid, role};
pub use uri::LocalUri;
