//! The kvs module's core: requests in, effects out (responses now, responses once durable,
//! events). Commits are queued and applied in batches by [`KvsCore::process_commits`], so
//! that commits arriving together become one merged commit per namespace.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use flux_proto::{Envelope, MsgType};
use flux_store::{Blobref, CommitResult, Journal, Kvs, TreeObj, Txn};
use serde_json::json;

use super::error::{KvsError, KvsResult};
use super::watch::WatchTable;
use super::wire::*;
use super::{content, journal, sender};

/// What the actor must do after the core handled something.
#[derive(Debug)]
pub enum Effect {
    /// Send this response now.
    Respond(Envelope),
    /// Send this response once everything written so far is flushed to disk.
    RespondDurable(Envelope),
    /// Publish a private event.
    Publish {
        /// Event topic.
        topic: String,
        /// JSON payload.
        payload: Bytes,
    },
}

/// A handler's answer.
pub enum Reply {
    /// Respond now.
    Now(Envelope),
    /// Respond after the next flush.
    Durable(Envelope),
    /// Responses come later (queued commit, watch) or never (no-response requests).
    Later,
}

struct PendingCommit {
    req: Envelope,
    namespace: String,
    flags: i64,
    txn: Txn,
}

/// The KVS, its watches and the commits waiting for the next batch.
pub struct KvsCore {
    kvs: Kvs,
    watches: WatchTable,
    pending: Vec<PendingCommit>,
    /// Changes are acknowledged once journaled; without a journal, once flushed.
    journal: Option<Journal>,
    /// Acknowledge every change only once flushed, as if all asked for `SYNC`.
    always_sync: bool,
}

impl KvsCore {
    /// Serve `kvs`; every change is acknowledged after a flush.
    pub fn new(kvs: Kvs) -> KvsCore {
        KvsCore {
            kvs,
            watches: WatchTable::default(),
            pending: Vec::new(),
            journal: None,
            always_sync: false,
        }
    }

    /// Serve `kvs`, acknowledging changes once written to `journal` (flushed first if
    /// `always_sync`, or for commits with the `SYNC` flag).
    pub fn with_journal(kvs: Kvs, journal: Journal, always_sync: bool) -> KvsCore {
        KvsCore {
            journal: Some(journal),
            always_sync,
            ..KvsCore::new(kvs)
        }
    }

    /// Bytes in the journal's current generation (what a flush would let go).
    pub fn journal_bytes(&self) -> u64 {
        self.journal.as_ref().map_or(0, Journal::written)
    }

    /// Before a flush: start a new journal generation; the older ones may go once the flush
    /// completes ([`KvsCore::journal_flushed`]).
    pub fn rotate_journal(&mut self) -> Option<u64> {
        self.journal.as_mut().and_then(|j| j.rotate().ok())
    }

    /// A flush covering the generations before `generation` completed.
    pub fn journal_flushed(&self, generation: u64) -> KvsResult<()> {
        if let Some(j) = &self.journal {
            j.remove_before(generation)?;
        }
        Ok(())
    }

    /// Journal a change; false if there is no journal or it failed (the acknowledgement
    /// must then wait for a flush).
    fn journal(&mut self, record: impl FnOnce() -> Vec<u8>) -> bool {
        match &mut self.journal {
            Some(j) => j.append(&record()).is_ok(),
            None => false,
        }
    }

    /// The effect acknowledging a change: now if journaled, else after the next flush.
    fn ack(&self, rsp: Envelope, journaled: bool, sync: bool) -> Effect {
        if journaled && !sync && !self.always_sync {
            Effect::Respond(rsp)
        } else {
            Effect::RespondDurable(rsp)
        }
    }

    /// The KVS served.
    pub fn kvs(&self) -> &Kvs {
        &self.kvs
    }

    /// Whether commits wait for [`KvsCore::process_commits`].
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Number of active watches.
    pub fn watch_count(&self) -> usize {
        self.watches.len()
    }

    /// Handle one request of the `kvs`, `kvs-watch` or `content` services.
    pub fn handle(&mut self, msg: Envelope, out: &mut Vec<Effect>) {
        if msg.kind() != MsgType::Request {
            return;
        }
        let reply = match msg.topic.as_str() {
            "kvs.commit" => self.queue_commit(&msg),
            "kvs.lookup" => self.lookup(&msg).map(Reply::Now),
            "kvs.getroot" => self.getroot(&msg).map(Reply::Now),
            "kvs.namespace-create" => self.namespace_create(&msg, out),
            "kvs.namespace-remove" => self.namespace_remove(&msg, out),
            "kvs.namespace-list" => Ok(Reply::Now(self.namespace_list(&msg))),
            "kvs.dropcache" => {
                self.kvs.tree().drop_cache();
                Ok(Reply::Now(msg.response_json(&json!({}))))
            }
            "kvs-watch.lookup" => self.watch(&msg, out),
            "kvs-watch.cancel" => self.cancel(&msg, out),
            "kvs.disconnect" | "kvs-watch.disconnect" | "content.disconnect" => {
                self.watches.disconnect(sender(&msg));
                Ok(Reply::Later)
            }
            t if t.starts_with("content.") => content::handle(&self.kvs, &msg),
            _ => Err(KvsError::NoMethod(msg.topic.clone())),
        };
        match reply {
            _ if msg.is_noresponse() => {}
            Ok(Reply::Now(rsp)) => out.push(Effect::Respond(rsp)),
            Ok(Reply::Durable(rsp)) => out.push(Effect::RespondDurable(rsp)),
            Ok(Reply::Later) => {}
            Err(e) => out.push(Effect::Respond(
                msg.error_response(e.errnum(), e.to_string()),
            )),
        }
    }

