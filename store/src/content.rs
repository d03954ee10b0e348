//! The content-addressed blob store (RFC 10) on a sled tree: digest -> blob.

use std::path::Path;
use std::sync::Arc;

use crate::blobref::{Blobref, HashAlg};
use crate::error::{Result, StoreError};
use crate::writer::WriteBehind;

/// Name of the sled tree holding blobs, keyed by binary digest.
const CONTENT_TREE: &str = "content";
/// Name of the sled tree holding store metadata.
const META_TREE: &str = "meta";
/// Meta key recording the hash algorithm the database was created with.
const META_HASH: &[u8] = b"content.hash";

/// flux-core's default blob size limit: 1 GiB (module argument `blob-size-limit=`).
pub const DEFAULT_BLOB_SIZE_LIMIT: usize = 1024 * 1024 * 1024;

/// What sled may cache of the database in memory.
const SLED_CACHE_BYTES: u64 = 128 << 20;

/// Open the sled database under `path`, or a temporary one (removed on drop) if `None`,
/// for instances started without a statedir and for tests.
///
/// sled releases its file lock only when its background flusher thread exits, a moment
/// after the last handle is dropped; so a reopen in the same process (tests, module
/// reload) retries for up to a second while the lock is held.
pub fn open_db(path: Option<&Path>) -> Result<sled::Db> {
    let config = match path {
        Some(p) => sled::Config::new().path(p),
        None => sled::Config::new().temporary(true),
    }
    // sled caches 1 GiB by default; the KVS keeps its own cache of decoded directories.
    .cache_capacity(SLED_CACHE_BYTES);
    let mut tries = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(e)) if tries < 50 && is_lock_busy(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

fn is_lock_busy(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// Settings of a [`ContentStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentConfig {
    /// Hash algorithm for new databases; must match for existing ones.
    pub hash: HashAlg,
    /// Largest blob accepted by [`ContentStore::store`], in bytes.
    pub blob_size_limit: usize,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            hash: HashAlg::default(),
            blob_size_limit: DEFAULT_BLOB_SIZE_LIMIT,
        }
    }
}

/// Immutable blobs addressed by their hash. Cloning shares the same database (and its
/// writer thread).
#[derive(Clone)]
pub struct ContentStore {
    db: sled::Db,
    blobs: sled::Tree,
    config: ContentConfig,
    /// The commit path's writes (see `writer`).
    writer: Arc<WriteBehind>,
}

impl ContentStore {
    /// Open the content store in `db`. A database remembers its hash algorithm: opening it
    /// with another one fails with `EINVAL`, since existing blobrefs would no longer resolve.
    pub fn open(db: &sled::Db, config: ContentConfig) -> Result<ContentStore> {
        let meta = db.open_tree(META_TREE)?;
        let name = config.hash.name().as_bytes();
        match meta.compare_and_swap(META_HASH, None as Option<&[u8]>, Some(name))? {
            Ok(()) => {}
            Err(cas) => {
                let existing = cas.current.unwrap_or_default();
                if existing.as_ref() != name {
                    return Err(StoreError::Invalid(format!(
                        "database uses content.hash={}, not {}",
                        String::from_utf8_lossy(&existing),
                        config.hash.name()
                    )));
                }
            }
        }
        Ok(ContentStore {
            db: db.clone(),
            blobs: db.open_tree(CONTENT_TREE)?,
            config,
            writer: WriteBehind::start()?,
        })
    }

    /// Open a content store on a fresh temporary database (tests, instances without statedir).
    pub fn temporary(config: ContentConfig) -> Result<ContentStore> {
        ContentStore::open(&open_db(None)?, config)
    }

    /// The sled database this store lives in.
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The configuration in effect.
    pub fn config(&self) -> ContentConfig {
        self.config
    }

    /// The blobref `data` would be stored under (no I/O).
    pub fn hash(&self, data: &[u8]) -> Blobref {
        self.config.hash.hash(data)
    }

    /// Fail with `EFBIG` if `len` exceeds the blob size limit.
    pub fn check_size(&self, len: usize) -> Result<()> {
        if len > self.config.blob_size_limit {
            return Err(StoreError::TooBig {
                size: len,
                limit: self.config.blob_size_limit,
            });
        }
        Ok(())
    }

    /// Store one blob (not flushed) and return its blobref.
    pub fn store(&self, data: &[u8]) -> Result<Blobref> {
        self.check_size(data.len())?;
        let r = self.hash(data);
        self.blobs.insert(r.digest(), data)?;
        Ok(r)
    }

    /// Store several blobs in one atomic sled batch (not flushed); blobrefs in input order.
    /// Either all are stored or, on error (e.g. one too big), none.
    pub fn store_batch<B: AsRef<[u8]>>(&self, blobs: &[B]) -> Result<Vec<Blobref>> {
        for b in blobs {
            self.check_size(b.as_ref().len())?;
        }
        let mut batch = sled::Batch::default();
        let refs = blobs
            .iter()
            .map(|b| {
                let r = self.hash(b.as_ref());
                batch.insert(r.digest(), b.as_ref());
                r
            })
            .collect();
        self.blobs.apply_batch(batch)?;
        Ok(refs)
    }

