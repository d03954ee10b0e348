//! `sched-fluxion-qmanager`: Fluxion's queue manager as a broker module. It provides the
//! `sched` service (modules/sched_protocol.rs) with one queue manager (fcfs, easy, hybrid,
//! conservative) per configured queue (`[queues]`, `queue-policy-per-queue=`), whose
//! loops run one match at a time against `sched-fluxion-resource` (`match`, `cancel`,
//! `feasibility`, `status`, `notify`).
//!
//! Before it schedules, it books the jobs already running (RFC 27 hello, [`hello`]).
//!
//! It also serves `sched-fluxion-qmanager.status`: the policy and, per pending job, why
//! it waits (`reason_pending`) and, when reserved, its expected start (`t_estimate`).

mod glue;
mod hello;
pub mod options;

use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_fluxion::error::MatchError;
use flux_fluxion::jobspec::Jobspec as FluxionJobspec;
use flux_fluxion::qmanager::{MatchStep, PendingJob, QueueConfig, Queues};
use flux_fluxion::traverser::MatchOp;
use flux_proto::{Envelope, Error, MsgType, errno, nodeid};
use serde_json::{Value, json};

use glue::{MatchReply, Waiters, Waiting, match_reply, op_name};
use hello::Hello;

use crate::broker::Broker;
use crate::broker::local::Find;
use crate::modules::sched_fluxion_resource::{
    ENODEV, LOCAL_ENDPOINT, LocalCall, LocalEndpoint, LocalMatch, MatchResponse,
    parse_jobspec as matcher_jobspec,
};
use crate::modules::sched_protocol::{AllocRequest, Feasibility, JobRef, Prioritize};
use crate::modules::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Log, Route, Stop};
use crate::tracer::Probe;

const RESOURCE: &str = "sched-fluxion-resource";
const LOG_INFO: u8 = 6;
/// How often to look for the resource module while it is not there.
const RETRY: Duration = Duration::from_millis(500);

/// The module's actor: a thin shell around [`Queues`].
pub struct FluxionQmanager {
    name: String,
    broker: Addr<Broker>,
    probe: Probe,
    rpc: RpcClient,
    config: QueueConfig,
    queue: Queues,
    waiters: Waiters,
    /// The resource module's graph is there (its `notify` stream is open).
    ready: bool,
    /// The resource module's in-process endpoint, when it offers one (same broker).
    local: Option<LocalEndpoint>,
    /// Looking the endpoint up (the graph became ready meanwhile).
    finding: bool,
    /// A loop is in progress; `dirty` asks for another one after it.
    looping: bool,
    dirty: bool,
    /// Counts loops, so that a match answer from an abandoned loop is ignored.
    generation: u64,
    /// The running jobs must be booked before the first loop.
    hello: Hello,
    /// Counts hellos, so that the end of an abandoned one is ignored.
    hello_round: u64,
    /// Jobs freed while the hello was booking (freed again once it is over).
    freed_in_hello: Vec<i64>,
}

