//! The kvs rpcs the subcommands share.

use anyhow::{Context, bail};
use flux_actors::modules::kvs::store::{Blobref, TreeObj, Txn};
use flux_actors::modules::kvs::wire::{
    CommitRequest, CommitResponse, GetrootResponse, LookupRequest, LookupResponse, NamespaceRequest,
};
use flux_proto::{Handle, RpcStream, nodeid};

/// Commit `txn` to namespace `ns`; returns the new root.
pub async fn commit(h: &Handle, ns: &str, txn: &Txn, flags: i64) -> anyhow::Result<CommitResponse> {
    let body = CommitRequest {
        namespace: ns.to_string(),
        flags,
        ops: txn.to_json()?,
    };
    Ok(h.rpc_json("kvs.commit", &body).await?)
}

/// Look `key` up; the tree object the service returns.
pub async fn lookup(
    h: &Handle,
    ns: &str,
    key: &str,
    flags: i64,
    at: Option<&TreeObj>,
) -> anyhow::Result<TreeObj> {
    let body = LookupRequest {
        key: key.to_string(),
        namespace: ns.to_string(),
        flags,
        rootdir: at.map(TreeObj::to_json).transpose()?,
    };
    let rsp: LookupResponse = h.rpc_json("kvs.lookup", &body).await?;
    Ok(TreeObj::from_json(&rsp.val)?)
}

/// The value at `key`.
pub async fn get_value(h: &Handle, ns: &str, key: &str) -> anyhow::Result<Vec<u8>> {
    value_bytes(lookup(h, ns, key, 0, None).await?, key)
}

/// The bytes of a `val` tree object (what value lookups return).
pub fn value_bytes(obj: TreeObj, key: &str) -> anyhow::Result<Vec<u8>> {
    match obj {
        TreeObj::Val(v) => Ok(v),
        other => bail!("{key}: unexpected {} object", other.type_name()),
    }
}

/// Start a `kvs-watch.lookup` stream.
pub async fn watch(h: &Handle, ns: &str, key: &str, flags: i64) -> anyhow::Result<RpcStream> {
    let body = LookupRequest {
        key: key.to_string(),
        namespace: ns.to_string(),
        flags,
        rootdir: None,
    };
    Ok(
        h.rpc_stream("kvs-watch.lookup", nodeid::ANY, serde_json::to_vec(&body)?)
            .await?,
    )
}

/// The next value of a watch stream; `None` at its end.
pub async fn next_value(stream: &mut RpcStream) -> anyhow::Result<Option<Vec<u8>>> {
    match stream.next().await {
        None => Ok(None),
        Some(rsp) => {
            let body: LookupResponse = rsp?.json()?;
            Ok(Some(value_bytes(
                TreeObj::from_json(&body.val)?,
                &body.key,
            )?))
        }
    }
}

/// The root of namespace `ns`.
pub async fn getroot(h: &Handle, ns: &str) -> anyhow::Result<GetrootResponse> {
    let body = NamespaceRequest {
        namespace: ns.to_string(),
    };
    Ok(h.rpc_json("kvs.getroot", &body).await?)
}

/// Parse a root given as a `dirref` tree object or a bare blobref (`--at`).
pub fn parse_root(text: &str) -> anyhow::Result<TreeObj> {
    if let Ok(r) = text.parse::<Blobref>() {
        return Ok(TreeObj::DirRef(r));
    }
    let v: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("invalid tree object: {text}"))?;
    match TreeObj::from_json(&v)? {
        obj @ TreeObj::DirRef(_) => Ok(obj),
        other => bail!("expected a dirref tree object, got {}", other.type_name()),
    }
}

/// Print the root after a commit as `-O` (tree object), `-b` (blobref) or `-s` (sequence)
/// ask for.
pub fn print_root(
    rsp: &CommitResponse,
    treeobj: bool,
    blobref: bool,
    seq: bool,
) -> anyhow::Result<()> {
    if treeobj {
        let r: Blobref = rsp.rootref.parse()?;
        println!("{}", TreeObj::DirRef(r));
    } else if blobref {
        println!("{}", rsp.rootref);
    } else if seq {
        println!("{}", rsp.rootseq);
    }
    Ok(())
}
