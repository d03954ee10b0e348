//! Stopping a child instance from the top down. The parent signals the broker's process
//! group when the job is cancelled or runs out of time; the broker first cancels its own
//! jobs (each nested instance doing the same in turn) and waits for them to end, then
//! passes the signal on to its initial program, whose exit shuts it down. Without this,
//! the shutdown's SIGKILL would reach nested brokers before they could stop their jobs.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use flux_proto::Handle;
use serde_json::{Value, json};

/// The signal that told this (child) instance to stop, 0 if none.
pub static STOPPED_BY: AtomicI32 = AtomicI32::new(0);

/// The signal that told this instance to stop, if one did.
pub fn stopped_by() -> Option<i32> {
    Some(STOPPED_BY.load(Ordering::Relaxed)).filter(|&s| s != 0)
}

/// How long to wait for the jobs to end: less than the parent's grace before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// The ids of the active jobs of the instance at `h`.
async fn active_jobs(h: &Handle) -> anyhow::Result<Vec<u64>> {
    let list: Value = h
        .rpc_json(
            "job-manager.list",
            &json!({ "userid": null, "active": true }),
        )
        .await?;
    Ok(list["jobs"]
        .as_array()
        .map(|jobs| jobs.iter().filter_map(|j| j["id"].as_u64()).collect())
        .unwrap_or_default())
}

/// Cancel every active job of the instance at `uri` and wait (a while) until none is left.
pub async fn stop_jobs(uri: &str) -> anyhow::Result<()> {
    let h = Handle::connect(uri).await?;
    let deadline = Instant::now() + GRACE;
    let ids = active_jobs(&h).await?;
    for id in ids {
        let body = json!({
            "id": id, "type": "cancel", "severity": 0,
            "note": "the enclosing instance is stopping",
        });
        // A job that ended meanwhile is not an error.
        let _ = h.rpc_json::<_, Value>("job-manager.raise", &body).await;
    }
    while !active_jobs(&h).await?.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
