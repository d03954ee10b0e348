//! The KVS hash tree (RFC 11) over the content store: objects, keys, lookup, commit.

pub mod cache;
pub mod commit;
pub mod hdir;
pub mod key;
pub mod lookup;
pub mod object;

use std::cell::RefCell;
use std::sync::Arc;

use crate::blobref::Blobref;
use crate::content::ContentStore;
use crate::error::{Result, StoreError};
use cache::{BYTES_PER_ENTRY, DirCache};
use hdir::HDir;
use object::{Dir, TreeObj};

/// A value whose base64 encoding is longer than this many characters is stored in its own
/// blob and referenced by a `valref` (flux-core: `BLOBREF_MAX_STRING_SIZE`, 72). That is,
/// values of 55 bytes or more.
pub const VALREF_THRESHOLD_BASE64: usize = 72;

/// Symlinks followed in one lookup or one op before `ELOOP` (flux's `SYMLINK_CYCLE_LIMIT`).
pub const SYMLINK_LIMIT: usize = 10;

/// A decoded directory blob: a plain `dir`, or an `hdir` whose buckets are `dir` blobs.
#[derive(Debug, Clone)]
pub enum Stored {
    /// A `dir` object.
    Dir(Arc<Dir>),
    /// An `hdir` object (large directory split into hash buckets).
    Hashed(Arc<HDir>),
}

/// Tree objects on top of a content store, with a cache of decoded directories.
///
/// Not `Sync` (the cache is a `RefCell`): it belongs to one actor, which is the design.
pub struct TreeStore {
    content: ContentStore,
    cache: RefCell<DirCache>,
}

impl TreeStore {
    /// Wrap a content store; `cache_entries` bounds the directory cache, counted as
    /// [`cache::BYTES_PER_ENTRY`] bytes per entry (see [`TreeStore::with_cache_bytes`]).
    pub fn new(content: ContentStore, cache_entries: usize) -> TreeStore {
        TreeStore::with_cache_bytes(content, cache_entries.saturating_mul(BYTES_PER_ENTRY))
    }

    /// Wrap a content store with a directory cache of about `cache_bytes` bytes.
    pub fn with_cache_bytes(content: ContentStore, cache_bytes: usize) -> TreeStore {
        TreeStore {
            content,
            cache: RefCell::new(DirCache::new(cache_bytes)),
        }
    }

    /// The content store underneath.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Load and decode the directory blob at `r` (`dir` or `hdir`); `EPROTO` if it is
    /// neither.
    pub fn load_stored(&self, r: &Blobref) -> Result<Stored> {
        // Borrows of the RefCell never outlive these statements, so they cannot conflict.
        if let Some(d) = self.cache.borrow_mut().get(r) {
            return Ok(d);
        }
        let blob = self.content.load(r)?;
        let stored = if HDir::is_hdir_blob(&blob) {
            Stored::Hashed(Arc::new(HDir::decode(&blob)?))
        } else {
            match TreeObj::decode(&blob) {
                Ok(TreeObj::Dir(d)) => Stored::Dir(Arc::new(d)),
                Ok(other) => {
                    return Err(StoreError::Corrupt(format!(
                        "{r}: dirref points to a {} object",
                        other.type_name()
                    )));
                }
                // An hdir written with another field order.
                Err(e) => match HDir::decode(&blob) {
                    Ok(h) => Stored::Hashed(Arc::new(h)),
                    Err(_) => return Err(e),
                },
            }
        };
        self.cache.borrow_mut().insert(*r, stored.clone());
        Ok(stored)
    }

