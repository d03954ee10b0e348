//! The kvs module's core: requests in, effects out (responses now, responses once durable,
//! events). Commits are queued and applied in batches by [`KvsCore::process_commits`], so
//! that commits arriving together become one merged commit per namespace.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use flux_proto::{Envelope, MsgType};
use flux_store::{Blobref, Kvs, TreeObj, Txn};
use serde_json::json;

use super::error::{KvsError, KvsResult};
use super::watch::WatchTable;
use super::wire::*;
use super::{content, sender};

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
}

impl KvsCore {
    /// Serve `kvs`.
    pub fn new(kvs: Kvs) -> KvsCore {
        KvsCore {
            kvs,
            watches: WatchTable::default(),
            pending: Vec::new(),
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
            "kvs.namespace-create" => self.namespace_create(&msg).map(Reply::Now),
            "kvs.namespace-remove" => self.namespace_remove(&msg, out).map(Reply::Now),
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
            Err(e) => out.push(Effect::Respond(msg.error_response(e.errnum(), e.to_string()))),
        }
    }

    /// Apply every queued commit: merged per namespace (a `NO_MERGE` commit alone), each
    /// acknowledged once durable; watches fire and `kvs.namespace-NS-setroot` is published.
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

    fn commit_group(&mut self, ns: &str, group: Vec<PendingCommit>, out: &mut Vec<Effect>) {
        let (reqs, txns): (Vec<Envelope>, Vec<Txn>) =
            group.into_iter().map(|p| (p.req, p.txn)).unzip();
        let results = self.kvs.commit_batch(ns, &txns);
        let mut keys = BTreeSet::new();
        let mut last = None;
        for (req, result) in reqs.iter().zip(results) {
            match result {
                Ok(r) => {
                    let body = CommitResponse {
                        rootref: r.rootref.to_string(),
                        rootseq: r.rootseq,
                    };
                    out.push(Effect::RespondDurable(req.response_json(&body)));
                    keys.extend(r.keys);
                    last = Some((r.rootref, r.rootseq));
                }
                Err(e) => out.push(Effect::Respond(req.error_response(e.errnum(), e.to_string()))),
            }
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
        let obj = if req.flags & lookup_flags::READLINK != 0 {
            TreeObj::Symlink(snap.readlink(&req.key)?)
        } else if req.flags & lookup_flags::TREEOBJ != 0 {
            snap.lookup(&req.key, true)?
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

    fn namespace_create(&mut self, msg: &Envelope) -> KvsResult<Envelope> {
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
        Ok(msg.response_json(&json!({})))
    }

    fn namespace_remove(&mut self, msg: &Envelope, out: &mut Vec<Effect>) -> KvsResult<Envelope> {
        let req: NamespaceRequest = msg.json()?;
        owner_only(msg, "namespace-remove")?;
        self.kvs.remove_namespace(&req.namespace)?;
        for rsp in self.watches.on_namespace_removed(&req.namespace) {
            out.push(Effect::Respond(rsp));
        }
        out.push(Effect::Publish {
            topic: format!("kvs.namespace-{}-removed", req.namespace),
            payload: Bytes::from(json!({ "namespace": req.namespace }).to_string()),
        });
        Ok(msg.response_json(&json!({})))
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
        Err(KvsError::Perm(format!("{what}: only the instance owner may do this")))
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
