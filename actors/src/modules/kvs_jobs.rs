//! Reading the jobs stored in the KVS (`job.AAAA.BBBB.CCCC.DDDD`, spec/fluid.md's kvs
//! encoding), for the modules that rebuild their view of the jobs when an instance restarts
//! on the same statedir: the job manager and job-list.

use bytes::Bytes;
use flux_proto::types::JobId;
use flux_proto::types::eventlog::{self, Entry};
use flux_proto::{errno, nodeid};
use flux_store::TreeObj;
use serde_json::{Value, json};

use super::RpcClient;

const READDIR: i64 = 1;

/// How many lookups are in flight at once while reading many jobs.
const CONCURRENCY: usize = 64;

/// Look `key` up in the primary namespace; `None` if it does not exist.
async fn lookup(rpc: &RpcClient, key: &str, flags: i64) -> Result<Option<TreeObj>, String> {
    let body = json!({ "key": key, "namespace": "primary", "flags": flags });
    match rpc
        .call("kvs.lookup", nodeid::ANY, Bytes::from(body.to_string()))
        .await
    {
        Ok(rsp) => {
            let v: Value = rsp.json().map_err(|e| e.to_string())?;
            let val = v.get("val").cloned().unwrap_or(Value::Null);
            TreeObj::from_json(&val)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        Err(e) if e.errnum() == errno::ENOENT => Ok(None),
        Err(e) => Err(format!("{key}: {e}")),
    }
}

async fn names(rpc: &RpcClient, key: &str) -> Result<Vec<String>, String> {
    match lookup(rpc, key, READDIR).await? {
        Some(TreeObj::Dir(dir)) => Ok(dir.keys().cloned().collect()),
        _ => Ok(Vec::new()),
    }
}

/// The value stored at `key`; `None` if there is none (or it is a directory).
pub async fn value(rpc: &RpcClient, key: &str) -> Result<Option<Vec<u8>>, String> {
    match lookup(rpc, key, 0).await? {
        Some(TreeObj::Val(v)) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// The KVS directory of every job stored, with the problems met on the way (a directory
/// that could not be read is reported and skipped).
pub async fn job_dirs(rpc: &RpcClient) -> (Vec<(JobId, String)>, Vec<String>) {
    let mut problems = Vec::new();
    let mut dirs = vec!["job".to_string()];
    // Four levels of directories below `job`, one per 16 bits of the id.
    for _ in 0..4 {
        let mut next = Vec::new();
        for dir in &dirs {
            match names(rpc, dir).await {
                Ok(children) => next.extend(children.into_iter().map(|c| format!("{dir}.{c}"))),
                Err(e) => problems.push(e),
            }
        }
        dirs = next;
    }
    let mut jobs = Vec::with_capacity(dirs.len());
    for dir in dirs {
        match JobId::parse(&dir) {
            Ok(id) => jobs.push((id, dir)),
            Err(e) => problems.push(format!("{dir}: {e}")),
        }
    }
    jobs.sort_by_key(|(id, _)| *id);
    (jobs, problems)
}

/// One job's main eventlog; `None` for a job stored by job-ingest but never accepted.
pub async fn eventlog(rpc: &RpcClient, dir: &str) -> Result<Option<Vec<Entry>>, String> {
    let Some(log) = value(rpc, &format!("{dir}.eventlog")).await? else {
        return Ok(None);
    };
    eventlog::parse(&String::from_utf8_lossy(&log))
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The eventlog of every job stored, in id order, read with a bounded number of lookups in
/// flight, and the problems met.
pub async fn all_eventlogs(rpc: &RpcClient) -> (Vec<(JobId, Vec<Entry>)>, Vec<String>) {
    use futures::stream::{self, StreamExt};
    let (dirs, mut problems) = job_dirs(rpc).await;
    let results: Vec<_> = stream::iter(dirs)
        .map(|(id, dir)| async move { (id, eventlog(rpc, &dir).await.map_err(|e| (dir, e))) })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut jobs = Vec::with_capacity(results.len());
    for (id, result) in results {
        match result {
            Ok(Some(entries)) => jobs.push((id, entries)),
            Ok(None) => {}
            Err((dir, e)) => problems.push(format!("{dir}: {e}")),
        }
    }
    (jobs, problems)
}
