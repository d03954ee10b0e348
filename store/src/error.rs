//! Typed errors of the store, each mapped to the Linux errno that travels on the wire.

use thiserror::Error;

/// Linux errno values used by [`StoreError::errnum`].
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such file or directory (key, blob).
    pub const ENOENT: i32 = 2;
    /// Input/output error (the database failed).
    pub const EIO: i32 = 5;
    /// File exists.
    pub const EEXIST: i32 = 17;
    /// Not a directory.
    pub const ENOTDIR: i32 = 20;
    /// Is a directory.
    pub const EISDIR: i32 = 21;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// File too large.
    pub const EFBIG: i32 = 27;
    /// Too many levels of symbolic links.
    pub const ELOOP: i32 = 40;
    /// Protocol error (a malformed tree object).
    pub const EPROTO: i32 = 71;
    /// Operation not supported (`ENOTSUP` and `EOPNOTSUPP` are equal on Linux).
    pub const EOPNOTSUPP: i32 = 95;
}

/// Every error the content store and the KVS can return.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The key (or a directory on its path) does not exist.
    #[error("{0}: no such key")]
    NotFound(String),
    /// No blob with this blobref is stored.
    #[error("{0}: no such blob")]
    BlobNotFound(String),
    /// A value was expected but the key names a directory.
    #[error("{0}: is a directory")]
    IsDir(String),
    /// A directory was expected but the key names something else.
    #[error("{0}: not a directory")]
    NotDir(String),
    /// `readlink` on a key that is not a symlink.
    #[error("{0}: not a symlink")]
    NotSymlink(String),
    /// A malformed key.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A malformed blobref string or binary digest.
    #[error("invalid blobref {0:?}")]
    InvalidBlobref(String),
    /// Any other invalid argument.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// Symlinks were followed more than the loop limit allows.
    #[error("{0}: too many levels of symbolic links")]
    SymlinkLoop(String),
    /// A blob (value or directory object) exceeds the blob size limit.
    #[error("blob of {size} bytes exceeds the limit of {limit} bytes")]
    TooBig {
        /// Size of the rejected blob.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The namespace does not exist (flux answers `ENOTSUP`).
    #[error("namespace {0:?} does not exist")]
    NoNamespace(String),
    /// The namespace already exists.
    #[error("namespace {0:?} already exists")]
    NamespaceExists(String),
    /// The caller may not access this namespace.
    #[error("permission denied on namespace {0:?}")]
    Permission(String),
    /// The operation is not supported on this object (e.g. append to a symlink).
    #[error("{0}: operation not supported")]
    NotSupported(String),
    /// A stored or received tree object is malformed.
    #[error("malformed tree object: {0}")]
    Corrupt(String),
    /// The underlying database failed.
    #[error("database error: {0}")]
    Db(#[from] sled::Error),
    /// A file outside the database (the journal) failed.
    #[error("journal: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// The Linux errno for this error, as sent in a response envelope.
    pub fn errnum(&self) -> i32 {
        use errno::*;
        match self {
            StoreError::NotFound(_) | StoreError::BlobNotFound(_) => ENOENT,
            StoreError::IsDir(_) => EISDIR,
            StoreError::NotDir(_) => ENOTDIR,
            StoreError::NotSymlink(_)
            | StoreError::InvalidKey { .. }
            | StoreError::InvalidBlobref(_)
            | StoreError::Invalid(_) => EINVAL,
            StoreError::SymlinkLoop(_) => ELOOP,
            StoreError::TooBig { .. } => EFBIG,
            StoreError::NoNamespace(_) | StoreError::NotSupported(_) => EOPNOTSUPP,
            StoreError::NamespaceExists(_) => EEXIST,
            StoreError::Permission(_) => EPERM,
            StoreError::Corrupt(_) => EPROTO,
            StoreError::Db(_) | StoreError::Io(_) => EIO,
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos_are_linux_values() {
        assert_eq!(StoreError::NotFound("a".into()).errnum(), 2);
        assert_eq!(StoreError::IsDir("a".into()).errnum(), 21);
        assert_eq!(StoreError::NotDir("a".into()).errnum(), 20);
        assert_eq!(StoreError::Invalid("a".into()).errnum(), 22);
        assert_eq!(StoreError::Permission("a".into()).errnum(), 1);
        assert_eq!(StoreError::TooBig { size: 2, limit: 1 }.errnum(), 27);
        assert_eq!(StoreError::Corrupt("x".into()).errnum(), 71);
        assert_eq!(StoreError::SymlinkLoop("a".into()).errnum(), 40);
        assert_eq!(StoreError::NoNamespace("a".into()).errnum(), 95);
        assert_eq!(StoreError::NamespaceExists("a".into()).errnum(), 17);
    }

    #[test]
    fn messages_name_the_key() {
        let e = StoreError::InvalidKey {
            key: "a\0b".into(),
            reason: "contains NUL",
        };
        assert!(e.to_string().contains("contains NUL"));
    }
}
