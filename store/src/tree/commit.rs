//! Copy-on-write application of ops to a root, then "unrolling" into new blobs.
//!
//! Directories touched by an op are expanded from their (cached, immutable) decoded form into
//! mutable working directories; untouched subtrees stay as `dirref`s and are never re-encoded.
//! Nothing is written until [`Builder::finish`], which returns every new blob so the caller
//! can write them with one batch: a failed op therefore leaves the store unchanged.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::base64;
use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::tree::hdir::{self, HDir};
use crate::tree::key::Key;
use crate::tree::object::{Dir, TreeObj};
use crate::tree::{SYMLINK_LIMIT, Stored, TreeStore, VALREF_THRESHOLD_BASE64};

/// What to do at the final component of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Replace the entry with this object (put, mkdir, symlink).
    Link(TreeObj),
    /// Remove the entry, whatever it is; missing is not an error.
    Unlink,
    /// Append bytes to a value (flux `FLUX_KVS_APPEND`).
    Append(Vec<u8>),
}

enum Node {
    Obj(TreeObj),
    Dir(WorkDir),
}

type Entries = BTreeMap<String, Node>;

/// A directory being modified. A plain one holds its entries; a hashed one (stored as an
/// `hdir`) opens only the buckets that ops touch.
#[derive(Default)]
struct WorkDir {
    entries: Entries,
    hashed: Option<Hashed>,
}

/// The buckets of a hashed directory being modified.
struct Hashed {
    /// Entries in the buckets still closed.
    closed_size: usize,
    buckets: Vec<Bucket>,
}

enum Bucket {
    Stored(Blobref),
    Open(Entries),
}

fn entries_of(d: &Dir) -> Entries {
    d.iter()
        .map(|(k, v)| (k.clone(), Node::Obj(v.clone())))
        .collect()
}

impl WorkDir {
    fn from_dir(d: &Dir) -> WorkDir {
        WorkDir {
            entries: entries_of(d),
            hashed: None,
        }
    }

    fn from_owned(d: Dir) -> WorkDir {
        WorkDir {
            entries: d.into_iter().map(|(k, v)| (k, Node::Obj(v))).collect(),
            hashed: None,
        }
    }

    fn from_stored(s: Stored) -> WorkDir {
        match s {
            Stored::Dir(d) => WorkDir::from_dir(&d),
            Stored::Hashed(h) => WorkDir {
                entries: Entries::new(),
                hashed: Some(Hashed {
                    closed_size: h.size,
                    buckets: h.buckets.iter().map(|r| Bucket::Stored(*r)).collect(),
                }),
            },
        }
    }

    /// The entries that hold (or would hold) `name`, opening its bucket if hashed.
    fn entries_for(&mut self, ts: &TreeStore, name: &str) -> Result<&mut Entries> {
        let Some(h) = &mut self.hashed else {
            return Ok(&mut self.entries);
        };
        let i = hdir::bucket_of(name, h.buckets.len());
        if let Bucket::Stored(r) = h.buckets[i] {
            let d = ts.load_dir(&r)?;
            h.closed_size = h.closed_size.saturating_sub(d.len());
            h.buckets[i] = Bucket::Open(entries_of(&d));
        }
        match &mut h.buckets[i] {
            Bucket::Open(e) => Ok(e),
            Bucket::Stored(_) => Err(StoreError::Corrupt("hdir bucket not opened".into())),
        }
    }
}

/// The new objects of a finished commit.
pub struct Finished {
    /// The new root directory.
    pub root: Blobref,
    /// Blobs to write (directories and values not known to be stored yet).
    pub blobs: Vec<(Blobref, Vec<u8>)>,
    /// Decoded form of every directory written, for the cache.
    pub dirs: Vec<(Blobref, Arc<Dir>)>,
    /// Decoded form of every `hdir` written, for the cache.
    pub hdirs: Vec<(Blobref, Arc<HDir>)>,
}

/// Blob output and context shared by the walk (kept apart from the tree for borrowing).
struct Sink<'a> {
    ts: &'a TreeStore,
    namespace: &'a str,
    blobs: Vec<(Blobref, Vec<u8>)>,
    dirs: Vec<(Blobref, Arc<Dir>)>,
    hdirs: Vec<(Blobref, Arc<HDir>)>,
    /// Directory blobs already queued by this commit.
    queued: HashSet<Blobref>,
}

