//! The KVS core: namespaces, commits (single and merged) and snapshots for lookup.

use std::collections::{BTreeMap, BTreeSet};

use crate::blobref::Blobref;
use crate::content::{ContentConfig, ContentStore};
use crate::error::{Result, StoreError};
use crate::namespace::{Namespace, PRIMARY, RootTable, validate_name};
use crate::snapshot::Snapshot;
use crate::tree::TreeStore;
use crate::tree::cache::{BYTES_PER_ENTRY, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
use crate::tree::commit::{Action, Builder};
use crate::tree::key::Key;
use crate::tree::lookup::RootResolver;
use crate::tree::object::{Dir, Symlink, TreeObj};
use crate::txn::{Op, Txn};

/// Settings of a [`Kvs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvsConfig {
    /// Owner uid of `primary` when it is first created (the instance owner).
    pub owner: u32,
    /// Legacy budget of the decoded-directory cache, in directory entries, counted as
    /// [`BYTES_PER_ENTRY`] bytes each; the smaller of this and `cache_bytes` applies.
    pub cache_entries: usize,
    /// Budget of the decoded-directory cache, in (approximate) bytes.
    pub cache_bytes: usize,
}

impl Default for KvsConfig {
    fn default() -> Self {
        KvsConfig {
            owner: 0,
            cache_entries: DEFAULT_CACHE_ENTRIES,
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

/// Outcome of a commit: what the `kvs.commit` response and the setroot event carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitResult {
    /// The new root blobref.
    pub rootref: Blobref,
    /// The new version.
    pub rootseq: u64,
    /// Normalized keys named by the ops (for firing watches).
    pub keys: BTreeSet<String>,
}

/// The KVS: namespaces over one tree store. One owner (the kvs module actor), no locking.
pub struct Kvs {
    tree: TreeStore,
    roots: RootTable,
    namespaces: BTreeMap<String, Namespace>,
}

impl Kvs {
    /// Open the KVS stored with `content`, restoring every checkpointed namespace, and
    /// creating `primary` (empty) on first use.
    pub fn open(content: ContentStore, config: KvsConfig) -> Result<Kvs> {
        let roots = RootTable::open(content.db(), content.writer().clone())?;
        let namespaces = roots.load_all()?;
        let mut kvs = Kvs {
            tree: TreeStore::with_cache_bytes(
                content,
                config
                    .cache_bytes
                    .min(config.cache_entries.saturating_mul(BYTES_PER_ENTRY)),
            ),
            roots,
            namespaces,
        };
        if !kvs.namespaces.contains_key(PRIMARY) {
            kvs.create_namespace(PRIMARY, config.owner, None)?;
        }
        Ok(kvs)
    }

    /// A KVS on a fresh temporary database with default settings.
    pub fn temporary() -> Result<Kvs> {
        Kvs::open(
            ContentStore::temporary(ContentConfig::default())?,
            KvsConfig::default(),
        )
    }

    /// The content store (shared with the content module).
    pub fn content(&self) -> &ContentStore {
        self.tree.content()
    }

    /// The tree store (objects and directory cache).
    pub fn tree(&self) -> &TreeStore {
        &self.tree
    }

    /// State of a namespace; `ENOTSUP` if it does not exist.
    pub fn namespace(&self, name: &str) -> Result<&Namespace> {
        self.namespaces
            .get(name)
            .ok_or_else(|| StoreError::NoNamespace(name.to_string()))
    }

    /// Every namespace, by name.
    pub fn namespaces(&self) -> impl Iterator<Item = (&str, &Namespace)> {
        self.namespaces.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Create a namespace owned by `owner`, empty or at an existing root directory.
    /// Errors: `EEXIST`, `EINVAL` bad name, `ENOENT`/`EPROTO` if `rootref` is not a directory.
    pub fn create_namespace(
        &mut self,
        name: &str,
        owner: u32,
        rootref: Option<Blobref>,
    ) -> Result<&Namespace> {
        validate_name(name)?;
        if self.namespaces.contains_key(name) {
            return Err(StoreError::NamespaceExists(name.to_string()));
        }
        let rootref = match rootref {
            Some(r) => {
                self.tree.load_stored(&r)?;
                r
            }
            None => {
                let fin = Builder::empty(&self.tree, name).finish()?;
                self.tree.content().store_hashed(fin.blobs)?;
                self.tree.cache_dirs(fin.dirs);
                self.tree.cache_hdirs(fin.hdirs);
                fin.root
            }
        };
        let ns = Namespace {
            rootref,
            rootseq: 0,
            owner,
            flags: 0,
        };
        self.roots.put(name, &ns)?;
        Ok(self.namespaces.entry(name.to_string()).or_insert(ns))
    }

    /// Remove a namespace (its blobs stay until garbage collection). `primary` cannot be
    /// removed (`EINVAL`).
    pub fn remove_namespace(&mut self, name: &str) -> Result<()> {
        if name == PRIMARY {
            return Err(StoreError::Invalid(
                "cannot remove the primary namespace".into(),
            ));
        }
        self.namespace(name)?;
        self.roots.remove(name)?;
        self.namespaces.remove(name);
        Ok(())
    }

    /// Commit one transaction atomically: all ops or none. Not flushed: call [`Kvs::sync`]
    /// before telling a client its commit is durable (`FLUX_KVS_SYNC`).
    pub fn commit(&mut self, namespace: &str, txn: &Txn) -> Result<CommitResult> {
        self.commit_merged(namespace, [txn])
    }

    /// Commit several transactions (e.g. from several clients) as ONE new root and ONE
    /// version bump, ops applied in order. Atomic as a whole: if any op fails, nothing
    /// changes and the error is returned; the caller may then retry the transactions one
    /// by one so that only the faulty one fails (flux's fallback for merged commits).
    pub fn commit_merged<'t>(
        &mut self,
        namespace: &str,
        txns: impl IntoIterator<Item = &'t Txn>,
    ) -> Result<CommitResult> {
        let state = self.namespace(namespace)?.clone();
        let mut builder = Builder::new(&self.tree, namespace, &state.rootref)?;
        let mut keys = BTreeSet::new();
        for txn in txns {
            for op in txn.ops() {
                let key = Key::parse(op.key())?;
                builder.apply(&key, action_of(op))?;
                keys.insert(key.to_string());
            }
        }
        let fin = builder.finish()?;
        // One batch for every new blob; the root record goes after it, so a root on disk
        // never names a blob that is not (sled keeps writes in order).
        self.tree.content().store_hashed(fin.blobs)?;
        self.tree.cache_dirs(fin.dirs);
        self.tree.cache_hdirs(fin.hdirs);
        let new = Namespace {
            rootref: fin.root,
            rootseq: state.rootseq + 1,
            ..state
        };
        self.roots.put(namespace, &new)?;
        self.namespaces.insert(namespace.to_string(), new);
        Ok(CommitResult {
            rootref: fin.root,
            rootseq: state.rootseq + 1,
            keys,
        })
    }

    /// Commit contemporaneous transactions the way flux's kvs module does: merged into one
    /// version when they all succeed; if the merge fails, each is retried alone so only the
    /// faulty ones fail. Returns one result per transaction, in order.
    pub fn commit_batch(&mut self, namespace: &str, txns: &[Txn]) -> Vec<Result<CommitResult>> {
        match self.commit_merged(namespace, txns) {
            Ok(r) => txns.iter().map(|_| Ok(r.clone())).collect(),
            Err(e) if txns.len() == 1 => vec![Err(e)],
            Err(_) => txns.iter().map(|t| self.commit(namespace, t)).collect(),
        }
    }

    /// Flush content and root checkpoints to disk.
    pub fn sync(&self) -> Result<()> {
        self.tree.content().flush()
    }

    /// A read view at the current root of `namespace`.
    pub fn snapshot(&self, namespace: &str) -> Result<Snapshot<'_>> {
        Ok(Snapshot::new(self, self.namespace(namespace)?.rootref))
    }

    /// A read view at any root directory (`kvs.lookup` with `rootdir`).
    pub fn at(&self, root: Blobref) -> Snapshot<'_> {
        Snapshot::new(self, root)
    }
}

impl RootResolver for Kvs {
    fn root_of(&self, ns: &str) -> Result<Blobref> {
        Ok(self.namespace(ns)?.rootref)
    }
}

fn action_of(op: &Op) -> Action {
    match op {
        Op::Put { value, .. } => Action::Link(TreeObj::Val(value.clone())),
        Op::PutTreeObj { obj, .. } => Action::Link(obj.clone()),
        Op::Unlink { .. } => Action::Unlink,
        Op::Mkdir { .. } => Action::Link(TreeObj::Dir(Dir::new())),
        Op::Symlink {
            namespace, target, ..
        } => Action::Link(TreeObj::Symlink(Symlink {
            namespace: namespace.clone(),
            target: target.clone(),
        })),
        Op::Append { value, .. } => Action::Append(value.clone()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod model_tests;
