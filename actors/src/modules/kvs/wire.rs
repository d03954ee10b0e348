//! The kvs protocol as it travels (spec/kvs.md §4-5): flags, and the JSON bodies of the
//! `kvs.*`, `kvs-watch.*` requests and responses. Shared by the module and `flux kvs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Flags of `kvs.lookup` and `kvs-watch.lookup` (flux_kvs_lookup(3)).
pub mod lookup_flags {
    /// Read a directory.
    pub const READDIR: i64 = 1;
    /// Read a symlink itself.
    pub const READLINK: i64 = 2;
    /// Stream a response per change.
    pub const WATCH: i64 = 4;
    /// Wait for a missing key instead of failing with ENOENT.
    pub const WAITCREATE: i64 = 8;
    /// Return the raw tree object.
    pub const TREEOBJ: i64 = 16;
    /// Only send changes whose value differs from the last one sent.
    pub const WATCH_UNIQ: i64 = 128;
    /// After the first value, send only appended bytes.
    pub const WATCH_APPEND: i64 = 256;
}

/// Flags of `kvs.commit`.
pub mod commit_flags {
    /// Do not merge this commit with others.
    pub const NO_MERGE: i64 = 1;
    /// Respond only once flushed to disk (otherwise once journaled: survives the death of
    /// `fluxd`, not of the machine).
    pub const SYNC: i64 = 4;
}

fn primary() -> String {
    flux_store::PRIMARY.to_string()
}

/// `kvs.commit` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitRequest {
    /// Target namespace.
    #[serde(default = "primary")]
    pub namespace: String,
    /// [`commit_flags`].
    #[serde(default)]
    pub flags: i64,
    /// The transaction: `[{"key", "flags", "dirent"}...]`.
    pub ops: Value,
}

/// `kvs.commit` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitResponse {
    /// Blobref of the new root.
    pub rootref: String,
    /// Version of the new root.
    pub rootseq: u64,
}

/// `kvs.lookup` / `kvs-watch.lookup` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupRequest {
    /// Key to look up.
    pub key: String,
    /// Namespace (ignored when `rootdir` is given, except for access checks).
    #[serde(default = "primary")]
    pub namespace: String,
    /// [`lookup_flags`].
    #[serde(default)]
    pub flags: i64,
    /// Look up at this root (a `dirref` tree object) instead of the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootdir: Option<Value>,
}

/// `kvs.lookup` / `kvs-watch.lookup` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupResponse {
    /// Namespace looked up.
    pub namespace: String,
    /// Key as requested.
    pub key: String,
    /// The tree object: a `val` for values, `dir` for directories, `symlink` for links,
    /// anything with `TREEOBJ`.
    pub val: Value,
}

/// `kvs.getroot` request (also `kvs.namespace-remove`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceRequest {
    /// Namespace.
    #[serde(default = "primary")]
    pub namespace: String,
}

/// `kvs.getroot` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetrootResponse {
    /// Namespace.
    pub namespace: String,
    /// Blobref of the root directory.
    pub rootref: String,
    /// Version.
    pub rootseq: u64,
    /// Owner uid.
    pub owner: u32,
    /// Namespace flags.
    pub flags: u32,
}

/// `kvs.namespace-create` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceCreate {
    /// Name of the new namespace.
    pub namespace: String,
    /// Owner uid; the requester when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u32>,
    /// Initial root (a blobref or a `dirref` tree object); empty when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootref: Option<Value>,
    /// Namespace flags.
    #[serde(default)]
    pub flags: u32,
}

/// One row of `kvs.namespace-list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceInfo {
    /// Name.
    pub namespace: String,
    /// Owner uid.
    pub owner: u32,
    /// Flags.
    pub flags: u32,
}

/// `kvs.namespace-list` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamespaceList {
    /// Namespaces the requester may access, by name.
    pub namespaces: Vec<NamespaceInfo>,
}

/// `kvs-watch.cancel` request: end the caller's watch started with this matchtag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelRequest {
    /// Matchtag of the `kvs-watch.lookup` request.
    pub matchtag: u32,
}