    /// Load and decode the directory stored at `r`; `EPROTO` if the blob is not a `dir` or
    /// `hdir`. An `hdir` is materialized: its buckets merged into one directory.
    pub fn load_dir(&self, r: &Blobref) -> Result<Arc<Dir>> {
        match self.load_stored(r)? {
            Stored::Dir(d) => Ok(d),
            Stored::Hashed(h) => {
                let mut all = Dir::new();
                for b in &h.buckets {
                    let d = self.load_dir(b)?;
                    all.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Ok(Arc::new(all))
            }
        }
    }

    /// The entry `name` of the directory stored at `r` (reading one bucket of an `hdir`).
    pub fn entry(&self, r: &Blobref, name: &str) -> Result<Option<TreeObj>> {
        match self.load_stored(r)? {
            Stored::Dir(d) => Ok(d.get(name).cloned()),
            Stored::Hashed(h) => {
                let b = h.buckets[hdir::bucket_of(name, h.buckets.len())];
                self.entry(&b, name)
            }
        }
    }

    /// The bytes of a value object (`val` or concatenated `valref` blobs); `EISDIR` for a
    /// directory, `EINVAL` for a symlink. `key` names the entry in errors.
    pub fn read_value(&self, obj: &TreeObj, key: &str) -> Result<Vec<u8>> {
        match obj {
            TreeObj::Val(v) => Ok(v.clone()),
            TreeObj::ValRef(refs) => {
                let mut out = Vec::new();
                for r in refs {
                    out.extend_from_slice(&self.content.load(r)?);
                }
                Ok(out)
            }
            TreeObj::Dir(_) | TreeObj::DirRef(_) => Err(StoreError::IsDir(key.to_string())),
            TreeObj::Symlink(_) => Err(StoreError::Invalid(format!("{key}: is a symlink"))),
        }
    }

    /// Whether a directory is known to be stored (it is in the cache).
    pub(crate) fn dir_cached(&self, r: &Blobref) -> bool {
        self.cache.borrow().contains(r)
    }

    /// Remember directories written by a commit, so later commits need not decode them.
    pub(crate) fn cache_dirs(&self, dirs: Vec<(Blobref, Arc<Dir>)>) {
        let mut cache = self.cache.borrow_mut();
        for (r, d) in dirs {
            cache.insert(r, Stored::Dir(d));
        }
    }

    /// Remember `hdir` objects written by a commit.
    pub(crate) fn cache_hdirs(&self, hdirs: Vec<(Blobref, Arc<HDir>)>) {
        let mut cache = self.cache.borrow_mut();
        for (r, h) in hdirs {
            cache.insert(r, Stored::Hashed(h));
        }
    }

    /// Number of cached directories.
    pub fn cached_dirs(&self) -> usize {
        self.cache.borrow().len()
    }

    /// Approximate bytes held by the directory cache.
    pub fn cached_bytes(&self) -> usize {
        self.cache.borrow().bytes()
    }

    /// Drop the directory cache.
    pub fn drop_cache(&self) {
        self.cache.borrow_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::ContentConfig;
    use crate::tree::commit::{Action, Builder};
    use crate::tree::key::Key;

    fn ts() -> TreeStore {
        TreeStore::new(
            ContentStore::temporary(ContentConfig::default()).unwrap(),
            1000,
        )
    }

    #[test]
    fn dirref_to_non_dir_blob_is_eproto() {
        let ts = ts();
        let val = ts
            .content()
            .store(&TreeObj::Val(b"x".to_vec()).encode())
            .unwrap();
        assert_eq!(ts.load_dir(&val).unwrap_err().errnum(), 71);
        let junk = ts.content().store(b"not json").unwrap();
        assert_eq!(ts.load_dir(&junk).unwrap_err().errnum(), 71);
        let missing = ts.content().hash(b"missing");
        assert_eq!(ts.load_dir(&missing).unwrap_err().errnum(), 2);
    }

    #[test]
    fn builder_writes_nothing_until_stored() {
        let ts = ts();
        let mut b = Builder::empty(&ts, "primary");
        b.apply(
            &Key::parse("a.b").unwrap(),
            Action::Link(TreeObj::Val(vec![1])),
        )
        .unwrap();
        b.apply(
            &Key::parse("big").unwrap(),
            Action::Link(TreeObj::Val(vec![0; 100])),
        )
        .unwrap();
        let fin = b.finish().unwrap();
        assert_eq!(ts.content().count(), 0);
        // Root dir, dir `a`, and the valref blob of `big`.
        assert_eq!(fin.blobs.len(), 3);
        assert_eq!(fin.dirs.len(), 2);
        assert!(fin.blobs.iter().any(|(r, _)| *r == fin.root));
        ts.content().store_hashed(fin.blobs).unwrap();
        ts.cache_dirs(fin.dirs);
        assert_eq!(ts.cached_dirs(), 2);
        let root = ts.load_dir(&fin.root).unwrap();
        assert!(matches!(root.get("big"), Some(TreeObj::ValRef(_))));
        ts.drop_cache();
        assert_eq!(ts.cached_dirs(), 0);
        // Reloaded from the store after the cache is dropped.
        assert_eq!(ts.load_dir(&fin.root).unwrap(), root);
    }

    #[test]
    fn read_value_kinds() {
        let ts = ts();
        let r1 = ts.content().store(b"ab").unwrap();
        let r2 = ts.content().store(b"cd").unwrap();
        assert_eq!(
            ts.read_value(&TreeObj::ValRef(vec![r1, r2]), "k").unwrap(),
            b"abcd"
        );
        assert_eq!(
            ts.read_value(&TreeObj::Val(b"v".to_vec()), "k").unwrap(),
            b"v"
        );
        assert_eq!(
            ts.read_value(&TreeObj::DirRef(r1), "k")
                .unwrap_err()
                .errnum(),
            21
        );
        let link = TreeObj::Symlink(object::Symlink {
            namespace: None,
            target: "x".into(),
        });
        assert_eq!(ts.read_value(&link, "k").unwrap_err().errnum(), 22);
    }

    #[test]
    fn stores_are_send() {
        fn send<T: Send>() {}
        send::<TreeStore>();
        send::<crate::Kvs>();
        send::<ContentStore>();
    }
}
