//! Read-only views of the KVS at one root: get, list, readlink.

use std::sync::Arc;

use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::kvs::Kvs;
use crate::tree::key::Key;
use crate::tree::lookup::resolve;
use crate::tree::object::{Dir, Symlink, TreeObj};

/// Lookups at a fixed root; symlinks into other namespaces use their current roots.
pub struct Snapshot<'a> {
    kvs: &'a Kvs,
    root: Blobref,
}

impl<'a> Snapshot<'a> {
    pub(crate) fn new(kvs: &'a Kvs, root: Blobref) -> Snapshot<'a> {
        Snapshot { kvs, root }
    }

    /// The root directory this view reads.
    pub fn root(&self) -> Blobref {
        self.root
    }

    /// The tree object at `key` (`TREEOBJ` lookups). Symlinks on the path are followed; a
    /// final one only if `follow`. The root key gives the root's `dirref`.
    pub fn lookup(&self, key: &str, follow: bool) -> Result<TreeObj> {
        let k = Key::parse(key)?;
        let obj = resolve(self.kvs.tree(), self.kvs, self.root, &k, follow)?;
        if k.want_dir() && !obj.is_dir() {
            return Err(StoreError::NotDir(k.to_string()));
        }
        Ok(obj)
    }

    /// The value at `key`. Errors: `ENOENT`, `EISDIR` for a directory.
    pub fn get(&self, key: &str) -> Result<Vec<u8>> {
        let obj = self.lookup(key, true)?;
        self.kvs.tree().read_value(&obj, key)
    }

    /// The directory at `key` (`READDIR`). Errors: `ENOENT`, `ENOTDIR` for a value.
    pub fn get_dir(&self, key: &str) -> Result<Arc<Dir>> {
        match self.lookup(key, true)? {
            TreeObj::DirRef(r) => self.kvs.tree().load_dir(&r),
            TreeObj::Dir(d) => Ok(Arc::new(d)),
            _ => Err(StoreError::NotDir(key.to_string())),
        }
    }

    /// Entry names of the directory at `key`, sorted.
    pub fn list(&self, key: &str) -> Result<Vec<String>> {
        Ok(self.get_dir(key)?.keys().cloned().collect())
    }

    /// The symlink at `key` (`READLINK`). Errors: `ENOENT`, `EINVAL` if not a symlink.
    pub fn readlink(&self, key: &str) -> Result<Symlink> {
        match self.lookup(key, false)? {
            TreeObj::Symlink(s) => Ok(s),
            _ => Err(StoreError::NotSymlink(key.to_string())),
        }
    }

    /// Whether `key` exists (following symlinks).
    pub fn exists(&self, key: &str) -> Result<bool> {
        match self.lookup(key, true) {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
