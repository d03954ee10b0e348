//! `job-ingest`: accepts submissions. Each jobspec is validated, given a FLUID id, stored
//! in the KVS (`job.<id>.jobspec`), and handed to the job manager. Submissions that arrive
//! while a KVS commit is in flight are batched into the next one, so the cost per job
//! falls as the load rises.

pub mod policy;
mod validate;

use std::time::Instant;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::{FluidGenerator, JobId};
use flux_proto::{Envelope, errno};
use flux_store::Txn;
use serde_json::{Value, json};

use super::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;
use policy::Policy;
pub use validate::{Submission, validate};

/// A validated submission waiting for its batch.
struct Pending {
    req: Envelope,
    id: JobId,
    sub: Submission,
}

/// The job-ingest module's actor.
pub struct JobIngest {
    name: String,
    probe: Probe,
    rpc: RpcClient,
    fluid: FluidGenerator,
    epoch: Instant,
    pending: Vec<Pending>,
    in_flight: bool,
    /// Submissions held until ids can be handed out (the job manager has told us the
    /// largest id of a previous life of the instance); `None` once ready.
    held: Option<Vec<Envelope>>,
    rank: u32,
    /// Queues, defaults and limits from the instance configuration.
    policy: Policy,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("job-ingest")?;
    let fluid = FluidGenerator::new(ctx.rank, 0).map_err(|e| format!("job-ingest: {e}"))?;
    let policy = Policy::from_conf(&ctx.conf).map_err(|e| format!("job-ingest: {e}"))?;
    let rpc = ctx.rpc();
    let addr = JobIngest {
        name: ctx.name,
        probe: ctx.probe,
        rpc,
        fluid,
        epoch: Instant::now(),
        pending: Vec::new(),
        in_flight: false,
        held: Some(Vec::new()),
        rank: ctx.rank,
        policy,
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// The scheduler's verdict on a submission.
#[derive(Message)]
#[rtype(result = "()")]
struct Checked {
    req: Envelope,
    sub: Submission,
    verdict: Result<(), flux_proto::Error>,
}

/// A batch's jobspecs are in the KVS (or could not be stored).
#[derive(Message)]
#[rtype(result = "()")]
struct Stored {
    batch: Vec<Pending>,
    jobs: Vec<Value>,
    error: Option<flux_proto::Error>,
}

/// The job manager took a batch (or refused it).
#[derive(Message)]
#[rtype(result = "()")]
struct Accepted {
    batch: Vec<Pending>,
    error: Option<flux_proto::Error>,
    /// Jobs the manager refused, with why (e.g. a dependency on an unknown job).
    refused: std::collections::HashMap<u64, String>,
}

impl JobIngest {
    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.rpc.respond(msg);
    }

    fn next_id(&mut self) -> JobId {
        let mut elapsed = self.epoch.elapsed().as_millis() as u64;
        loop {
            match self.fluid.next(elapsed) {
                Ok(id) => return id,
                // 1024 ids in one millisecond: take the next millisecond's.
                Err(_) => elapsed += 1,
            }
        }
    }

    fn submit(&mut self, req: Envelope, ctx: &mut Context<Self>) {
        if let Some(held) = self.held.as_mut() {
            held.push(req);
            return;
        }
        let sub = match validate(&req, &self.policy) {
            Ok(sub) => sub,
            Err((errnum, text)) => return self.reply(req.error_response(errnum, text)),
        };
        // Ask the scheduler whether the job could ever run; without one, accept it.
        let body = format!(r#"{{"jobspec":{}}}"#, sub.jobspec_json);
        let check = self.rpc.call(
            "sched.feasibility",
            flux_proto::nodeid::ANY,
            Bytes::from(body),
        );
        let me = ctx.address();
        actix::spawn(async move {
            let verdict = match check.await {
                Err(e) if e.errnum() != errno::ENOSYS => Err(e),
                _ => Ok(()),
            };
            me.do_send(Checked { req, sub, verdict });
        });
    }

    /// Commit the waiting submissions unless a commit is in flight (it will call again).
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight || self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        let mut txn = Txn::new();
        for p in &batch {
            txn.put(
                format!("{}.jobspec", p.id.to_kvs()),
                p.sub.jobspec_json.as_bytes().to_vec(),
            );
        }
        let ops = match txn.to_json() {
            Ok(ops) => ops,
            Err(e) => {
                for p in batch {
                    self.reply(
                        p.req
                            .error_response(errno::EIO, format!("cannot store jobspec: {e}")),
                    );
                }
                return;
            }
        };
        self.in_flight = true;
        let body =
            Bytes::from(json!({ "namespace": "primary", "flags": 0, "ops": ops }).to_string());
        let commit = self.rpc.call("kvs.commit", flux_proto::nodeid::ANY, body);
        let jobs: Vec<Value> = batch
            .iter()
            .map(|p| {
                json!({
                    "id": p.id.0,
                    "userid": p.sub.userid,
                    "urgency": p.sub.urgency,
                    "flags": p.sub.flags,
                    "t_submit": p.sub.t_submit,
                    "jobspec": p.sub.jobspec_json,
                })
            })
            .collect();
        let me = ctx.address();
        actix::spawn(async move {
            let error = commit.await.err();
            me.do_send(Stored { batch, jobs, error });
        });
    }
}

impl Actor for JobIngest {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let call = self.rpc.call(
            "job-manager.max-id",
            flux_proto::nodeid::ANY,
            Bytes::from_static(b"{}"),
        );
        let me = ctx.address();
        actix::spawn(async move {
            // Without a job manager there is no history to continue after.
            let max = match call.await {
                Ok(rsp) => rsp
                    .json::<Value>()
                    .ok()
                    .and_then(|v| v.get("id")?.as_u64())
                    .unwrap_or(0),
                Err(_) => 0,
            };
            me.do_send(Ready(JobId(max)));
        });
    }
}