/// Start the module; options in [`options::parse`].
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    let fail = |e: options::OptionsError| format!("sched-fluxion-qmanager: {e}");
    let opts = options::parse(ctx.args_with_conf()).map_err(fail)?;
    let config = opts.config;
    let queue = match ctx.conf.queue_names() {
        names if names.is_empty() => {
            // Per-queue settings without queues name queues that do not exist.
            opts.queues(&names).map_err(fail)?;
            Queues::anonymous(config)
        }
        names => Queues::named(opts.queues(&names).map_err(fail)?),
    };
    let addr = FluxionQmanager {
        rpc: ctx.rpc(),
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        config,
        queue,
        waiters: Waiters::default(),
        ready: false,
        local: None,
        finding: false,
        looping: false,
        dirty: false,
        generation: 0,
        hello: Hello::default(),
        hello_round: 0,
        freed_in_hello: Vec::new(),
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// News from the resource module's `notify` stream.
#[derive(Message)]
#[rtype(result = "()")]
enum Notified {
    Changed,
    Ended(String),
}

impl FluxionQmanager {
    fn send(&self, msg: Envelope) {
        if msg.is_noresponse() {
            return;
        }
        self.probe.sent();
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg,
        });
    }

    /// Ask the resource module `method` with `body`: in process when it offered its
    /// endpoint (see `broker::local`), else by rpc. Every request to it goes the same way,
    /// so that they stay in order.
    fn resource_call(
        &self,
        method: &'static str,
        body: Value,
    ) -> futures::future::LocalBoxFuture<'static, Result<Value, Error>> {
        match &self.local {
            Some(endpoint) => {
                let sent = endpoint.call.send(LocalCall { method, body });
                Box::pin(async move {
                    match sent.await {
                        Ok(Ok(body)) => Ok(body),
                        Ok(Err(f)) => Err(Error::rpc(f.errnum, f.reason)),
                        Err(_) => Err(Error::rpc(errno::ENOSYS, format!("{RESOURCE} is gone"))),
                    }
                })
            }
            None => {
                let call = self.rpc.call(
                    &format!("{RESOURCE}.{method}"),
                    nodeid::ANY,
                    Bytes::from(body.to_string()),
                );
                Box::pin(async move {
                    let rsp = call.await?;
                    match rsp.payload.is_empty() {
                        true => Ok(json!({})),
                        false => Ok(rsp.json::<Value>()?),
                    }
                })
            }
        }
    }

    /// Tell the resource module `method` with `body`, expecting no answer.
    fn resource_notify(&self, method: &'static str, body: Value) {
        match &self.local {
            Some(endpoint) => endpoint.call.do_send(LocalCall { method, body }),
            None => self.rpc.notify(
                &format!("{RESOURCE}.{method}"),
                nodeid::ANY,
                Bytes::from(body.to_string()),
            ),
        }
    }

    /// The graph is there: book the running jobs, then schedule.
    fn on_ready(&mut self, ctx: &mut Context<Self>) {
        self.ready = true;
        self.queue.unblock();
        self.say_hello(ctx);
        self.kick(ctx);
    }

    fn watch_resource(&mut self, ctx: &mut Context<Self>) {
        let topic = format!("{RESOURCE}.notify");
        let mut stream = self
            .rpc
            .stream(&topic, nodeid::ANY, Bytes::from_static(b"{}"));
        let me = ctx.address();
        actix::spawn(async move {
            while let Some(rsp) = stream.recv().await {
                if rsp.errnum != 0 {
                    me.do_send(Notified::Ended(rsp.error_text()));
                    return;
                }
                me.do_send(Notified::Changed);
            }
            me.do_send(Notified::Ended("stream closed".into()));
        });
    }

    /// Ask for a scheduling loop (now, or after the one in progress).
    fn kick(&mut self, ctx: &mut Context<Self>) {
        if !self.ready || self.hello != Hello::Done {
            return;
        }
        if self.looping {
            self.dirty = true;
            return;
        }
        self.looping = true;
        self.dirty = false;
        self.generation += 1;
        for id in self.queue.begin_loop() {
            self.resource_notify("cancel", json!({ "jobid": id }));
        }
        self.step(ctx);
    }

    /// Send the loop's next match, or end the loop.
    fn step(&mut self, ctx: &mut Context<Self>) {
        let Some(MatchStep { id, op }) = self.queue.next_match() else {
            self.looping = false;
            for body in self.waiters.unannounced() {
                self.rpc.notify(
                    "job-manager.annotate",
                    nodeid::ANY,
                    Bytes::from(body.to_string()),
                );
            }
            if self.dirty {
                self.kick(ctx);
            }
            return;
        };
        let call = self.match_call(id, op);
        let generation = self.generation;
        ctx.spawn(call.into_actor(self).map(move |rsp, act, ctx| {
            if act.looping && act.generation == generation {
                act.on_match(id, rsp, ctx);
            }
        }));
    }

    /// Ask the resource module to match job `id`: in process with the jobspec parsed at
    /// `sched.alloc`, else by rpc with its JSON.
    fn match_call(
        &self,
        id: i64,
        op: MatchOp,
    ) -> futures::future::LocalBoxFuture<'static, Result<MatchResponse, Error>> {
        if let (Some(endpoint), Some(job)) = (&self.local, self.queue.job(id)) {
            let sent = endpoint.matcher.send(LocalMatch {
                jobid: id,
                op,
                jobspec: job.jobspec.clone(),
            });
            return Box::pin(async move {
                match sent.await {
                    Ok(rsp) => rsp.map_err(|f| Error::rpc(f.errnum, f.reason)),
                    Err(_) => Err(Error::rpc(errno::ENOSYS, format!("{RESOURCE} is gone"))),
                }
            });
        }
        let jobspec = self
            .waiters
            .jobs
            .get(&id)
            .map_or(Value::Null, |w| w.jobspec.clone());
        let body = json!({ "jobid": id, "op": op_name(op), "jobspec": jobspec });
        let call = self.resource_call("match", body);
        Box::pin(async move { Ok(serde_json::from_value(call.await?)?) })
    }

    fn on_match(&mut self, id: i64, rsp: Result<MatchResponse, Error>, ctx: &mut Context<Self>) {
        let (result, r, error) = match match_reply(rsp) {
            MatchReply::Matched { outcome, r } => (Ok(outcome), r, None),
            MatchReply::Failed(e) => (Err(e.clone()), Value::Null, Some(e)),
            MatchReply::Lost(text) => {
                self.lose_resource(text);
                return;
            }
        };
        match self.queue.on_match(id, result) {
            Some(d) => {
                if let Some(rsp) = self.waiters.on_decision(d, r, error.as_ref()) {
                    self.send(rsp);
                }
            }
            None if matches!(error, Some(MatchError::Busy)) => self.waiters.on_busy(id),
            None => {}
        }
        self.step(ctx);
    }

    /// The resource module went away: stop scheduling until it is back.
    fn lose_resource(&mut self, why: String) {
        if self.ready {
            self.broker.do_send(Log {
                severity: LOG_INFO,
                appname: self.name.clone(),
                msg: format!("{RESOURCE}: {why}; scheduling paused"),
            });
        }
        self.ready = false;
        self.looping = false;
        self.local = None;
        // A lookup still out is for the module that went away.
        self.finding = false;
        // A resource module that comes back may be a new one, with an empty graph.
        self.hello = Hello::Needed;
    }

    /// Forward a request to the resource module and its answer back.
    fn forward(
        &mut self,
        msg: Envelope,
        method: &'static str,
        body: Value,
        ctx: &mut Context<Self>,
    ) {
        let call = self.resource_call(method, body);
        ctx.spawn(call.into_actor(self).map(move |rsp, act, _| {
            let out = match rsp {
                Ok(body) => msg.response_json(&body),
                Err(e) if e.errnum() == ENODEV => msg.error_response(errno::ENOSPC, e.to_string()),
                Err(e) if method == "feasibility" && e.errnum() != errno::EINVAL => {
                    // No graph yet: nothing to say against the job.
                    msg.response_json(&json!({}))
                }
                Err(e) => msg.error_response(e.errnum(), e.to_string()),
            };
            act.send(out);
        }));
    }

    fn handle_request(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        match msg.topic.as_str() {
            "sched.alloc" => self.on_alloc(msg, ctx),
            "sched.cancel" => {
                if let Ok(job) = msg.json::<JobRef>() {
                    let id = job.id as i64;
                    self.queue.remove(id);
                    if let Some(w) = self.waiters.jobs.remove(&id) {
                        self.send(
                            w.msg
                                .error_response(errno::ECANCELED, "alloc request canceled"),
                        );
                    }
                    self.kick(ctx);
                }
            }
            "sched.prioritize" => {
                if let Ok(p) = msg.json::<Prioritize>() {
                    for (id, priority) in p.jobs {
                        self.queue.reprioritize(id as i64, priority);
                        if let Some(w) = self.waiters.jobs.get_mut(&(id as i64)) {
                            w.priority = priority;
                        }
                    }
                    self.kick(ctx);
                }
            }
            "sched.free" => {
                if let Ok(job) = msg.json::<JobRef>() {
                    self.freed_during_hello(job.id as i64);
                    self.resource_notify("cancel", json!({ "jobid": job.id as i64 }));
                    self.kick(ctx);
                }
            }
            "sched.feasibility" => match msg.json::<Feasibility>() {
                Ok(f) => match matcher_jobspec(&f.jobspec) {
                    Ok(_) => {
                        let jobspec = FluxionJobspec::matching_part(&f.jobspec);
                        self.forward(msg, "feasibility", json!({ "jobspec": jobspec }), ctx)
                    }
                    Err(e) => self.send(msg.error_response(e.errnum, e.reason)),
                },
                Err(e) => self.send(msg.error_response(errno::EPROTO, e.to_string())),
            },
            "sched.resource-status" => self.forward(msg, "status", json!({}), ctx),
            t if t == format!("{}.status", self.name) => {
                let rsp = msg.response_json(&json!({
                    "queue-policy": options::policy_name(self.config.policy),
                    "queues": self.queue.configs().map(|(name, c)| json!({
                        "name": name,
                        "queue-policy": options::policy_name(c.policy),
                    })).collect::<Vec<_>>(),
                    "queue-depth": self.config.queue_depth,
                    "reservation-depth": self.config.effective_reservation_depth(),
                    "resource-ready": self.ready,
                    "running-jobs-booked": self.hello == Hello::Done,
                    "pending": self.waiters.status(),
                    "blocked": self.queue.blocked_len(),
                }));
                self.send(rsp);
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .or_else(|| handle_common("sched", &self.probe, &msg))
                    .unwrap_or_else(|| unknown_method(&msg));
                self.send(rsp);
            }
        }
    }

    fn on_alloc(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        let req = match msg.json::<AllocRequest>() {
            Ok(req) => req,
            Err(e) => {
                return self
                    .send(msg.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let jobspec = match matcher_jobspec(&req.jobspec) {
            Ok(spec) => spec,
            Err(e) => return self.send(msg.error_response(e.errnum, e.reason)),
        };
        let id = match i64::try_from(req.id) {
            Ok(id) if !self.waiters.jobs.contains_key(&id) => id,
            Ok(_) => {
                let text = format!("job {} already has an alloc request", req.id);
                return self.send(msg.error_response(errno::EEXIST, text));
            }
            Err(_) => {
                let text = format!("job id {} out of range", req.id);
                return self.send(msg.error_response(errno::EINVAL, text));
            }
        };
        let queue = req
            .jobspec
            .pointer("/attributes/system/queue")
            .and_then(Value::as_str);
        let job = PendingJob {
            id,
            priority: req.priority,
            // The protocol orders equal priorities by id (FLUIDs grow with time).
            t_submit: req.id,
            jobspec: jobspec.into(),
        };
        if let Err(text) = self.queue.submit(queue, job) {
            return self.send(msg.error_response(errno::EINVAL, text));
        }
        self.waiters.jobs.insert(
            id,
            Waiting {
                msg,
                // The matcher is sent this for every attempt: only what it reads.
                jobspec: FluxionJobspec::matching_part(&req.jobspec),
                priority: req.priority,
                reason: None,
                t_estimate: None,
                announced: None,
            },
        );
        self.kick(ctx);
    }
}

impl Actor for FluxionQmanager {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.watch_resource(ctx);
    }
}

impl Handler<Deliver> for FluxionQmanager {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.kind() == MsgType::Response {
            self.rpc.on_response(msg);
        } else {
            self.handle_request(msg, ctx);
        }
    }
}

impl Handler<Notified> for FluxionQmanager {
    type Result = ();

    fn handle(&mut self, news: Notified, ctx: &mut Context<Self>) {
        match news {
            Notified::Changed if self.finding => {}
            Notified::Changed if self.ready => self.on_ready(ctx),
            Notified::Changed => {
                // First news of a graph: use the module's in-process endpoint from now on.
                self.finding = true;
                let find = self.broker.send(Find::<LocalEndpoint>::new(LOCAL_ENDPOINT));
                ctx.spawn(find.into_actor(self).map(|found, act, ctx| {
                    if !act.finding {
                        return; // the module went away meanwhile
                    }
                    act.finding = false;
                    act.local = found.ok().flatten();
                    act.on_ready(ctx);
                }));
            }
            Notified::Ended(why) => {
                self.lose_resource(why);
                ctx.run_later(RETRY, |act, ctx| act.watch_resource(ctx));
            }
        }
    }
}

impl Handler<Stop> for FluxionQmanager {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        for (_, w) in std::mem::take(&mut self.waiters.jobs) {
            self.send(w.msg.error_response(errno::ECANCELED, "scheduler unloaded"));
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}
