//! Finding the jobs of a previous life of the instance in the KVS (`job.<dothex>`), so an
//! instance restarted on the same statedir knows its jobs again.

use std::sync::Arc;

use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, JobRecord, Jobspec};

use super::core::NewJob;
use crate::modules::RpcClient;
use crate::modules::kvs_jobs;

/// Every job stored in the KVS, with its replayed eventlog. Jobs whose records cannot be
/// read are reported and left out.
pub async fn load_jobs(rpc: RpcClient) -> (Vec<(NewJob, JobRecord)>, Vec<String>) {
    let (logs, mut problems) = kvs_jobs::all_eventlogs(&rpc).await;
    let mut jobs = Vec::with_capacity(logs.len());
    for (id, entries) in logs {
        match load_job(&rpc, id, &entries).await {
            Ok(job) => jobs.push(job),
            Err(e) => problems.push(format!("{}: {e}", id.to_kvs())),
        }
    }
    (jobs, problems)
}

async fn load_job(
    rpc: &RpcClient,
    id: JobId,
    entries: &[Entry],
) -> Result<(NewJob, JobRecord), String> {
    let record = JobRecord::replay(entries).map_err(|(i, e)| format!("event {i}: {e}"))?;
    let spec = kvs_jobs::value(rpc, &id.kvs_key("jobspec"))
        .await?
        .ok_or("no jobspec")?;
    let jobspec =
        Jobspec::parse_validated(&String::from_utf8_lossy(&spec)).map_err(|e| e.to_string())?;
    let new = NewJob {
        id,
        userid: record.userid.unwrap_or(0) as u32,
        urgency: record.urgency.unwrap_or(16) as u32,
        flags: record.flags as u32,
        t_submit: record.t_submit.unwrap_or(0.0),
        jobspec: Arc::new(jobspec),
    };
    Ok((new, record))
}