impl<'a> Sink<'a> {
    fn new(ts: &'a TreeStore, namespace: &'a str) -> Sink<'a> {
        Sink {
            ts,
            namespace,
            blobs: Vec::new(),
            dirs: Vec::new(),
            hdirs: Vec::new(),
            queued: HashSet::new(),
        }
    }

    fn blob(&mut self, data: Vec<u8>) -> Result<Blobref> {
        let content = self.ts.content();
        content.check_size(data.len())?;
        let r = content.hash(&data);
        self.blobs.push((r, data));
        Ok(r)
    }

    fn append(&mut self, slot: &mut Node, data: Vec<u8>, key: &Key) -> Result<()> {
        let new = match slot {
            Node::Dir(_) => return Err(StoreError::IsDir(key.to_string())),
            Node::Obj(TreeObj::Dir(_) | TreeObj::DirRef(_)) => {
                return Err(StoreError::IsDir(key.to_string()));
            }
            Node::Obj(TreeObj::Symlink(_)) => {
                return Err(StoreError::NotSupported(key.to_string()));
            }
            Node::Obj(TreeObj::ValRef(refs)) => {
                refs.push(self.blob(data)?);
                return Ok(());
            }
            Node::Obj(TreeObj::Val(old)) => {
                let first = self.blob(std::mem::take(old))?;
                TreeObj::ValRef(vec![first, self.blob(data)?])
            }
        };
        *slot = Node::Obj(new);
        Ok(())
    }

    /// Encode `wd` bottom-up into blobs; returns the directory's blobref. Large
    /// directories are written as `hdir` objects, small hashed ones joined back.
    fn unroll(&mut self, wd: WorkDir) -> Result<Blobref> {
        let Some(h) = wd.hashed else {
            if wd.entries.len() <= hdir::SPLIT_ENTRIES {
                return self.write_dir(wd.entries);
            }
            let size = wd.entries.len();
            let n = hdir::target_buckets(size);
            let mut buckets: Vec<Entries> = (0..n).map(|_| Entries::new()).collect();
            for (name, node) in wd.entries {
                buckets[hdir::bucket_of(&name, n)].insert(name, node);
            }
            return self.write_hdir(size, buckets.into_iter().map(Bucket::Open).collect());
        };
        let open: usize = h
            .buckets
            .iter()
            .map(|b| match b {
                Bucket::Open(e) => e.len(),
                Bucket::Stored(_) => 0,
            })
            .sum();
        let size = h.closed_size + open;
        if !hdir::needs_rebuild(size, h.buckets.len()) {
            return self.write_hdir(size, h.buckets);
        }
        // Rare (the size drifted 4x): merge every bucket and split or join anew.
        let mut entries = Entries::new();
        for b in h.buckets {
            match b {
                Bucket::Stored(r) => entries.extend(entries_of(&*self.ts.load_dir(&r)?)),
                Bucket::Open(e) => entries.extend(e),
            }
        }
        self.unroll(WorkDir {
            entries,
            hashed: None,
        })
    }

    fn write_hdir(&mut self, size: usize, buckets: Vec<Bucket>) -> Result<Blobref> {
        let mut refs = Vec::with_capacity(buckets.len());
        for b in buckets {
            refs.push(match b {
                Bucket::Stored(r) => r,
                Bucket::Open(e) => self.write_dir(e)?,
            });
        }
        let h = HDir {
            size,
            buckets: refs,
        };
        let bytes = h.encode();
        let content = self.ts.content();
        content.check_size(bytes.len())?;
        let r = content.hash(&bytes);
        if !self.ts.dir_cached(&r) && self.queued.insert(r) {
            self.blobs.push((r, bytes));
            self.hdirs.push((r, Arc::new(h)));
        }
        Ok(r)
    }

    /// Encode plain directory entries into a `dir` blob.
    fn write_dir(&mut self, entries: Entries) -> Result<Blobref> {
        // Entries come out sorted: collecting bulk-builds the map (faster than inserts).
        let mut out = Vec::with_capacity(entries.len());
        for (name, node) in entries {
            let obj = match node {
                Node::Dir(d) => TreeObj::DirRef(self.unroll(d)?),
                Node::Obj(TreeObj::Dir(d)) => TreeObj::DirRef(self.unroll(WorkDir::from_owned(d))?),
                Node::Obj(TreeObj::Val(v))
                    if base64::encoded_len(v.len()) > VALREF_THRESHOLD_BASE64 =>
                {
                    TreeObj::ValRef(vec![self.blob(v)?])
                }
                Node::Obj(o) => o,
            };
            out.push((name, obj));
        }
        let dir: Dir = out.into_iter().collect();
        let bytes = TreeObj::encode_dir(&dir);
        let content = self.ts.content();
        content.check_size(bytes.len())?;
        let r = content.hash(&bytes);
        // A cached directory is already stored: skip rewriting identical content.
        if !self.ts.dir_cached(&r) && self.queued.insert(r) {
            self.blobs.push((r, bytes));
            self.dirs.push((r, Arc::new(dir)));
        }
        Ok(r)
    }
}