    /// Apply every queued commit: merged per namespace (a `NO_MERGE` commit alone), each
    /// acknowledged once journaled (or flushed, see [`KvsCore::with_journal`]); watches
    /// fire and `kvs.namespace-NS-setroot` is published.
    pub fn process_commits(&mut self, out: &mut Vec<Effect>) {
        let mut groups: Vec<(String, Vec<PendingCommit>)> = Vec::new();
        let mut open: HashMap<String, usize> = HashMap::new();
        for p in std::mem::take(&mut self.pending) {
            let alone = p.flags & commit_flags::NO_MERGE != 0;
            match open.get(&p.namespace) {
                Some(&i) if !alone => groups[i].1.push(p),
                _ => {
                    if !alone {
                        open.insert(p.namespace.clone(), groups.len());
                    }
                    groups.push((p.namespace.clone(), vec![p]));
                }
            }
        }
        for (ns, group) in groups {
            self.commit_group(&ns, group, out);
        }
    }

    fn commit_group(&mut self, ns: &str, mut group: Vec<PendingCommit>, out: &mut Vec<Effect>) {
        let txns: Vec<Txn> = group
            .iter_mut()
            .map(|p| std::mem::take(&mut p.txn))
            .collect();
        // The commits made, each with the members of `group` it includes.
        let mut made: Vec<(Vec<usize>, CommitResult)> = Vec::new();
        match self.kvs.commit_merged(ns, &txns) {
            Ok(r) => made.push(((0..group.len()).collect(), r)),
            // Merged, the group failed: retry each alone so only the faulty ones fail.
            Err(_) if group.len() > 1 => {
                for (i, txn) in txns.iter().enumerate() {
                    match self.kvs.commit(ns, txn) {
                        Ok(r) => made.push((vec![i], r)),
                        Err(e) => out.push(Effect::Respond(
                            group[i].req.error_response(e.errnum(), e.to_string()),
                        )),
                    }
                }
            }
            Err(e) => out.push(Effect::Respond(
                group[0].req.error_response(e.errnum(), e.to_string()),
            )),
        }
        let mut keys = BTreeSet::new();
        let mut last = None;
        for (members, r) in made {
            self.acknowledge(ns, &group, &members, &r, out);
            keys.extend(r.keys);
            last = Some((r.rootref, r.rootseq));
        }
        let Some((rootref, rootseq)) = last else {
            return;
        };
        for rsp in self.watches.on_commit(ns, &keys, &self.kvs) {
            out.push(Effect::Respond(rsp));
        }
        let owner = self.kvs.namespace(ns).map(|n| n.owner).unwrap_or_default();
        let payload = json!({
            "namespace": ns, "rootseq": rootseq, "rootref": rootref.to_string(),
            "names": [], "keys": keys, "owner": owner,
        });
        out.push(Effect::Publish {
            topic: format!("kvs.namespace-{ns}-setroot"),
            payload: Bytes::from(payload.to_string()),
        });
    }

    /// Journal commit `r` and acknowledge the members of `group` it includes.
    fn acknowledge(
        &mut self,
        ns: &str,
        group: &[PendingCommit],
        members: &[usize],
        r: &CommitResult,
        out: &mut Vec<Effect>,
    ) {
        let payloads: Vec<&Bytes> = members.iter().map(|&i| &group[i].req.payload).collect();
        let journaled = self.journal(|| journal::commit_record(ns, r.rootseq, &payloads));
        let body = CommitResponse {
            rootref: r.rootref.to_string(),
            rootseq: r.rootseq,
        };
        for &i in members {
            let p = &group[i];
            let sync = p.flags & commit_flags::SYNC != 0;
            out.push(self.ack(p.req.response_json(&body), journaled, sync));
        }
    }

    fn check_ns(&self, ns: &str, msg: &Envelope) -> KvsResult<()> {
        Ok(self
            .kvs
            .namespace(ns)?
            .check_access(ns, msg.userid, msg.is_owner())?)
    }

    fn queue_commit(&mut self, msg: &Envelope) -> KvsResult<Reply> {
        let req: CommitRequest = msg.json()?;
        self.check_ns(&req.namespace, msg)?;
        let txn = Txn::from_json(&req.ops)?;
        self.pending.push(PendingCommit {
            req: msg.clone(),
            namespace: req.namespace,
            flags: req.flags,
            txn,
        });
        Ok(Reply::Later)
    }

