//! Copy-on-write application of ops to a root, then "unrolling" into new blobs.
//!
//! Directories touched by an op are expanded from their (cached, immutable) decoded form into
//! mutable working directories; untouched subtrees stay as `dirref`s and are never re-encoded.
//! Nothing is written until [`Builder::finish`], which returns every new blob so the caller
//! can write them with one batch: a failed op therefore leaves the store unchanged.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::base64;
use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::tree::key::Key;
use crate::tree::object::{Dir, TreeObj};
use crate::tree::{SYMLINK_LIMIT, TreeStore, VALREF_THRESHOLD_BASE64};

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

#[derive(Default)]
struct WorkDir {
    entries: BTreeMap<String, Node>,
}

impl WorkDir {
    fn from_dir(d: &Dir) -> WorkDir {
        WorkDir {
            entries: d
                .iter()
                .map(|(k, v)| (k.clone(), Node::Obj(v.clone())))
                .collect(),
        }
    }

    fn from_owned(d: Dir) -> WorkDir {
        WorkDir {
            entries: d.into_iter().map(|(k, v)| (k, Node::Obj(v))).collect(),
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
}

/// Blob output and context shared by the walk (kept apart from the tree for borrowing).
struct Sink<'a> {
    ts: &'a TreeStore,
    namespace: &'a str,
    blobs: Vec<(Blobref, Vec<u8>)>,
    dirs: Vec<(Blobref, Arc<Dir>)>,
}

impl Sink<'_> {
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

    /// Encode `wd` bottom-up into blobs; returns the directory's blobref.
    fn unroll(&mut self, wd: WorkDir) -> Result<Blobref> {
        // Entries come out sorted: collecting bulk-builds the map (faster than inserts).
        let mut entries = Vec::with_capacity(wd.entries.len());
        for (name, node) in wd.entries {
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
            entries.push((name, obj));
        }
        let dir: Dir = entries.into_iter().collect();
        let bytes = TreeObj::encode_dir(&dir);
        let content = self.ts.content();
        content.check_size(bytes.len())?;
        let r = content.hash(&bytes);
        // A cached directory is already stored: skip rewriting identical content.
        if !self.ts.dir_cached(&r) {
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
            root: WorkDir::from_dir(&*ts.load_dir(root)?),
            sink: Sink {
                ts,
                namespace,
                blobs: Vec::new(),
                dirs: Vec::new(),
            },
        })
    }

    /// Start from an empty root directory.
    pub fn empty(ts: &'a TreeStore, namespace: &'a str) -> Builder<'a> {
        Builder {
            root: WorkDir::default(),
            sink: Sink {
                ts,
                namespace,
                blobs: Vec::new(),
                dirs: Vec::new(),
            },
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
        let mut comps: Cow<'_, [String]> = Cow::Borrowed(key.components());
        let mut hops = 0;
        'restart: loop {
            let mut dir = &mut self.root;
            let (last, path) = match comps.split_last() {
                Some(split) => split,
                None => return Err(StoreError::Invalid(format!("{key}: link resolves to root"))),
            };
            for (i, name) in path.iter().enumerate() {
                let step = match dir.entries.get(name) {
                    Some(Node::Dir(_)) => Step::Descend,
                    Some(Node::Obj(TreeObj::DirRef(r))) => {
                        Step::Insert(WorkDir::from_dir(&*self.sink.ts.load_dir(r)?))
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
                        dir.entries.insert(name.clone(), Node::Dir(wd));
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
                dir = match dir.entries.get_mut(name) {
                    Some(Node::Dir(d)) => d,
                    // Just made sure it is a WorkDir.
                    _ => return Err(StoreError::Corrupt("walk lost a directory".into())),
                };
            }
            match action {
                Action::Unlink => {
                    dir.entries.remove(last);
                }
                Action::Link(TreeObj::Dir(d)) => {
                    dir.entries
                        .insert(last.clone(), Node::Dir(WorkDir::from_owned(d)));
                }
                Action::Link(obj) => {
                    dir.entries.insert(last.clone(), Node::Obj(obj));
                }
                Action::Append(data) => match dir.entries.get_mut(last) {
                    Some(slot) => self.sink.append(slot, data, key)?,
                    None => {
                        dir.entries
                            .insert(last.clone(), Node::Obj(TreeObj::Val(data)));
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
        })
    }
}