enum Step {
    Descend,
    Insert(WorkDir),
    Follow(Vec<String>),
    Stop,
}

/// Applies ops to a copy-on-write view of one root.
pub struct Builder<'a> {
    root: WorkDir,
    sink: Sink<'a>,
}

impl<'a> Builder<'a> {
    /// Start from the directory at `root` in `namespace` (symlinks naming another namespace
    /// cannot be crossed by a commit: `EINVAL`, as flux).
    pub fn new(ts: &'a TreeStore, namespace: &'a str, root: &Blobref) -> Result<Builder<'a>> {
        Ok(Builder {
            root: WorkDir::from_stored(ts.load_stored(root)?),
            sink: Sink::new(ts, namespace),
        })
    }

    /// Start from an empty root directory.
    pub fn empty(ts: &'a TreeStore, namespace: &'a str) -> Builder<'a> {
        Builder {
            root: WorkDir::default(),
            sink: Sink::new(ts, namespace),
        }
    }

    /// Apply one op. Missing or non-directory path components are replaced by new
    /// directories (unlink just stops there); symlinks on the path are followed.
    /// The root itself cannot be the target (`EINVAL`). On error the builder must be dropped.
    pub fn apply(&mut self, key: &Key, action: Action) -> Result<()> {
        if key.is_root() {
            return Err(StoreError::InvalidKey {
                key: key.to_string(),
                reason: "the root directory cannot be replaced or removed",
            });
        }
        let unlink = action == Action::Unlink;
        let ts = self.sink.ts;
        let mut comps: Cow<'_, [String]> = Cow::Borrowed(key.components());
        let mut hops = 0;
        'restart: loop {
            let mut dir = &mut self.root;
            let (last, path) = match comps.split_last() {
                Some(split) => split,
                None => return Err(StoreError::Invalid(format!("{key}: link resolves to root"))),
            };
            for (i, name) in path.iter().enumerate() {
                let entries = dir.entries_for(ts, name)?;
                let step = match entries.get(name) {
                    Some(Node::Dir(_)) => Step::Descend,
                    Some(Node::Obj(TreeObj::DirRef(r))) => {
                        Step::Insert(WorkDir::from_stored(ts.load_stored(r)?))
                    }
                    Some(Node::Obj(TreeObj::Dir(d))) => Step::Insert(WorkDir::from_dir(d)),
                    Some(Node::Obj(TreeObj::Symlink(link))) => {
                        if link
                            .namespace
                            .as_deref()
                            .is_some_and(|ns| ns != self.sink.namespace)
                        {
                            return Err(StoreError::Invalid(format!(
                                "{key}: cannot commit across a namespace symlink"
                            )));
                        }
                        let mut next = Key::parse(&link.target)?.components().to_vec();
                        next.extend_from_slice(&path[i + 1..]);
                        next.push(last.clone());
                        Step::Follow(next)
                    }
                    None | Some(Node::Obj(_)) if unlink => Step::Stop,
                    None | Some(Node::Obj(_)) => Step::Insert(WorkDir::default()),
                };
                match step {
                    Step::Descend => {}
                    Step::Insert(wd) => {
                        entries.insert(name.clone(), Node::Dir(wd));
                    }
                    Step::Follow(next) => {
                        hops += 1;
                        if hops > SYMLINK_LIMIT {
                            return Err(StoreError::SymlinkLoop(key.to_string()));
                        }
                        comps = Cow::Owned(next);
                        continue 'restart;
                    }
                    Step::Stop => return Ok(()),
                }
                dir = match entries.get_mut(name) {
                    Some(Node::Dir(d)) => d,
                    // Just made sure it is a WorkDir.
                    _ => return Err(StoreError::Corrupt("walk lost a directory".into())),
                };
            }
            let entries = dir.entries_for(ts, last)?;
            match action {
                Action::Unlink => {
                    entries.remove(last);
                }
                Action::Link(TreeObj::Dir(d)) => {
                    entries.insert(last.clone(), Node::Dir(WorkDir::from_owned(d)));
                }
                Action::Link(obj) => {
                    entries.insert(last.clone(), Node::Obj(obj));
                }
                Action::Append(data) => match entries.get_mut(last) {
                    Some(slot) => self.sink.append(slot, data, key)?,
                    None => {
                        entries.insert(last.clone(), Node::Obj(TreeObj::Val(data)));
                    }
                },
            }
            return Ok(());
        }
    }

    /// Encode every modified directory; nothing is written yet.
    pub fn finish(mut self) -> Result<Finished> {
        let root = std::mem::take(&mut self.root);
        let r = self.sink.unroll(root)?;
        Ok(Finished {
            root: r,
            blobs: self.sink.blobs,
            dirs: self.sink.dirs,
            hdirs: self.sink.hdirs,
        })
    }
}