    fn lookup(&self, msg: &Envelope) -> KvsResult<Envelope> {
        let req: LookupRequest = msg.json()?;
        self.check_ns(&req.namespace, msg)?;
        let snap = match &req.rootdir {
            Some(v) => match TreeObj::from_json(v)? {
                TreeObj::DirRef(r) => self.kvs.at(r),
                _ => return Err(KvsError::Proto("rootdir must be a dirref".into())),
            },
            None => self.kvs.snapshot(&req.namespace)?,
        };
        let obj = if req.flags & lookup_flags::TREEOBJ != 0 {
            // With READLINK, a final symlink is returned rather than followed.
            snap.lookup(&req.key, req.flags & lookup_flags::READLINK == 0)?
        } else if req.flags & lookup_flags::READLINK != 0 {
            TreeObj::Symlink(snap.readlink(&req.key)?)
        } else if req.flags & lookup_flags::READDIR != 0 {
            TreeObj::Dir((*snap.get_dir(&req.key)?).clone())
        } else {
            TreeObj::Val(snap.get(&req.key)?)
        };
        Ok(msg.response_json(&LookupResponse {
            namespace: req.namespace,
            key: req.key,
            val: obj.to_json()?,
        }))
    }

    fn getroot(&self, msg: &Envelope) -> KvsResult<Envelope> {
        let req: NamespaceRequest = msg.json()?;
        self.check_ns(&req.namespace, msg)?;
        let ns = self.kvs.namespace(&req.namespace)?;
        Ok(msg.response_json(&GetrootResponse {
            namespace: req.namespace.clone(),
            rootref: ns.rootref.to_string(),
            rootseq: ns.rootseq,
            owner: ns.owner,
            flags: ns.flags,
        }))
    }

    fn namespace_create(&mut self, msg: &Envelope, out: &mut Vec<Effect>) -> KvsResult<Reply> {
        let req: NamespaceCreate = msg.json()?;
        owner_only(msg, "namespace-create")?;
        let rootref = match &req.rootref {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.parse::<Blobref>()?),
            Some(v) => match TreeObj::from_json(v)? {
                TreeObj::DirRef(r) => Some(r),
                _ => return Err(KvsError::Proto("rootref must be a dirref".into())),
            },
        };
        let owner = req.owner.unwrap_or(msg.userid);
        self.kvs.create_namespace(&req.namespace, owner, rootref)?;
        let journaled = self.journal(|| journal::create_record(&req.namespace, owner, rootref));
        out.push(self.ack(msg.response_json(&json!({})), journaled, false));
        Ok(Reply::Later)
    }

    fn namespace_remove(&mut self, msg: &Envelope, out: &mut Vec<Effect>) -> KvsResult<Reply> {
        let req: NamespaceRequest = msg.json()?;
        owner_only(msg, "namespace-remove")?;
        self.kvs.remove_namespace(&req.namespace)?;
        let journaled = self.journal(|| journal::remove_record(&req.namespace));
        for rsp in self.watches.on_namespace_removed(&req.namespace) {
            out.push(Effect::Respond(rsp));
        }
        out.push(Effect::Publish {
            topic: format!("kvs.namespace-{}-removed", req.namespace),
            payload: Bytes::from(json!({ "namespace": req.namespace }).to_string()),
        });
        out.push(self.ack(msg.response_json(&json!({})), journaled, false));
        Ok(Reply::Later)
    }

    fn namespace_list(&self, msg: &Envelope) -> Envelope {
        let namespaces = self
            .kvs
            .namespaces()
            .filter(|(name, ns)| ns.check_access(name, msg.userid, msg.is_owner()).is_ok())
            .map(|(name, ns)| NamespaceInfo {
                namespace: name.to_string(),
                owner: ns.owner,
                flags: ns.flags,
            })
            .collect();
        msg.response_json(&NamespaceList { namespaces })
    }

    fn watch(&mut self, msg: &Envelope, out: &mut Vec<Effect>) -> KvsResult<Reply> {
        let req: LookupRequest = msg.json()?;
        if req.flags & lookup_flags::WATCH != 0 && !msg.is_streaming() {
            return Err(KvsError::Proto("WATCH needs a streaming request".into()));
        }
        self.check_ns(&req.namespace, msg)?;
        let rsps = self
            .watches
            .add(msg.clone(), &req.namespace, &req.key, req.flags, &self.kvs)?;
        out.extend(rsps.into_iter().map(Effect::Respond));
        Ok(Reply::Later)
    }

    fn cancel(&mut self, msg: &Envelope, out: &mut Vec<Effect>) -> KvsResult<Reply> {
        let req: CancelRequest = msg.json()?;
        if let Some(rsp) = self.watches.cancel(sender(msg), req.matchtag) {
            out.push(Effect::Respond(rsp));
        }
        Ok(Reply::Later)
    }
}

fn owner_only(msg: &Envelope, what: &str) -> KvsResult<()> {
    if msg.is_owner() {
        Ok(())
    } else {
        Err(KvsError::Perm(format!(
            "{what}: only the instance owner may do this"
        )))
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
