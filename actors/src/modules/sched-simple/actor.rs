//! The sched-simple actor: serves the `sched` service (modules/sched_protocol.rs) with a
//! first-come-first-served queue over the resource [`Pool`], which it fills from the
//! resource module (`resource.acquire`, RFC 28).

use actix::prelude::*;
use flux_proto::types::{IdSet, Jobspec, ResourceSet};
use flux_proto::{Envelope, MsgType, errno};
use serde_json::{Value, json};

use super::pool::{Pool, Request as PoolRequest, now};
use super::queue::AllocQueue;
use crate::broker::Broker;
use crate::modules::sched_protocol::{
    Acquired, AllocRequest, AllocResponse, Feasibility, FreeRequest, JobRef, Prioritize,
    ResourceStatus, follow_acquire, hello, raise_unbookable,
};
use crate::modules::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;

/// A queued `sched.alloc`.
struct Pending {
    req: Envelope,
    /// What the jobspec asks for, read once at `sched.alloc` (the head of the queue is
    /// tried again on every event).
    request: PoolRequest,
}

/// The sched-simple module's actor.
pub struct SchedSimple {
    name: String,
    broker: Addr<Broker>,
    probe: Probe,
    rpc: RpcClient,
    /// `None` until the resource module has answered.
    pool: Option<Pool>,
    queue: AllocQueue<Pending>,
    /// `sched.feasibility` requests waiting for the first resources.
    waiting_feasibility: Vec<Envelope>,
    /// `resource.acquire` failed and is being retried.
    acquire_failed: bool,
    /// The running jobs' resources are claimed (RFC 27 hello): scheduling may begin.
    hello_done: bool,
    /// Allocations by job id (to free by id when R is not given back).
    allocated: std::collections::HashMap<u64, ResourceSet>,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("sched-simple")?;
    let addr = SchedSimple {
        rpc: ctx.rpc(),
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        pool: None,
        queue: AllocQueue::default(),
        allocated: Default::default(),
        acquire_failed: false,
        hello_done: false,
        waiting_feasibility: Vec::new(),
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// The allocations of jobs already running when this scheduler started (RFC 27 hello).
#[derive(Message)]
#[rtype(result = "()")]
struct Running(Result<Vec<(u64, Value)>, String>);

fn invalid(msg: &Envelope, e: impl std::fmt::Display) -> Envelope {
    msg.error_response(errno::EPROTO, format!("malformed request: {e}"))
}

impl SchedSimple {
    fn log(&self, msg: String) {
        self.broker.do_send(crate::msg::Log {
            severity: 4,
            appname: self.name.clone(),
            msg,
        });
    }

    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.rpc.respond(msg);
    }

    fn acquire(&mut self, ctx: &mut Context<Self>) {
        follow_acquire(&mut self.rpc, ctx.address().recipient());
    }

    /// Ask the job manager which jobs hold resources already (RFC 27 hello), so that a
    /// scheduler loaded while jobs run does not hand their resources out again.
    fn hello(&mut self, ctx: &mut Context<Self>) {
        self.hello_done = false;
        let jobs = hello(&self.rpc);
        let me = ctx.address();
        actix::spawn(async move { me.do_send(Running(jobs.await)) });
    }

    /// Allocate from the head of the queue until one does not fit (first come, first served).
    fn schedule(&mut self) {
        let Some(pool) = self.pool.as_mut().filter(|_| self.hello_done) else {
            return;
        };
        let mut replies = Vec::new();
        while let Some((id, pending)) = self.queue.first() {
            match pool.alloc_request(&pending.request, now()) {
                Ok(Some(r)) => {
                    let Some(pending) = self.queue.remove(id) else {
                        break;
                    };
                    let body = AllocResponse {
                        id,
                        r: r.to_value(),
                        annotations: None,
                    };
                    replies.push(pending.req.response_json(&body));
                    self.allocated.insert(id, r);
                }
                Ok(None) => break,
                Err(reason) => {
                    if let Some(pending) = self.queue.remove(id) {
                        replies.push(
                            pending
                                .req
                                .error_response(errno::ENOSPC, reason.to_string()),
                        );
                    }
                }
            }
        }
        for rsp in replies {
            self.reply(rsp);
        }
    }

    fn handle_request(&mut self, msg: Envelope) {
        match msg.topic.as_str() {
            "sched.alloc" => match msg.json::<AllocRequest>() {
                Ok(req) => match Jobspec::from_validated_value(req.jobspec) {
                    Ok(jobspec) => match PoolRequest::from_jobspec(&jobspec) {
                        Ok(request) => {
                            self.queue
                                .push(req.id, req.priority, Pending { req: msg, request });
                            self.schedule();
                        }
                        Err(e) => self.reply(msg.error_response(errno::ENOSPC, e.to_string())),
                    },
                    Err(e) => self.reply(msg.error_response(errno::EINVAL, e.to_string())),
                },
                Err(e) => self.reply(invalid(&msg, e)),
            },
            "sched.cancel" => {
                if let Ok(job) = msg.json::<JobRef>()
                    && let Some(pending) = self.queue.remove(job.id)
                {
                    self.reply(
                        pending
                            .req
                            .error_response(errno::ECANCELED, "alloc request canceled"),
                    );
                    self.schedule();
                }
            }
            "sched.prioritize" => {
                if let Ok(p) = msg.json::<Prioritize>() {
                    for (id, priority) in p.jobs {
                        self.queue.reprioritize(id, priority);
                    }
                    self.schedule();
                }
            }
            "sched.free" => {
                if let Ok(free) = msg.json::<FreeRequest>() {
                    let r = self.allocated.remove(&free.id);
                    if let (Some(pool), Some(r)) = (self.pool.as_mut(), r) {
                        pool.free(&r);
                    }
                    self.schedule();
                }
            }
            // Until resources are known, feasibility waits for them (unless they cannot come).
            "sched.feasibility" if self.pool.is_none() && !self.acquire_failed => {
                self.waiting_feasibility.push(msg);
            }
            "sched.feasibility" => {
                let rsp = match msg.json::<Feasibility>() {
                    Ok(f) => match (Jobspec::from_value(f.jobspec), self.pool.as_ref()) {
                        (Err(e), _) => msg.error_response(errno::EINVAL, e.to_string()),
                        (Ok(_), None) => msg.response_json(&json!({})),
                        (Ok(spec), Some(pool)) => match pool.feasible(&spec) {
                            Ok(()) => msg.response_json(&json!({})),
                            Err(reason) => msg.error_response(errno::ENOSPC, reason.to_string()),
                        },
                    },
                    Err(e) => invalid(&msg, e),
                };
                self.reply(rsp);
            }
            "sched.resource-status" => {
                let rsp = match self.pool.as_ref() {
                    Some(pool) => msg.response_json(&ResourceStatus {
                        all: pool.all().to_value(),
                        allocated: pool.allocated().to_value(),
                        down: pool.down().to_string(),
                    }),
                    None => msg.error_response(errno::EAGAIN, "resources not acquired yet"),
                };
                self.reply(rsp);
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .or_else(|| handle_common("sched", &self.probe, &msg))
                    .unwrap_or_else(|| unknown_method(&msg));
                self.reply(rsp);
            }
        }
    }
}

impl Actor for SchedSimple {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.acquire(ctx);
    }
}

