//! KVS namespaces: root reference, sequence and owner, checkpointed in a sled tree.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::writer::WriteBehind;

/// The default namespace.
pub const PRIMARY: &str = "primary";

/// Name of the sled tree holding one record per namespace.
const ROOTS_TREE: &str = "kvs-roots";

/// State of one namespace, as `kvs.getroot` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Blobref of the root directory.
    pub rootref: Blobref,
    /// Version: 0 at creation, +1 per (possibly merged) commit.
    pub rootseq: u64,
    /// Owner uid: may read and write besides the instance owner.
    pub owner: u32,
    /// Namespace flags (reported as is).
    pub flags: u32,
}

impl Namespace {
    /// Access check of flux: the instance owner role may do anything, other users only
    /// in namespaces they own (`EPERM` otherwise).
    pub fn check_access(&self, name: &str, userid: u32, is_instance_owner: bool) -> Result<()> {
        if is_instance_owner || userid == self.owner {
            Ok(())
        } else {
            Err(StoreError::Permission(name.to_string()))
        }
    }
}

/// Validate a namespace name: non-empty, no NUL or `/` (flux uses `ns:NAME/` key prefixes).
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['\0', '/']) {
        return Err(StoreError::Invalid(format!("bad namespace name {name:?}")));
    }
    Ok(())
}

/// The persisted table of namespace records (JSON values keyed by name). Its writes go
/// through the content store's writer, after the blobs the roots name.
pub(crate) struct RootTable {
    tree: sled::Tree,
    writer: Arc<WriteBehind>,
}

impl RootTable {
    pub fn open(db: &sled::Db, writer: Arc<WriteBehind>) -> Result<RootTable> {
        Ok(RootTable {
            tree: db.open_tree(ROOTS_TREE)?,
            writer,
        })
    }

    /// Every namespace recorded.
    pub fn load_all(&self) -> Result<BTreeMap<String, Namespace>> {
        let mut out = BTreeMap::new();
        for item in self.tree.iter() {
            let (k, v) = item?;
            let name = String::from_utf8(k.to_vec())
                .map_err(|_| StoreError::Corrupt("namespace name is not UTF-8".into()))?;
            let ns: Namespace = serde_json::from_slice(&v)
                .map_err(|e| StoreError::Corrupt(format!("namespace {name}: {e}")))?;
            out.insert(name, ns);
        }
        Ok(out)
    }

    /// Record a namespace's state (durable after the next flush).
    pub fn put(&self, name: &str, ns: &Namespace) -> Result<()> {
        let v = serde_json::to_vec(ns).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.writer.insert(&self.tree, name.as_bytes(), v)
    }

    /// Forget a namespace.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.writer.remove(&self.tree, name.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobref::HashAlg;

    #[test]
    fn access_rules() {
        let ns = Namespace {
            rootref: HashAlg::Sha1.hash(b"x"),
            rootseq: 0,
            owner: 1000,
            flags: 0,
        };
        assert!(ns.check_access("n", 1000, false).is_ok());
        assert!(ns.check_access("n", 0, true).is_ok());
        assert_eq!(ns.check_access("n", 1001, false).unwrap_err().errnum(), 1);
    }

    #[test]
    fn names() {
        assert!(validate_name("job-123").is_ok());
        for bad in ["", "a/b", "a\0"] {
            assert_eq!(validate_name(bad).unwrap_err().errnum(), 22);
        }
    }

    #[test]
    fn table_roundtrip() {
        let db = crate::content::open_db(None).unwrap();
        let writer = WriteBehind::start().unwrap();
        let t = RootTable::open(&db, writer.clone()).unwrap();
        let ns = Namespace {
            rootref: HashAlg::Sha1.hash(b"r"),
            rootseq: 7,
            owner: 5,
            flags: 0,
        };
        t.put("a", &ns).unwrap();
        t.put("b", &ns).unwrap();
        t.remove("b").unwrap();
        writer.drain().unwrap();
        let all = t.load_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all["a"], ns);
    }
}
