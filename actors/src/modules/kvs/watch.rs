//! The watches of `kvs-watch.lookup`: one streaming request each, fired by commits that
//! name the watched key (spec/kvs.md §5). Plain bookkeeping, no actor.
//!
//! A watch sends its first value when it starts (or, with `WAITCREATE`, once the key
//! exists), then a value per commit naming the key: the whole value, only changed values
//! (`WATCH_UNIQ`), or only the appended bytes (`WATCH_APPEND`, how eventlogs are
//! followed). Without `WATCH` it ends after its first value.

use std::collections::{BTreeSet, HashMap};

use flux_proto::{Envelope, errno};
use flux_store::tree::key::Key;
use flux_store::{Kvs, StoreError, TreeObj};

use super::error::KvsResult;
use super::sender;
use super::wire::{LookupResponse, lookup_flags};

/// One active watch.
struct Watch {
    req: Envelope,
    namespace: String,
    /// Normalized key, as commits report keys.
    key: String,
    flags: i64,
    /// The tree object last sent, `None` before the first response.
    last: Option<TreeObj>,
    /// Bytes delivered so far (`WATCH_APPEND`).
    sent_len: usize,
}

/// Every active watch, indexed by namespace and key.
#[derive(Default)]
pub struct WatchTable {
    watches: HashMap<u64, Watch>,
    by_key: HashMap<String, HashMap<String, Vec<u64>>>,
    next_id: u64,
}

impl WatchTable {
    /// Start a watch for `req` on `key` in `namespace`; returns its first responses. Errors
    /// (bad key) are for the caller to send; a watch that already ended is not kept.
    pub fn add(
        &mut self,
        req: Envelope,
        namespace: &str,
        key: &str,
        flags: i64,
        kvs: &Kvs,
    ) -> KvsResult<Vec<Envelope>> {
        let key = Key::parse(key)?.to_string();
        let mut watch = Watch {
            req,
            namespace: namespace.to_string(),
            key,
            flags,
            last: None,
            sent_len: 0,
        };
        let mut out = Vec::new();
        if !poll(&mut watch, kvs, &mut out) {
            self.next_id += 1;
            let id = self.next_id;
            self.by_key
                .entry(watch.namespace.clone())
                .or_default()
                .entry(watch.key.clone())
                .or_default()
                .push(id);
            self.watches.insert(id, watch);
        }
        Ok(out)
    }

    /// A commit in `namespace` changed `keys`: responses of the watches on them.
    pub fn on_commit(
        &mut self,
        namespace: &str,
        keys: &BTreeSet<String>,
        kvs: &Kvs,
    ) -> Vec<Envelope> {
        let Some(index) = self.by_key.get(namespace) else {
            return Vec::new();
        };
        // Walk whichever side is smaller: a 100k-key commit against a few watches.
        let ids: Vec<u64> = if index.len() < keys.len() {
            index
                .iter()
                .filter(|(k, _)| keys.contains(*k))
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect()
        } else {
            keys.iter()
                .filter_map(|k| index.get(k))
                .flat_map(|ids| ids.iter().copied())
                .collect()
        };
        let mut out = Vec::new();
        for id in ids {
            let done = match self.watches.get_mut(&id) {
                Some(w) => poll(w, kvs, &mut out),
                None => false,
            };
            if done {
                self.remove(id);
            }
        }
        out
    }

    /// `kvs-watch.cancel` from `sender`: end its watch started with `matchtag` (ENODATA).
    pub fn cancel(&mut self, sender: &str, matchtag: u32) -> Option<Envelope> {
        let id = self
            .watches
            .iter()
            .find(|(_, w)| w.req.matchtag == matchtag && super::sender(&w.req) == sender)
            .map(|(id, _)| *id)?;
        let w = self.remove(id)?;
        Some(w.req.error_response(errno::ENODATA, ""))
    }