/// Ids may be handed out, after this one.
#[derive(Message)]
#[rtype(result = "()")]
struct Ready(JobId);

impl Handler<Ready> for JobIngest {
    type Result = ();

    fn handle(&mut self, Ready(max): Ready, ctx: &mut Context<Self>) {
        if max.0 != 0
            && let Ok(fluid) = FluidGenerator::resume_after(self.rank, max)
        {
            self.fluid = fluid;
            self.epoch = Instant::now();
        }
        for req in self.held.take().unwrap_or_default() {
            self.submit(req, ctx);
        }
    }
}

impl Handler<Deliver> for JobIngest {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match msg.kind() {
            flux_proto::MsgType::Response => {
                self.rpc.on_response(msg);
            }
            _ => match msg.topic.as_str() {
                "job-ingest.submit" => self.submit(msg, ctx),
                _ if msg.is_noresponse() => {}
                _ => {
                    let rsp = handle_common(&self.name, &self.probe, &msg)
                        .unwrap_or_else(|| unknown_method(&msg));
                    self.reply(rsp);
                }
            },
        }
    }
}

impl Handler<Checked> for JobIngest {
    type Result = ();

    fn handle(&mut self, Checked { req, sub, verdict }: Checked, ctx: &mut Context<Self>) {
        match verdict {
            Ok(()) => {
                let id = self.next_id();
                self.pending.push(Pending { req, id, sub });
                self.flush(ctx);
            }
            Err(e) => {
                // sched-simple says what kind of refusal it is; Fluxion may not.
                let text = e.to_string();
                let text =
                    match text.starts_with("unsatisfiable") || text.starts_with("unsupported") {
                        true => text,
                        false => format!("unsatisfiable request: {text}"),
                    };
                self.reply(req.error_response(e.errnum(), text))
            }
        }
    }
}

impl Handler<Stored> for JobIngest {
    type Result = ();

    fn handle(&mut self, Stored { batch, jobs, error }: Stored, ctx: &mut Context<Self>) {
        // The next batch may go to the KVS while this one goes to the job manager; the
        // manager still gets batches in id order, since they leave from here in order.
        self.in_flight = false;
        self.flush(ctx);
        if let Some(error) = error {
            return ctx.notify(Accepted {
                batch,
                error: Some(error),
                refused: Default::default(),
            });
        }
        let body = Bytes::from(json!({ "jobs": jobs }).to_string());
        let call = self
            .rpc
            .call("job-manager.submit", flux_proto::nodeid::ANY, body);
        let me = ctx.address();
        actix::spawn(async move {
            let (error, refused) = match call.await {
                Ok(rsp) => (None, refused_jobs(&rsp)),
                Err(e) => (Some(e), Default::default()),
            };
            me.do_send(Accepted {
                batch,
                error,
                refused,
            });
        });
    }
}

/// The `errors` of a `job-manager.submit` response: `[{id, error}]`.
fn refused_jobs(rsp: &Envelope) -> std::collections::HashMap<u64, String> {
    let body: Value = rsp.json().unwrap_or_default();
    body.get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| {
                    Some((
                        e.get("id")?.as_u64()?,
                        e.get("error")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Handler<Accepted> for JobIngest {
    type Result = ();

    fn handle(
        &mut self,
        Accepted {
            batch,
            error,
            refused,
        }: Accepted,
        _: &mut Context<Self>,
    ) {
        for p in batch {
            let rsp = match (&error, refused.get(&p.id.0)) {
                (Some(e), _) => p.req.error_response(e.errnum(), e.to_string()),
                (None, Some(why)) => p.req.error_response(errno::EINVAL, why.clone()),
                (None, None) => p.req.response_json(&json!({ "id": p.id.0 })),
            };
            self.reply(rsp);
        }
    }
}

impl Handler<Stop> for JobIngest {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.rpc.cancel_all();
        ctx.stop();
    }
}
