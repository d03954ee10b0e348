//! Errors of the wire layer and the client handle.

use crate::errno;

/// What can go wrong talking to a broker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with an error.
    #[error("{msg}")]
    Rpc { errnum: i32, msg: String },
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The URI is not one this client can connect to.
    #[error("invalid URI '{0}': only local:// URIs are supported")]
    Uri(String),
    /// There is no instance to talk to.
    #[error(
        "FLUX_URI is not set: not running inside a Flux instance (start one with `flux start`)"
    )]
    NoInstance,
    /// The broker's socket could not be reached.
    #[error("cannot connect to {uri}: {source}")]
    Connect { uri: String, source: std::io::Error },
    /// The broker refused the connection after checking our credentials.
    #[error("connection refused by the broker: {}", errno::strerror(*.0))]
    Refused(i32),
    /// The broker went away while requests were outstanding.
    #[error("lost connection to the broker")]
    Disconnected,
    /// A payload did not hold the JSON the caller expected.
    #[error("malformed payload: {0}")]
    Payload(#[from] serde_json::Error),
}

impl Error {
    /// Build an RPC error from an errno, with the standard description when `msg` is empty.
    pub fn rpc(errnum: i32, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let msg = if msg.is_empty() {
            errno::strerror(errnum)
        } else {
            msg
        };
        Error::Rpc { errnum, msg }
    }

    /// The errno this error stands for, as it would travel on the wire.
    pub fn errnum(&self) -> i32 {
        match self {
            Error::Rpc { errnum, .. } => *errnum,
            Error::Io(e) => e.raw_os_error().unwrap_or(errno::EIO),
            Error::Uri(_) => errno::EINVAL,
            Error::Connect { source, .. } => source.raw_os_error().unwrap_or(errno::EIO),
            Error::NoInstance => errno::ENOENT,
            Error::Refused(e) => *e,
            Error::Disconnected => errno::ECONNRESET,
            Error::Payload(_) => errno::EPROTO,
        }
    }
}

/// Result of the wire layer.
pub type Result<T> = std::result::Result<T, Error>;
