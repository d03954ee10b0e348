//! Resolve a key at a root, following symlinks (also into other namespaces).

use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::tree::key::Key;
use crate::tree::object::{Dir, TreeObj};
use crate::tree::{SYMLINK_LIMIT, TreeStore};

/// Current root of a namespace, for symlinks that name one.
pub trait RootResolver {
    /// The root blobref of namespace `ns`; `ENOTSUP` if it does not exist.
    fn root_of(&self, ns: &str) -> Result<Blobref>;
}

/// Find the object at `key` under `root`. Symlinks on the path are always followed; a symlink
/// at the end is followed only if `follow_final`. The root key yields `DirRef(root)`.
/// Errors: `ENOENT` missing, `ENOTDIR` a value on the path, `ELOOP` too many links.
pub fn resolve(
    ts: &TreeStore,
    roots: &dyn RootResolver,
    root: Blobref,
    key: &Key,
    follow_final: bool,
) -> Result<TreeObj> {
    let name_err = || key.to_string();
    let mut root = root;
    let mut comps: Vec<String> = key.components().to_vec();
    let mut hops = 0;
    'restart: loop {
        if comps.is_empty() {
            return Ok(TreeObj::DirRef(root));
        }
        // The directory being searched: stored (`dir` or `hdir`, read one bucket) or inline.
        let mut stored = Some(root);
        let mut inline = Dir::new();
        for i in 0..comps.len() {
            let last = i + 1 == comps.len();
            let entry = match &stored {
                Some(r) => ts.entry(r, &comps[i])?,
                None => inline.remove(&comps[i]),
            }
            .ok_or_else(|| StoreError::NotFound(name_err()))?;
            match entry {
                TreeObj::Symlink(link) if !last || follow_final => {
                    hops += 1;
                    if hops > SYMLINK_LIMIT {
                        return Err(StoreError::SymlinkLoop(name_err()));
                    }
                    if let Some(ns) = &link.namespace {
                        root = roots.root_of(ns)?;
                    }
                    let mut next = Key::parse(&link.target)?.components().to_vec();
                    next.extend_from_slice(&comps[i + 1..]);
                    comps = next;
                    continue 'restart;
                }
                _ if last => return Ok(entry),
                TreeObj::DirRef(r) => stored = Some(r),
                TreeObj::Dir(d) => {
                    stored = None;
                    inline = d;
                }
                TreeObj::Val(_) | TreeObj::ValRef(_) | TreeObj::Symlink(_) => {
                    return Err(StoreError::NotDir(name_err()));
                }
            }
        }
        // The loop returns or restarts at the last component.
        return Err(StoreError::NotFound(name_err()));
    }
}
