//! Finding the jobs of a previous life of the instance in the KVS (`job.<dothex>`), so an
//! instance restarted on the same statedir knows its jobs again.

use std::sync::Arc;

use bytes::Bytes;
use flux_proto::types::eventlog;
use flux_proto::types::{JobId, JobRecord, Jobspec};
use flux_proto::{errno, nodeid};
use flux_store::TreeObj;
use serde_json::{Value, json};

use super::core::NewJob;
use crate::modules::RpcClient;

const READDIR: i64 = 1;

/// Look `key` up; `None` if it does not exist.
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

async fn value(rpc: &RpcClient, key: &str) -> Result<Option<Vec<u8>>, String> {
    match lookup(rpc, key, 0).await? {
        Some(TreeObj::Val(v)) => Ok(Some(v)),
        _ => Ok(None),
    }
}

/// Every job stored in the KVS, with its replayed eventlog. Jobs whose records cannot be
/// read are reported and left out.
pub async fn load_jobs(rpc: RpcClient) -> (Vec<(NewJob, JobRecord)>, Vec<String>) {
    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    let mut dirs = vec!["job".to_string()];
    // job.AAAA.BBBB.CCCC.DDDD: four levels of directories below `job`.
    for _ in 0..4 {
        let mut next = Vec::new();
        for dir in &dirs {
            match names(&rpc, dir).await {
                Ok(children) => next.extend(children.into_iter().map(|c| format!("{dir}.{c}"))),
                Err(e) => problems.push(e),
            }
        }
        dirs = next;
    }
    for dir in dirs {
        match load_job(&rpc, &dir).await {
            Ok(Some(job)) => jobs.push(job),
            Ok(None) => {}
            Err(e) => problems.push(format!("{dir}: {e}")),
        }
    }
    jobs.sort_by_key(|(j, _)| j.id);
    (jobs, problems)
}

async fn load_job(rpc: &RpcClient, dir: &str) -> Result<Option<(NewJob, JobRecord)>, String> {
    let id = JobId::parse(dir).map_err(|e| e.to_string())?;
    let Some(log) = value(rpc, &format!("{dir}.eventlog")).await? else {
        // Stored by job-ingest but never accepted: not a job.
        return Ok(None);
    };
    let entries = eventlog::parse(&String::from_utf8_lossy(&log)).map_err(|e| e.to_string())?;
    let record = JobRecord::replay(&entries).map_err(|(i, e)| format!("event {i}: {e}"))?;
    let spec = value(rpc, &format!("{dir}.jobspec"))
        .await?
        .ok_or("no jobspec")?;
    let jobspec = Jobspec::parse(&String::from_utf8_lossy(&spec)).map_err(|e| e.to_string())?;
    let new = NewJob {
        id,
        userid: record.userid.unwrap_or(0) as u32,
        urgency: record.urgency.unwrap_or(16) as u32,
        flags: record.flags as u32,
        t_submit: record.t_submit.unwrap_or(0.0),
        jobspec: Arc::new(jobspec),
    };
    Ok(Some((new, record)))
}