    /// A client went away: drop its watches silently.
    pub fn disconnect(&mut self, client: &str) {
        let ids: Vec<u64> = self
            .watches
            .iter()
            .filter(|(_, w)| sender(&w.req) == client)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.remove(id);
        }
    }

    /// A namespace was removed: its watches end with ENOTSUP.
    pub fn on_namespace_removed(&mut self, namespace: &str) -> Vec<Envelope> {
        let ids: Vec<u64> = self
            .by_key
            .get(namespace)
            .map(|index| index.values().flatten().copied().collect())
            .unwrap_or_default();
        ids.into_iter()
            .filter_map(|id| self.remove(id))
            .map(|w| {
                let text = format!("namespace {namespace} removed");
                w.req.error_response(errno::EOPNOTSUPP, text)
            })
            .collect()
    }

    /// Number of active watches.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    /// Whether no watch is active.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    fn remove(&mut self, id: u64) -> Option<Watch> {
        let w = self.watches.remove(&id)?;
        if let Some(index) = self.by_key.get_mut(&w.namespace) {
            if let Some(ids) = index.get_mut(&w.key) {
                ids.retain(|x| *x != id);
                if ids.is_empty() {
                    index.remove(&w.key);
                }
            }
            if index.is_empty() {
                self.by_key.remove(&w.namespace);
            }
        }
        Some(w)
    }
}

/// Look at the watched key now and queue what to send; true when the watch is over.
fn poll(w: &mut Watch, kvs: &Kvs, out: &mut Vec<Envelope>) -> bool {
    let obj = match kvs
        .snapshot(&w.namespace)
        .and_then(|s| s.lookup(&w.key, true))
    {
        Ok(obj) => obj,
        Err(StoreError::NotFound(_))
            if w.last.is_none() && w.flags & lookup_flags::WAITCREATE != 0 =>
        {
            return false;
        }
        Err(e) => return end_with(w, out, e.errnum(), e.to_string()),
    };
    let quiet_if_same = w.flags & (lookup_flags::WATCH_UNIQ | lookup_flags::WATCH_APPEND) != 0;
    if quiet_if_same && w.last.as_ref() == Some(&obj) {
        return false;
    }
    let value = if w.flags & lookup_flags::WATCH_APPEND != 0 {
        append_delta(w, &obj, kvs)
    } else {
        kvs.tree().read_value(&obj, &w.key)
    };
    let value = match value {
        Ok(v) => v,
        Err(e) => return end_with(w, out, e.errnum(), e.to_string()),
    };
    if w.flags & lookup_flags::WATCH_APPEND != 0 && w.last.is_some() && value.is_empty() {
        w.last = Some(obj);
        return false;
    }
    w.sent_len += value.len();
    w.last = Some(obj);
    let body = LookupResponse {
        namespace: w.namespace.clone(),
        key: w.key.clone(),
        val: match TreeObj::Val(value).to_json() {
            Ok(v) => v,
            Err(e) => return end_with(w, out, e.errnum(), e.to_string()),
        },
    };
    out.push(w.req.response_json(&body));
    if w.flags & lookup_flags::WATCH == 0 {
        // WAITCREATE alone: one value, then the end of the stream.
        if w.req.is_streaming() {
            out.push(w.req.error_response(errno::ENODATA, ""));
        }
        return true;
    }
    false
}

fn end_with(w: &Watch, out: &mut Vec<Envelope>, errnum: i32, text: String) -> bool {
    out.push(w.req.error_response(errnum, text));
    true
}

/// The bytes appended since the last response (`WATCH_APPEND`). Appends add one blob to a
/// `valref`, so usually only the new blobs are read; an overwrite is `EINVAL`.
fn append_delta(w: &Watch, obj: &TreeObj, kvs: &Kvs) -> Result<Vec<u8>, StoreError> {
    if let (Some(TreeObj::ValRef(old)), TreeObj::ValRef(new)) = (&w.last, obj)
        && new.len() >= old.len()
        && new[..old.len()] == old[..]
    {
        let mut out = Vec::new();
        for r in &new[old.len()..] {
            out.extend_from_slice(&kvs.content().load(r)?);
        }
        return Ok(out);
    }
    let full = kvs.tree().read_value(obj, &w.key)?;
    if full.len() < w.sent_len {
        return Err(StoreError::Invalid(format!(
            "{}: value was overwritten, not appended",
            w.key
        )));
    }
    Ok(full[w.sent_len..].to_vec())
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
