//! One round of gathering from every rank over the overlay: each broker's tree view
//! (`overlay.status`) and its actors and new trace entries (`broker.trace`), plus the job
//! counts and queue (`job-list`). Used by the dashboard and by `flux top` / `flux trace`.

use std::collections::HashMap;
use std::time::Duration;

use flux_proto::{Handle, nodeid};
use futures::future::join_all;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::tracer::{ActorStats, TraceEntry, TraceFilter};

/// How long a rank may take to answer before it counts as unreachable.
const RPC_TIMEOUT: Duration = Duration::from_secs(3);
/// Pending jobs listed in the queue view, at most.
const QUEUE_LEN: usize = 50;

/// What one broker said (or that it did not answer).
#[derive(Debug, Clone, Default)]
pub struct RankReport {
    pub rank: u32,
    /// `overlay.status` of this rank; `None` if unreachable.
    pub overlay: Option<Value>,
    pub trace: Option<TraceReply>,
    pub error: Option<String>,
}

/// The answer to `broker.trace`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TraceReply {
    pub rank: u32,
    pub state: String,
    pub cursor: u64,
    #[serde(default)]
    pub sample: u32,
    pub entries: Vec<TraceEntry>,
    pub actors: Vec<ActorStats>,
}

/// One gathering round.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub size: u32,
    pub ranks: Vec<RankReport>,
    /// `job-list.stats`, if job-list answered.
    pub job_stats: Option<Value>,
    /// Pending jobs (oldest first).
    pub queue: Vec<Value>,
}

async fn with_timeout<T>(f: impl Future<Output = flux_proto::Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(RPC_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// The instance size (rank 0's `size` attribute).
pub async fn instance_size(h: &Handle) -> Result<u32, String> {
    let size = with_timeout(h.attr_get("size")).await?;
    size.parse()
        .map_err(|_| format!("invalid size attribute '{size}'"))
}

/// Ask one rank for its actors and its trace entries after `cursors[rank]`.
pub async fn trace_of(
    h: &Handle,
    rank: u32,
    cursors: &HashMap<u32, u64>,
    filter: &TraceFilter,
) -> Result<TraceReply, String> {
    let mut f = filter.clone();
    f.since = cursors.get(&rank).copied().unwrap_or(0);
    with_timeout(h.rpc_json_to::<_, TraceReply>("broker.trace", rank, &f)).await
}

/// Every rank's trace entries after the cursors (merged in time order); the cursors move.
pub async fn trace_all(
    h: &Handle,
    size: u32,
    cursors: &mut HashMap<u32, u64>,
    filter: &TraceFilter,
) -> TraceRound {
    let replies = join_all((0..size).map(|rank| {
        let cursors = &*cursors;
        async move { (rank, trace_of(h, rank, cursors, filter).await) }
    }))
    .await;
    let mut round = TraceRound::default();
    for (rank, reply) in replies {
        match reply {
            Ok(reply) => {
                if reply.sample == 0 {
                    round.untraced.push(rank);
                }
                cursors.insert(rank, reply.cursor);
                round.entries.extend(reply.entries);
            }
            Err(e) => round.failed.push((rank, e)),
        }
    }
    round.entries.sort_by(|a, b| a.time.total_cmp(&b.time));
    round
}

/// What [`trace_all`] found: the entries in time order, and the ranks it could not read
/// or that trace nothing (`tracer.sample=0`).
#[derive(Debug, Default)]
pub struct TraceRound {
    pub entries: Vec<TraceEntry>,
    pub untraced: Vec<u32>,
    pub failed: Vec<(u32, String)>,
}

/// Ask every rank for its state, actors and trace entries after `cursors[rank]` (filtered
/// by `filter`'s topic and job), and job-list for the jobs, all at once.
pub async fn gather(h: &Handle, cursors: &HashMap<u32, u64>, filter: &TraceFilter) -> Round {
    let size = instance_size(h).await.unwrap_or(1);
    let empty = json!({});
    let list = json!({
        "max_entries": QUEUE_LEN,
        "userid": "all",
        "states": 0x0e,
        "results": 0,
        "attrs": ["name", "state", "priority", "t_submit"],
    });
    let ranks = join_all((0..size).map(|rank| {
        let empty = &empty;
        async move {
            let overlay = with_timeout(h.rpc_json_to::<_, Value>("overlay.status", rank, empty));
            let trace = trace_of(h, rank, cursors, filter);
            let (overlay, trace) = futures::join!(overlay, trace);
            let error = overlay.as_ref().err().or(trace.as_ref().err()).cloned();
            RankReport {
                rank,
                overlay: overlay.ok(),
                trace: trace.ok(),
                error,
            }
        }
    }))
    .await;
    let stats = with_timeout(h.rpc_json_to::<_, Value>("job-list.stats", nodeid::ANY, &empty));
    let queue = with_timeout(h.rpc_json_to::<_, Value>("job-list.list", nodeid::ANY, &list));
    let (stats, queue) = futures::join!(stats, queue);
    let mut queue: Vec<Value> = queue
        .ok()
        .and_then(|v| v["jobs"].as_array().cloned())
        .unwrap_or_default();
    queue.reverse();
    Round {
        size,
        ranks,
        job_stats: stats.ok(),
        queue,
    }
}
