//! Errors of the kvs module's requests, each with the errno it travels as.

use flux_proto::errno;
use flux_store::StoreError;

/// Why a kvs, kvs-watch or content request failed.
#[derive(Debug, thiserror::Error)]
pub enum KvsError {
    /// The store refused (missing key, directory, permission, size...).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The request payload is malformed.
    #[error("malformed request: {0}")]
    Proto(String),
    /// The requester lacks the role this request needs.
    #[error("{0}")]
    Perm(String),
    /// The method does not exist.
    #[error("unknown method {0}")]
    NoMethod(String),
}

impl KvsError {
    /// The Linux errno for the error response.
    pub fn errnum(&self) -> i32 {
        match self {
            KvsError::Store(e) => e.errnum(),
            KvsError::Proto(_) => errno::EPROTO,
            KvsError::Perm(_) => errno::EPERM,
            KvsError::NoMethod(_) => errno::ENOSYS,
        }
    }
}

impl From<serde_json::Error> for KvsError {
    fn from(e: serde_json::Error) -> Self {
        KvsError::Proto(e.to_string())
    }
}

/// Result of a request handler.
pub type KvsResult<T> = Result<T, KvsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos() {
        assert_eq!(KvsError::Proto("x".into()).errnum(), 71);
        assert_eq!(KvsError::Perm("x".into()).errnum(), 1);
        assert_eq!(KvsError::NoMethod("x".into()).errnum(), 38);
        let e: KvsError = StoreError::NotFound("a".into()).into();
        assert_eq!(e.errnum(), 2);
        assert_eq!(e.to_string(), "a: no such key");
    }
}