impl Handler<Deliver> for SchedSimple {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.kind() == MsgType::Response {
            self.rpc.on_response(msg);
        } else {
            self.handle_request(msg);
        }
    }
}

impl Handler<Acquired> for SchedSimple {
    type Result = ();

    fn handle(&mut self, update: Acquired, ctx: &mut Context<Self>) {
        let idset = |text: &str| IdSet::parse(text).unwrap_or_default();
        match update {
            Acquired::Resources { r, up } => match ResourceSet::from_value(r) {
                Ok(r) => {
                    let mut pool = Pool::new(&r);
                    if let Some(up) = up {
                        pool.set_up(&idset(&up));
                    }
                    self.pool = Some(pool);
                    self.acquire_failed = false;
                    self.hello(ctx);
                    for msg in std::mem::take(&mut self.waiting_feasibility) {
                        self.handle_request(msg);
                    }
                }
                Err(e) => self.log(format!("resource.acquire: invalid R: {e}")),
            },
            Acquired::Up(ranks) => {
                if let Some(pool) = self.pool.as_mut() {
                    pool.set_up(&idset(&ranks));
                }
            }
            Acquired::Down(ranks) => {
                if let Some(pool) = self.pool.as_mut() {
                    pool.set_down(&idset(&ranks));
                }
            }
            Acquired::Failed(text) => {
                // The resource module may come later (or come back): try again.
                if !self.acquire_failed {
                    self.log(format!("resource.acquire: {text}; retrying"));
                }
                self.acquire_failed = true;
                self.pool = None;
                for msg in std::mem::take(&mut self.waiting_feasibility) {
                    self.handle_request(msg);
                }
                ctx.run_later(std::time::Duration::from_secs(1), |act, ctx| {
                    act.acquire(ctx)
                });
            }
        }
        self.schedule();
    }
}

impl Handler<Running> for SchedSimple {
    type Result = ();

    fn handle(&mut self, Running(jobs): Running, ctx: &mut Context<Self>) {
        let jobs = match jobs {
            Ok(jobs) => jobs,
            Err(why) => {
                // Scheduling over jobs it does not know of would hand out their cores.
                self.log(format!("hello: {why}; asking again"));
                ctx.run_later(std::time::Duration::from_secs(1), |act, ctx| act.hello(ctx));
                return;
            }
        };
        let Some(pool) = self.pool.as_mut() else {
            return;
        };
        let mut unbookable = Vec::new();
        for (id, r) in jobs {
            match ResourceSet::from_value(r) {
                Ok(r) => {
                    pool.claim(&r);
                    self.allocated.insert(id, r);
                }
                Err(e) => unbookable.push((id, e.to_string())),
            }
        }
        for (id, why) in unbookable {
            self.log(format!("hello: job {id}: invalid R: {why}"));
            raise_unbookable(&self.rpc, id);
        }
        self.hello_done = true;
        self.schedule();
    }
}

impl Handler<Stop> for SchedSimple {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        let ids: Vec<u64> = self.queue.iter().map(|(id, _)| id).collect();
        for id in ids {
            if let Some(p) = self.queue.remove(id) {
                self.reply(p.req.error_response(errno::ECANCELED, "scheduler unloaded"));
            }
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}
