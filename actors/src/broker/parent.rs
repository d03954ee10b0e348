//! The enclosing instance of a broker started as a job of another instance (`flux batch`,
//! `flux alloc`): where it is (`parent-uri`), which job we are there (`jobid`), and the few
//! requests a child makes to it: the job's R and jobspec, and publishing the child's URI
//! under the job's KVS directory (`job.<id>.guest.uri`) so `flux proxy` and `flux pstree`
//! can find the child from the parent.

use flux_proto::Handle;
use flux_proto::types::{IdSet, JobId, ResourceSet};
use serde_json::Value;

use super::attrs::Attrs;
use crate::modules::kvs::store::{TreeObj, Txn};
use crate::modules::kvs::wire::{CommitRequest, LookupRequest, LookupResponse};

/// The KVS key, under the job's directory, where a child instance publishes its URI.
pub const URI_KEY: &str = "guest.uri";

/// Why the parent instance could not tell us something.
#[derive(Debug, thiserror::Error)]
pub enum ParentError {
    #[error("cannot reach the parent instance at {uri}: {source}")]
    Connect {
        uri: String,
        source: flux_proto::Error,
    },
    #[error("parent instance: {what}: {source}")]
    Rpc {
        what: String,
        source: flux_proto::Error,
    },
    #[error("parent instance: {0}")]
    Invalid(String),
}

/// This instance's job in its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentJob {
    /// The parent's `local://` URI (its broker on our node).
    pub uri: String,
    pub jobid: JobId,
}

impl ParentJob {
    /// From the `parent-uri` and `jobid` attributes; `None` for a top-level instance.
    pub fn from_attrs(attrs: &Attrs) -> Option<Result<ParentJob, ParentError>> {
        let uri = attrs.get("parent-uri").ok()?;
        let jobid = attrs.get("jobid").ok()?;
        Some(Self::new(uri, jobid))
    }

    /// From a URI and a job id in any encoding.
    pub fn new(uri: &str, jobid: &str) -> Result<ParentJob, ParentError> {
        let jobid = jobid
            .parse()
            .map_err(|e| ParentError::Invalid(format!("invalid job id '{jobid}': {e}")))?;
        Ok(ParentJob {
            uri: uri.to_string(),
            jobid,
        })
    }

    /// Connect to the parent.
    pub async fn connect(&self) -> Result<Handle, ParentError> {
        Handle::connect(&self.uri)
            .await
            .map_err(|source| ParentError::Connect {
                uri: self.uri.clone(),
                source,
            })
    }

    /// The value of `key` under the job's KVS directory (`R`, `jobspec`, ...).
    pub async fn lookup(&self, h: &Handle, key: &str) -> Result<Vec<u8>, ParentError> {
        let key = self.jobid.kvs_key(key);
        let body = LookupRequest {
            key: key.clone(),
            namespace: "primary".into(),
            flags: 0,
            rootdir: None,
        };
        let rpc_err = |source| ParentError::Rpc {
            what: key.clone(),
            source,
        };
        let rsp: LookupResponse = h.rpc_json("kvs.lookup", &body).await.map_err(rpc_err)?;
        match TreeObj::from_json(&rsp.val) {
            Ok(TreeObj::Val(v)) => Ok(v),
            Ok(other) => Err(ParentError::Invalid(format!(
                "{key}: unexpected {} object",
                other.type_name()
            ))),
            Err(e) => Err(ParentError::Invalid(format!("{key}: {e}"))),
        }
    }

    /// The job's R.
    pub async fn r(&self, h: &Handle) -> Result<ResourceSet, ParentError> {
        let bytes = self.lookup(h, "R").await?;
        let text = String::from_utf8_lossy(&bytes);
        ResourceSet::parse(&text)
            .map_err(|e| ParentError::Invalid(format!("job {} R: {e}", self.jobid.to_f58())))
    }

    /// The job's jobspec, as JSON.
    pub async fn jobspec(&self, h: &Handle) -> Result<Value, ParentError> {
        let bytes = self.lookup(h, "jobspec").await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ParentError::Invalid(format!("job {} jobspec: {e}", self.jobid.to_f58())))
    }

    /// The parent's `instance-level`.
    pub async fn level(&self, h: &Handle) -> Result<u32, ParentError> {
        let level = h
            .attr_get("instance-level")
            .await
            .map_err(|source| ParentError::Rpc {
                what: "instance-level".into(),
                source,
            })?;
        level
            .parse()
            .map_err(|_| ParentError::Invalid(format!("invalid instance-level '{level}'")))
    }

    /// Publish the child's URI under the job's directory.
    pub async fn publish_uri(&self, h: &Handle, uri: &str) -> Result<(), ParentError> {
        let key = self.jobid.kvs_key(URI_KEY);
        let mut txn = Txn::new();
        txn.put(key.clone(), uri.as_bytes().to_vec());
        let ops = txn
            .to_json()
            .map_err(|e| ParentError::Invalid(format!("{key}: {e}")))?;
        let body = CommitRequest {
            namespace: "primary".into(),
            flags: 0,
            ops,
        };
        h.rpc_json::<_, Value>("kvs.commit", &body)
            .await
            .map_err(|source| ParentError::Rpc { what: key, source })?;
        Ok(())
    }
}

/// The node of the job's `r` that child rank `rank` runs on: the `rank`-th node in rank
/// order (the job shell starts one broker per node, in rank order), renumbered `rank`.
pub fn node_for_rank(r: &ResourceSet, rank: u32) -> Result<ResourceSet, ParentError> {
    let node = r.reranked().copy_ranks(&IdSet::from_range(rank, rank));
    if node.is_empty() {
        return Err(ParentError::Invalid(format!(
            "the job's R has {} node(s): none for rank {rank}",
            r.nnodes()
        )));
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r_of(ranks: &[(u32, &str)]) -> ResourceSet {
        let mut r = ResourceSet::new();
        for (rank, cores) in ranks {
            let node = flux_proto::types::r::Node::new(
                *rank,
                Some(format!("host{rank}")),
                IdSet::parse(cores).unwrap(),
                IdSet::new(),
            );
            r.insert_node(node).unwrap();
        }
        r
    }

    #[test]
    fn each_rank_takes_its_node_renumbered() {
        let r = r_of(&[(3, "2-3"), (5, "0")]);
        let zero = node_for_rank(&r, 0).unwrap();
        assert_eq!(zero.ranks(), IdSet::from_range(0, 0));
        assert_eq!(zero.ncores(), 2);
        assert_eq!(zero.hostname(0), Some("host3"));
        let one = node_for_rank(&r, 1).unwrap();
        assert_eq!(one.ranks(), IdSet::from_range(1, 1));
        assert_eq!(one.ncores(), 1);
        assert!(node_for_rank(&r, 2).is_err());
    }

    #[test]
    fn attrs_name_the_parent() {
        let mut attrs = Attrs::default();
        assert!(ParentJob::from_attrs(&attrs).is_none());
        attrs.set_default("parent-uri", "local:///tmp/x/local-0");
        attrs.set_default("jobid", "ƒ2");
        let p = ParentJob::from_attrs(&attrs).unwrap().unwrap();
        assert_eq!(p.jobid, JobId(1));
        attrs.set_default("jobid", "bogus!");
        assert!(ParentJob::from_attrs(&attrs).unwrap().is_err());
    }
}