    /// Store blobs already hashed and size-checked by the caller (the commit path). They
    /// are written behind, in order with the root records after them; readable at once.
    pub(crate) fn store_hashed(&self, blobs: Vec<(Blobref, Vec<u8>)>) -> Result<()> {
        let blobs = blobs
            .into_iter()
            .map(|(r, data)| (r.digest().to_vec(), sled::IVec::from(data)))
            .collect();
        self.writer.blobs(&self.blobs, blobs)
    }

    /// The writer the commit path's other records (namespace roots) go through, so that
    /// they reach sled after the blobs they name.
    pub(crate) fn writer(&self) -> &Arc<WriteBehind> {
        &self.writer
    }

    fn check_alg(&self, r: &Blobref) -> Result<()> {
        if r.alg() != self.config.hash {
            return Err(StoreError::InvalidBlobref(format!(
                "{r} (this store uses {})",
                self.config.hash.name()
            )));
        }
        Ok(())
    }

    /// Load a blob; `ENOENT` if unknown.
    pub fn load(&self, r: &Blobref) -> Result<sled::IVec> {
        self.check_alg(r)?;
        if let Some(data) = self.writer.pending(r.digest()) {
            return Ok(data);
        }
        self.blobs
            .get(r.digest())?
            .ok_or_else(|| StoreError::BlobNotFound(r.to_string()))
    }

    /// Whether a blob is stored.
    pub fn contains(&self, r: &Blobref) -> Result<bool> {
        self.check_alg(r)?;
        Ok(self.writer.pending(r.digest()).is_some() || self.blobs.contains_key(r.digest())?)
    }

    /// Number of stored blobs (walks the tree: for stats and tests, not hot paths).
    pub fn count(&self) -> usize {
        let _ = self.writer.drain();
        self.blobs.len()
    }

    /// Make every write so far durable (all trees of the database, KVS roots included).
    pub fn flush(&self) -> Result<()> {
        self.writer.drain()?;
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ContentStore {
        ContentStore::temporary(ContentConfig::default()).unwrap()
    }

    #[test]
    fn store_load_contains() {
        let cs = store();
        let r = cs.store(b"foo\n").unwrap();
        assert_eq!(
            r.to_string(),
            "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15"
        );
        assert!(cs.contains(&r).unwrap());
        assert_eq!(cs.load(&r).unwrap().as_ref(), b"foo\n");
        let missing = cs.hash(b"nope");
        assert!(!cs.contains(&missing).unwrap());
        assert_eq!(cs.load(&missing).unwrap_err().errnum(), 2);
    }

    #[test]
    fn zero_length_blob_and_dedup() {
        let cs = store();
        let a = cs.store(b"").unwrap();
        let b = cs.store(b"").unwrap();
        assert_eq!(a, b);
        assert_eq!(cs.load(&a).unwrap().len(), 0);
        assert_eq!(cs.count(), 1);
    }

    #[test]
    fn size_limit_is_efbig() {
        let cs = ContentStore::temporary(ContentConfig {
            blob_size_limit: 4,
            ..ContentConfig::default()
        })
        .unwrap();
        assert!(cs.store(b"1234").is_ok());
        let e = cs.store(b"12345").unwrap_err();
        assert_eq!(e.errnum(), 27);
        // A batch with one oversized blob stores nothing.
        let e = cs.store_batch(&[&b"ab"[..], &b"toolong"[..]]).unwrap_err();
        assert_eq!(e.errnum(), 27);
        assert!(!cs.contains(&cs.hash(b"ab")).unwrap());
    }

    #[test]
    fn batch_store() {
        let cs = store();
        let blobs: Vec<Vec<u8>> = (0..100u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let refs = cs.store_batch(&blobs).unwrap();
        assert_eq!(refs.len(), 100);
        for (r, b) in refs.iter().zip(&blobs) {
            assert_eq!(cs.load(r).unwrap().as_ref(), b.as_slice());
        }
        cs.flush().unwrap();
    }

    #[test]
    fn wrong_alg_blobref_is_einval() {
        let cs = store();
        let r = HashAlg::Blake3.hash(b"x");
        assert_eq!(cs.load(&r).unwrap_err().errnum(), 22);
    }

    #[test]
    fn reopen_keeps_blobs_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let r = {
            let db = open_db(Some(dir.path())).unwrap();
            let cs = ContentStore::open(&db, ContentConfig::default()).unwrap();
            let r = cs.store(b"durable").unwrap();
            cs.flush().unwrap();
            r
        };
        let db = open_db(Some(dir.path())).unwrap();
        let cs = ContentStore::open(&db, ContentConfig::default()).unwrap();
        assert_eq!(cs.load(&r).unwrap().as_ref(), b"durable");
        let other = ContentConfig {
            hash: HashAlg::Blake3,
            ..ContentConfig::default()
        };
        assert_eq!(ContentStore::open(&db, other).err().unwrap().errnum(), 22);
    }
}
