//! The protocol between the job manager and a scheduler module (`sched-simple`,
//! `sched-fluxion-qmanager`), in the spirit of RFC 27. Every scheduler registers the
//! `sched` service and serves:
//!
//! | topic | body | answer |
//! |---|---|---|
//! | `sched.alloc` | [`AllocRequest`] | [`AllocResponse`] once allocated; an error response with ENOSPC and a reason if it can never be satisfied, ECANCELED after `sched.cancel` |
//! | `sched.cancel` | [`JobRef`] (no response) | the pending `sched.alloc` ends with ECANCELED |
//! | `sched.prioritize` | [`Prioritize`] (no response) | pending requests are reordered |
//! | `sched.free` | [`FreeRequest`] (no response) | the job's resources are available again |
//! | `sched.feasibility` | [`Feasibility`] | `{}`, or an error (EINVAL/ENOSPC) saying why it can never run |
//! | `sched.resource-status` | `{}` | [`ResourceStatus`] |
//!
//! The job manager sends at most one `sched.alloc` per job at a time; jobs are scheduled
//! by priority (higher first), then by id (earlier first).
//!
//! A scheduler that starts while jobs run first asks `job-manager.sched-hello` for them
//! ([`hello`]) and marks their R allocated before it schedules anything; a job whose R it
//! cannot take gets a fatal `scheduler-restart` exception ([`raise_unbookable`]), as
//! flux-core's libschedutil does.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `sched.alloc`: resources for one job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllocRequest {
    pub id: u64,
    pub priority: u32,
    pub userid: u32,
    #[serde(default)]
    pub t_submit: Option<f64>,
    /// The job's jobspec (V1).
    pub jobspec: Value,
}

/// The answer to `sched.alloc`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AllocResponse {
    pub id: u64,
    /// The allocation, as R version 1.
    #[serde(rename = "R")]
    pub r: Value,
    /// Scheduler annotations (e.g. `{"sched":{"resource_summary":"rank0/core[0-1]"}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

/// `sched.cancel`: a job by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRef {
    pub id: u64,
}

/// `sched.prioritize`: new priorities of pending jobs, `[id, priority]` pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prioritize {
    pub jobs: Vec<(u64, u32)>,
}

/// `sched.free`: a job's resources come back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FreeRequest {
    pub id: u64,
    /// The R that was allocated (`null` if unknown: the scheduler uses its own record).
    #[serde(rename = "R", default)]
    pub r: Value,
}

/// `sched.feasibility`: could this jobspec ever run here?
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Feasibility {
    pub jobspec: Value,
}

/// `sched.resource-status`: the resources as the scheduler sees them (each an R).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceStatus {
    pub all: Value,
    pub allocated: Value,
    /// Ranks not usable now (drained or offline), as an idset string.
    pub down: String,
}

/// An update of `resource.acquire` (RFC 28) as a scheduler receives it: the instance's
/// resources and which ranks are up, then ranks going up or down; `Failed` ends it.
#[derive(actix::Message, Debug)]
#[rtype(result = "()")]
pub enum Acquired {
    Resources { r: Value, up: Option<String> },
    Up(String),
    Down(String),
    Failed(String),
}

#[derive(Deserialize)]
struct AcquireRsp {
    resources: Option<Value>,
    up: Option<String>,
    down: Option<String>,
}

/// Follow `resource.acquire`, handing each update to `to`.
pub fn follow_acquire(rpc: &mut super::RpcClient, to: actix::Recipient<Acquired>) {
    let mut stream = rpc.stream(
        "resource.acquire",
        flux_proto::nodeid::ANY,
        bytes::Bytes::from_static(b"{}"),
    );
    actix::spawn(async move {
        while let Some(rsp) = stream.recv().await {
            if rsp.errnum != 0 {
                to.do_send(Acquired::Failed(rsp.error_text()));
                break;
            }
            let Ok(body) = rsp.json::<AcquireRsp>() else {
                continue;
            };
            match (body.resources, body.up, body.down) {
                (Some(r), up, _) => to.do_send(Acquired::Resources { r, up }),
                (None, Some(up), _) => to.do_send(Acquired::Up(up)),
                (None, None, Some(down)) => to.do_send(Acquired::Down(down)),
                _ => {}
            }
        }
    });
}

/// RFC 27 hello: the jobs holding resources, `(id, R)`, as the job manager lists them.
/// No job manager (ENOSYS) means no running jobs; any other failure is an error, for the
/// caller to retry: scheduling over jobs it does not know of would hand out their cores.
pub fn hello(
    rpc: &super::RpcClient,
) -> impl Future<Output = Result<Vec<(u64, Value)>, String>> + use<> {
    let call = rpc.call(
        "job-manager.sched-hello",
        flux_proto::nodeid::ANY,
        bytes::Bytes::from_static(b"{}"),
    );
    async move {
        let rsp = match call.await {
            Ok(rsp) => rsp,
            Err(e) if e.errnum() == flux_proto::errno::ENOSYS => return Ok(Vec::new()),
            Err(e) => return Err(format!("job-manager.sched-hello: {e}")),
        };
        #[derive(serde::Deserialize)]
        struct Jobs {
            jobs: Vec<(u64, Value)>,
        }
        rsp.json::<Jobs>()
            .map(|j| j.jobs)
            .map_err(|e| format!("job-manager.sched-hello: {e}"))
    }
}

/// The exception type of a running job whose R a starting scheduler could not take.
pub const HELLO_EXCEPTION: &str = "scheduler-restart";

/// Raise a fatal [`HELLO_EXCEPTION`] on running job `id`: the scheduler could not mark
/// its R allocated, and must not hand those resources out under it.
pub fn raise_unbookable(rpc: &super::RpcClient, id: u64) {
    let body = serde_json::json!({
        "id": id,
        "type": HELLO_EXCEPTION,
        "severity": 0,
        "note": "failed to reallocate R for running job",
    });
    rpc.notify(
        "job-manager.raise",
        flux_proto::nodeid::ANY,
        bytes::Bytes::from(body.to_string()),
    );
}
