//! The content store and the KVS tree.
//!
//! - [`ContentStore`]: immutable blobs by hash (RFC 10) in the sled tree `content`
//!   (binary digest -> blob), with a per-blob size limit (`EFBIG`), batch store and flush.
//! - [`tree`]: RFC 11 tree objects as flux encodes them (JSON, `ver` 1, base64 `val`),
//!   key normalization, symlink-following lookup, and the copy-on-write commit builder.
//!   Directories of more than [`tree::hdir::SPLIT_ENTRIES`] entries are stored as RFC 11
//!   `hdir` objects (hash buckets of `dir` blobs) so that a commit rewrites only the
//!   buckets it touches; lookups and `READDIR` still see ordinary directories.
//! - [`Kvs`]: namespaces (`primary` plus created ones, each with root blobref, sequence and
//!   owner) checkpointed in the sled tree `kvs-roots`; atomic single or merged commits;
//!   [`Snapshot`]s for lookups at the current root or at any root blobref.
//!
//! - [`Journal`]: an append-only, checksummed record log with generations, replayed at
//!   start, so that commits can be acknowledged before the next (slow) sled flush.
//!
//! A plain library: no actors, no async. The kvs and content modules wrap it. Commits do
//! not flush: the module calls [`Kvs::sync`] (batched) before acknowledging a durable commit.
//!
//! ```
//! use flux_store::{Kvs, Txn, PRIMARY};
//! let mut kvs = Kvs::temporary()?;
//! let mut txn = Txn::new();
//! txn.put("a.b.c", "42").append("log", "event\n");
//! let result = kvs.commit(PRIMARY, &txn)?;
//! assert_eq!(result.rootseq, 1);
//! assert_eq!(kvs.snapshot(PRIMARY)?.get("a.b.c")?, b"42");
//! # Ok::<(), flux_store::StoreError>(())
//! ```

pub mod base64;
pub mod blobref;
pub mod content;
pub mod error;
pub mod journal;
pub mod kvs;
pub mod namespace;
pub mod sha1;
pub mod snapshot;
pub mod tree;
pub mod txn;
mod writer;

pub use blobref::{Blobref, HashAlg};
pub use content::{ContentConfig, ContentStore, open_db};
pub use error::{Result, StoreError};
pub use journal::Journal;
pub use kvs::{CommitResult, Kvs, KvsConfig};
pub use namespace::{Namespace, PRIMARY};
pub use snapshot::Snapshot;
pub use tree::key::Key;
pub use tree::object::{Dir, Symlink, TreeObj};
pub use txn::{Op, Txn};
