//! The job manager's actor: requests in, core calls, effects out (KVS eventlog appends in
//! batches, scheduler and exec rpcs, waiters woken).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, JobState, Jobspec};
use flux_proto::{Envelope, MsgType, errno, nodeid};
use flux_store::Txn;
use serde::Deserialize;
use serde_json::{Value, json};

use super::core::{Effect, JobError, JobManager, NewJob};
use super::queue::QueueState;
use crate::broker::Broker;
use crate::modules::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;

/// The job-manager module's actor.
pub struct JobManagerActor {
    name: String,
    broker: Addr<Broker>,
    probe: Probe,
    rpc: RpcClient,
    core: JobManager,
    queue: QueueState,
    /// R of jobs holding resources (JSON text, as the scheduler gave it).
    resources: HashMap<JobId, String>,
    /// Eventlog entries waiting for the next KVS commit.
    appends: Vec<(JobId, Entry)>,
    /// Keys (R) waiting for the next KVS commit.
    puts: Vec<(String, String)>,
    commit_in_flight: bool,
    /// Jobs of a previous life are loaded from the KVS.
    restored: bool,
    /// `job-manager.max-id` requests waiting for the restore.
    max_id_waiters: Vec<Envelope>,
    /// Jobs with a `sched.alloc` request out, and the priority it carries.
    alloc_inflight: HashMap<JobId, u32>,
    /// Pending jobs whose request found no scheduler (or whose scheduler was unloaded):
    /// asked again every second.
    unscheduled: HashMap<JobId, u32>,
    /// Alloc requests held back while scheduling is stopped.
    deferred: HashMap<JobId, u32>,
    /// Streaming `job-manager.events-journal` requests.
    journal: Vec<Envelope>,
    /// `job-manager.wait` requests by job (JobId(0): any job).
    waiters: HashMap<JobId, Vec<Envelope>>,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("job-manager")?;
    let addr = JobManagerActor {
        rpc: ctx.rpc(),
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        core: JobManager::default(),
        queue: QueueState::new(ctx.conf.queue_names()),
        resources: HashMap::new(),
        appends: Vec::new(),
        puts: Vec::new(),
        commit_in_flight: false,
        deferred: HashMap::new(),
        alloc_inflight: Default::default(),
        unscheduled: HashMap::new(),
        restored: false,
        max_id_waiters: Vec::new(),
        journal: Vec::new(),
        waiters: HashMap::new(),
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// The jobspec without its environment, often the bulk of it (what the scheduler needs,
/// and all the manager keeps once the tasks have started).
fn without_environment(jobspec: &Jobspec) -> Jobspec {
    let mut light = jobspec.clone();
    light.attributes.system.environment = None;
    light
}

fn sched_view(jobspec: &Jobspec) -> Value {
    without_environment(jobspec).to_value()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn job_error(req: &Envelope, e: &JobError) -> Envelope {
    let errnum = match e {
        JobError::NoSuchJob => errno::ENOENT,
        JobError::NotOwner => errno::EPERM,
        JobError::Inactive | JobError::Transition(_) => errno::EINVAL,
        JobError::BadUrgency | JobError::Dependency(_) => errno::EINVAL,
    };
    req.error_response(errnum, e.to_string())
}

#[derive(Deserialize)]
struct SubmitJob {
    id: u64,
    userid: u32,
    urgency: u32,
    flags: u32,
    t_submit: f64,
    jobspec: String,
}

#[derive(Deserialize)]
struct SubmitBatch {
    jobs: Vec<SubmitJob>,
}

#[derive(Deserialize)]
struct Raise {
    id: u64,
    #[serde(rename = "type", default = "cancel")]
    kind: String,
    #[serde(default)]
    severity: u8,
    #[serde(default)]
    note: String,
}

fn cancel() -> String {
    "cancel".into()
}

#[derive(Deserialize)]
struct Urgency {
    id: u64,
    urgency: u32,
}

#[derive(Deserialize)]
struct KillReq {
    id: u64,
    #[serde(default = "sigterm")]
    signum: i32,
}

fn sigterm() -> i32 {
    libc::SIGTERM
}

#[derive(Deserialize)]
struct WaitReq {
    #[serde(default)]
    id: u64,
}

/// What came back from the scheduler or exec for a job.
#[derive(Message)]
#[rtype(result = "()")]
enum Outcome {
    Allocated {
        id: JobId,
        r: String,
    },
    AllocFailed {
        id: JobId,
        errnum: i32,
        note: String,
    },
    Exec {
        id: JobId,
        update: Value,
    },
    ExecEnded {
        id: JobId,
    },
    Timer {
        id: JobId,
    },
    Committed,
}

impl JobManagerActor {
    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.rpc.respond(msg);
    }

    /// Perform what the core asked for.
    fn perform(&mut self, effects: Vec<Effect>, ctx: &mut Context<Self>) {
        for effect in effects {
            match effect {
                Effect::Event(id, entry) => self.appends.push((id, entry)),
                Effect::Alloc { id, priority } if !self.sched_started(id) => {
                    self.deferred.insert(id, priority);
                }
                Effect::Alloc { id, priority } => self.alloc(id, priority, ctx),
                Effect::CancelAlloc(id) => self.rpc.notify(
                    "sched.cancel",
                    nodeid::ANY,
                    Bytes::from(json!({ "id": id.0 }).to_string()),
                ),
                Effect::Start(id) => self.start_exec(id, ctx),
                Effect::Kill { id, signum } => self.rpc.notify(
                    "job-exec.kill",
                    nodeid::ANY,
                    Bytes::from(json!({ "id": id.0, "signum": signum }).to_string()),
                ),
                Effect::Free(id) => {
                    let r = self.resources.remove(&id).unwrap_or_default();
                    let body = format!(
                        r#"{{"id":{},"R":{}}}"#,
                        id.0,
                        if r.is_empty() { "null" } else { &r }
                    );
                    self.rpc
                        .notify("sched.free", nodeid::ANY, Bytes::from(body));
                }
                Effect::Timer { id, at } => {
                    let wait = Duration::from_secs_f64((at - now()).max(0.0));
                    ctx.run_later(wait, move |_, ctx| ctx.notify(Outcome::Timer { id }));
                }
                Effect::Inactive(id) => self.wake_waiters(id),
            }
        }
        if self.queue.has_waiters() {
            let running = self.core.select(None, |s| s.is_running()).len();
            for rsp in self.queue.settle(self.core.active_count(), running) {
                self.reply(rsp);
            }
        }
        self.flush(ctx);
    }

    /// Whether the queue of job `id` is scheduling.
    fn sched_started(&self, id: JobId) -> bool {
        let queue = self.core.job(id).and_then(|j| j.jobspec.queue());
        self.queue.sched_started(queue)
    }

    /// Jobs held in `held` whose queue schedules again, in id order (taken out of it).
    fn take_started(&self, held: &mut HashMap<JobId, u32>) -> Vec<(JobId, u32)> {
        let mut ready: Vec<(JobId, u32)> = held
            .iter()
            .filter(|(id, _)| self.sched_started(**id))
            .map(|(id, p)| (*id, *p))
            .collect();
        ready.sort();
        for (id, _) in &ready {
            held.remove(id);
        }
        ready
    }

    /// Scheduling was started again: send the alloc requests held back meanwhile.
    fn release_deferred(&mut self, ctx: &mut Context<Self>) {
        let mut deferred = std::mem::take(&mut self.deferred);
        let ready = self.take_started(&mut deferred);
        self.deferred = deferred;
        for (id, priority) in ready {
            if self
                .core
                .job(id)
                .is_some_and(|j| j.state() == JobState::Sched && j.alloc_pending)
            {
                self.alloc(id, priority, ctx);
            }
        }
    }

    fn alloc(&mut self, id: JobId, priority: u32, ctx: &mut Context<Self>) {
        let Some(job) = self.core.job(id) else { return };
        if self.alloc_inflight.insert(id, priority).is_some() {
            // One request per job: a new priority for a request already out.
            let body = json!({ "jobs": [[id.0, priority]] });
            return self.rpc.notify(
                "sched.prioritize",
                nodeid::ANY,
                Bytes::from(body.to_string()),
            );
        }
        let body = json!({
            "id": id.0,
            "priority": priority,
            "userid": job.userid,
            "t_submit": job.record.t_submit,
            "jobspec": sched_view(&job.jobspec),
        });
        let call = self
            .rpc
            .call("sched.alloc", nodeid::ANY, Bytes::from(body.to_string()));
        let me = ctx.address();
        actix::spawn(async move {
            let outcome = match call.await {
                Ok(rsp) => match rsp.json::<Value>().ok().and_then(|v| v.get("R").cloned()) {
                    Some(r) => Outcome::Allocated {
                        id,
                        r: r.to_string(),
                    },
                    None => Outcome::AllocFailed {
                        id,
                        errnum: errno::EPROTO,
                        note: "scheduler answered without R".into(),
                    },
                },
                Err(e) => Outcome::AllocFailed {
                    id,
                    errnum: e.errnum(),
                    note: e.to_string(),
                },
            };
            me.do_send(outcome);
        });
    }

    fn start_exec(&mut self, id: JobId, ctx: &mut Context<Self>) {
        let Some(job) = self.core.job(id) else { return };
        let r = self
            .resources
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "null".into());
        let body = format!(
            r#"{{"id":{},"userid":{},"jobspec":{},"R":{}}}"#,
            id.0,
            job.userid,
            job.jobspec.to_json(),
            r
        );
        // The environment was only needed to start the tasks: don't keep it per job.
        let light = Arc::new(without_environment(&job.jobspec));
        self.core.set_jobspec(id, light);
        let mut stream = self
            .rpc
            .stream("job-exec.start", nodeid::ANY, Bytes::from(body));
        let me = ctx.address();
        actix::spawn(async move {
            while let Some(rsp) = stream.recv().await {
                if rsp.errnum != 0 {
                    if rsp.errnum != errno::ENODATA {
                        let update =
                            json!({ "type": "exception", "severity": 0, "note": rsp.error_text() });
                        me.do_send(Outcome::Exec { id, update });
                    }
                    break;
                }
                if let Ok(update) = rsp.json::<Value>() {
                    me.do_send(Outcome::Exec { id, update });
                }
            }
            me.do_send(Outcome::ExecEnded { id });
        });
    }

    /// Commit pending eventlog appends (one KVS commit for all), unless one is in flight.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.commit_in_flight || (self.appends.is_empty() && self.puts.is_empty()) {
            return;
        }
        let appends = std::mem::take(&mut self.appends);
        let mut txn = Txn::new();
        for (key, value) in self.puts.drain(..) {
            txn.put(key, value.into_bytes());
        }
        let mut journal = Vec::with_capacity(appends.len());
        for (id, entry) in &appends {
            txn.append(
                format!("{}.eventlog", id.to_kvs()),
                entry.to_line().into_bytes(),
            );
            journal.push(json!({ "id": id.0, "entry": entry }));
        }
        self.send_journal(journal);
        let Ok(ops) = txn.to_json() else { return };
        self.commit_in_flight = true;
        let body = json!({ "namespace": "primary", "flags": 0, "ops": ops });
        let call = self
            .rpc
            .call("kvs.commit", nodeid::ANY, Bytes::from(body.to_string()));
        let me = ctx.address();
        actix::spawn(async move {
            let _ = call.await;
            me.do_send(Outcome::Committed);
        });
    }

    /// `job-manager.annotate {id, annotations}` from the scheduler: why a pending job waits
    /// and when it should start (RFC 27's annotations). Not in the eventlog: journal
    /// followers (job-list, hence `flux jobs -o {sched.reason_pending}`) see them.
    fn annotate(&mut self, msg: &Envelope) -> Envelope {
        #[derive(serde::Deserialize)]
        struct Annotate {
            id: u64,
            annotations: Value,
        }
        let req: Annotate = match msg.json() {
            Ok(req) => req,
            Err(e) => return msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
        };
        if !msg.is_owner() {
            return msg.error_response(errno::EPERM, "only the instance owner may annotate jobs");
        }
        match self.core.job(JobId(req.id)) {
            None => msg.error_response(errno::ENOENT, "unknown job id"),
            Some(job) if job.state() != JobState::Sched => {
                msg.error_response(errno::EINVAL, "only pending jobs are annotated")
            }
            Some(_) => {
                let entry = Entry::new(now(), "annotations").with("annotations", req.annotations);
                self.send_journal(vec![json!({ "id": req.id, "entry": entry })]);
                msg.response_json(&json!({}))
            }
        }
    }

    fn send_journal(&mut self, events: Vec<Value>) {
        if self.journal.is_empty() || events.is_empty() {
            return;
        }
        let body = json!({ "events": events });
        for req in &self.journal {
            self.reply(req.response_json(&body));
        }
    }

    fn wake_waiters(&mut self, id: JobId) {
        let waitable = self
            .core
            .job(id)
            .is_some_and(|j| j.flags & super::core::FLAG_WAITABLE != 0);
        let mut reqs = self.waiters.remove(&id).unwrap_or_default();
        if waitable && reqs.is_empty() {
            // A `wait` for any job may take this one.
            if let Some(any) = self.waiters.get_mut(&JobId(0))
                && !any.is_empty()
            {
                reqs.push(any.remove(0));
            }
        }
        for req in reqs {
            self.answer_wait(&req, id);
        }
    }

    fn answer_wait(&mut self, req: &Envelope, id: JobId) {
        let rsp = match self.core.claim_wait(id, req.userid) {
            Ok(Some((success, errstr))) => {
                req.response_json(&json!({ "id": id.0, "success": success, "errstr": errstr }))
            }
            Ok(None) => return self.waiters.entry(id).or_default().push(req.clone()),
            Err(e) => job_error(req, &e),
        };
        self.reply(rsp);
    }

    fn handle_request(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        let t = now();
        let rsp = match msg.topic.as_str() {
            // Only job-ingest, which validated the jobspecs, may hand jobs over.
            "job-manager.submit" if !msg.is_owner() => Some(msg.error_response(
                errno::EPERM,
                "only the instance owner may submit to the job manager directly",
            )),
            "job-manager.submit" => match msg.json::<SubmitBatch>() {
                Err(e) => {
                    Some(msg.error_response(errno::EPROTO, format!("malformed request: {e}")))
                }
                Ok(batch) => Some(self.submit(&msg, batch, t, &mut out)),
            },
            "job-manager.raise" => Some(match msg.json::<Raise>() {
                Ok(r) => {
                    let by = (!msg.is_owner()).then_some(msg.userid);
                    match self.core.raise(
                        JobId(r.id),
                        &r.kind,
                        r.severity.min(7),
                        &r.note,
                        by,
                        t,
                        &mut out,
                    ) {
                        Ok(()) => msg.response_json(&json!({})),
                        Err(e) => job_error(&msg, &e),
                    }
                }
                Err(e) => msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
            }),
            "job-manager.kill" => Some(match msg.json::<KillReq>() {
                Ok(k) => match self.core.job(JobId(k.id)) {
                    None => msg.error_response(errno::ENOENT, "unknown job id"),
                    Some(j) if !msg.is_owner() && j.userid != msg.userid => msg.error_response(
                        errno::EPERM,
                        "permission denied: job belongs to another user",
                    ),
                    Some(j) if j.state() != JobState::Run => {
                        msg.error_response(errno::EINVAL, "job is not running")
                    }
                    Some(_) => {
                        out.push(Effect::Kill {
                            id: JobId(k.id),
                            signum: k.signum,
                        });
                        msg.response_json(&json!({}))
                    }
                },
                Err(e) => msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
            }),
            "job-manager.urgency" => Some(match msg.json::<Urgency>() {
                Ok(u) => match self.core.set_urgency(
                    JobId(u.id),
                    u.urgency,
                    msg.userid,
                    msg.is_owner(),
                    t,
                    &mut out,
                ) {
                    Ok(old) => msg.response_json(&json!({ "old_urgency": old })),
                    Err(e) => job_error(&msg, &e),
                },
                Err(e) => msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
            }),
            "job-manager.wait" => {
                match msg.json::<WaitReq>() {
                    Ok(w) if w.id == 0 => self.wait_any(msg),
                    Ok(w) => self.answer_wait(&msg, JobId(w.id)),
                    Err(e) => self.reply(
                        msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
                    ),
                }
                None
            }
            "job-manager.list" => Some(self.list(&msg)),
            "job-manager.sched-hello" => Some(self.sched_hello(&msg)),
            "job-manager.annotate" => {
                let rsp = self.annotate(&msg);
                (!msg.is_noresponse()).then_some(rsp)
            }
            "job-manager.max-id" if !self.restored => {
                self.max_id_waiters.push(msg);
                None
            }
            "job-manager.max-id" => {
                self.answer_max_id(&msg);
                None
            }
            "job-manager.events-journal" => {
                if msg.is_streaming() {
                    self.journal.push(msg);
                    None
                } else {
                    Some(msg.error_response(errno::EPROTO, "events-journal is a streaming rpc"))
                }
            }
            "job-manager.disconnect" => {
                let sender = msg.route.last().cloned();
                self.journal.retain(|r| r.route.last() != sender.as_ref());
                for reqs in self.waiters.values_mut() {
                    reqs.retain(|r| r.route.last() != sender.as_ref());
                }
                self.queue.disconnect(sender.as_ref());
                None
            }
            t if t.starts_with("job-manager.queue-") => {
                let running = self.core.select(None, |s| s.is_running()).len();
                let rsp = self.queue.handle(&msg, self.core.active_count(), running);
                // A queue may have started: send what it held back.
                self.release_deferred(ctx);
                rsp
            }
            _ if msg.is_noresponse() => None,
            _ => Some(
                handle_common(&self.name, &self.probe, &msg)
                    .unwrap_or_else(|| unknown_method(&msg)),
            ),
        };
        if let Some(rsp) = rsp {
            self.reply(rsp);
        }
        self.perform(out, ctx);
    }

    fn submit(
        &mut self,
        msg: &Envelope,
        batch: SubmitBatch,
        t: f64,
        out: &mut Vec<Effect>,
    ) -> Envelope {
        let mut accepted = 0;
        let mut errors = Vec::new();
        for job in batch.jobs {
            let jobspec = match Jobspec::parse_validated(&job.jobspec) {
                Ok(j) => Arc::new(j),
                Err(e) => {
                    errors.push(json!({ "id": job.id, "error": e.to_string() }));
                    continue;
                }
            };
            if let Err(e) = self.queue.check_submit(jobspec.queue()) {
                errors.push(json!({ "id": job.id, "error": e }));
                continue;
            }
            let deps = match self.core.check_dependencies(&jobspec) {
                Ok(deps) => deps,
                Err(e) => {
                    errors.push(json!({ "id": job.id, "error": e.to_string() }));
                    continue;
                }
            };
            let new = NewJob {
                id: JobId(job.id),
                userid: job.userid,
                urgency: job.urgency,
                flags: job.flags,
                t_submit: job.t_submit,
                jobspec,
            };
            self.core.submit(new, deps, t, out);
            accepted += 1;
        }
        msg.response_json(&json!({ "accepted": accepted, "errors": errors }))
    }

    /// RFC 27 hello: the jobs holding resources, `{jobs: [[id, R], ...]}`, for a scheduler
    /// that starts while they run.
    fn sched_hello(&self, msg: &Envelope) -> Envelope {
        let jobs: Vec<Value> = self
            .resources
            .iter()
            .map(|(id, r)| {
                json!([
                    id.0,
                    serde_json::from_str::<Value>(r).unwrap_or(Value::Null)
                ])
            })
            .collect();
        msg.response_json(&json!({ "jobs": jobs }))
    }

    /// Ask again for the jobs that found no scheduler.
    fn retry_unscheduled(&mut self, ctx: &mut Context<Self>) {
        if self.unscheduled.is_empty() {
            return;
        }
        let mut unscheduled = std::mem::take(&mut self.unscheduled);
        let ready = self.take_started(&mut unscheduled);
        self.unscheduled = unscheduled;
        for (id, priority) in ready {
            if self
                .core
                .job(id)
                .is_some_and(|j| j.state() == JobState::Sched && j.alloc_pending)
            {
                self.alloc(id, priority, ctx);
            }
        }
    }

    /// The largest job id known, so that job-ingest hands out larger ones.
    fn answer_max_id(&self, req: &Envelope) {
        let id = self.core.max_id().map(|id| id.0).unwrap_or(0);
        self.reply(req.response_json(&json!({ "id": id })));
    }

    /// Jobs, most recent first: `{userid?, max?, active?}`.
    fn list(&self, msg: &Envelope) -> Envelope {
        #[derive(Deserialize, Default)]
        struct ListReq {
            userid: Option<u32>,
            max: Option<usize>,
            #[serde(default)]
            active: bool,
        }
        let req: ListReq = msg.json().unwrap_or_default();
        let mut ids = self
            .core
            .select(req.userid, |s| !req.active || s.is_active());
        ids.reverse();
        ids.truncate(req.max.unwrap_or(usize::MAX));
        let jobs: Vec<Value> = ids
            .iter()
            .filter_map(|id| self.core.job(*id))
            .map(|j| {
                json!({
                    "id": j.id.0,
                    "userid": j.userid,
                    "state": j.state().name(),
                    "urgency": j.urgency,
                    "priority": j.record.priority,
                    "t_submit": j.record.t_submit,
                    "ntasks": j.jobspec.ntasks(),
                    "name": j.jobspec.job_name(),
                })
            })
            .collect();
        msg.response_json(&json!({ "jobs": jobs }))
    }

    fn wait_any(&mut self, msg: Envelope) {
        let candidates = self
            .core
            .select(Some(msg.userid), |s| s == JobState::Inactive);
        for id in candidates {
            if let Ok(Some((success, errstr))) = self.core.claim_wait(id, msg.userid) {
                return self.reply(
                    msg.response_json(&json!({ "id": id.0, "success": success, "errstr": errstr })),
                );
            }
        }
        let waitable_active = self
            .core
            .select(Some(msg.userid), |s| s.is_active())
            .into_iter()
            .any(|id| {
                self.core
                    .job(id)
                    .is_some_and(|j| j.flags & super::core::FLAG_WAITABLE != 0)
            });
        if waitable_active {
            self.waiters.entry(JobId(0)).or_default().push(msg);
        } else {
            self.reply(msg.error_response(errno::ECHILD, "there are no waitable jobs"));
        }
    }

    fn on_exec(&mut self, id: JobId, update: Value, out: &mut Vec<Effect>) {
        let t = now();
        match update.get("type").and_then(Value::as_str) {
            Some("start") => self.core.on_start(id, t, out),
            Some("finish") => {
                let status = update.get("status").and_then(Value::as_i64).unwrap_or(0) as i32;
                self.core.on_finish(id, status, t, out);
            }
            Some("release") => self.core.on_release(id, t, out),
            Some("exception") => {
                let kind = update
                    .get("exc_type")
                    .and_then(Value::as_str)
                    .unwrap_or("exec");
                let severity = update.get("severity").and_then(Value::as_u64).unwrap_or(0) as u8;
                let note = update.get("note").and_then(Value::as_str).unwrap_or("");
                let _ = self.core.raise(id, kind, severity, note, None, t, out);
            }
            _ => {}
        }
    }
}

impl Actor for JobManagerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(Duration::from_secs(1), |act, ctx| {
            act.retry_unscheduled(ctx)
        });
        let rpc = self.rpc.clone();
        let me = ctx.address();
        actix::spawn(async move {
            let (jobs, problems) = super::restore::load_jobs(rpc).await;
            me.do_send(Restored { jobs, problems });
        });
    }
}

/// The jobs found in the KVS at start.
#[derive(Message)]
#[rtype(result = "()")]
struct Restored {
    jobs: Vec<(NewJob, flux_proto::types::JobRecord)>,
    problems: Vec<String>,
}

impl Handler<Restored> for JobManagerActor {
    type Result = ();

    fn handle(&mut self, Restored { jobs, problems }: Restored, ctx: &mut Context<Self>) {
        let mut out = Vec::new();
        let t = now();
        let count = jobs.len();
        for (new, record) in jobs {
            self.core.restore(new, record, t, &mut out);
        }
        self.core.settle_restored(t, &mut out);
        for problem in problems {
            self.broker.do_send(crate::msg::Log {
                severity: 3,
                appname: "job-manager".into(),
                msg: format!("restart: {problem}"),
            });
        }
        if count > 0 {
            self.broker.do_send(crate::msg::Log {
                severity: 6,
                appname: "job-manager".into(),
                msg: format!(
                    "restart: {count} jobs restored, {} active",
                    self.core.active_count()
                ),
            });
        }
        self.restored = true;
        for req in std::mem::take(&mut self.max_id_waiters) {
            self.answer_max_id(&req);
        }
        self.perform(out, ctx);
    }
}

impl Handler<Deliver> for JobManagerActor {
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

impl Handler<Outcome> for JobManagerActor {
    type Result = ();

    fn handle(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        let mut out = Vec::new();
        let t = now();
        match outcome {
            Outcome::Allocated { id, r } => {
                self.alloc_inflight.remove(&id);
                self.unscheduled.remove(&id);
                self.puts.push((format!("{}.R", id.to_kvs()), r.clone()));
                self.resources.insert(id, r);
                self.core.on_alloc(id, t, &mut out);
            }
            Outcome::AllocFailed { id, errnum, note } => {
                let priority = self.alloc_inflight.remove(&id).unwrap_or(0);
                let still_wanted = self
                    .core
                    .job(id)
                    .is_some_and(|j| j.state() == JobState::Sched && j.alloc_pending);
                match errnum {
                    // No scheduler now, or it was unloaded: the job waits for the next one.
                    errno::ENOSYS | errno::ECANCELED if still_wanted => {
                        self.unscheduled.insert(id, priority);
                    }
                    // A canceled request is the expected end of a withdrawn alloc.
                    errno::ECANCELED => {}
                    _ => self.core.on_alloc_denied(id, &note, t, &mut out),
                }
            }
            Outcome::Exec { id, update } => self.on_exec(id, update, &mut out),
            Outcome::ExecEnded { id } => self.core.on_release(id, t, &mut out),
            Outcome::Timer { id } => self.core.on_timer(id, t, &mut out),
            Outcome::Committed => self.commit_in_flight = false,
        }
        self.perform(out, ctx);
    }
}

impl Handler<Stop> for JobManagerActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        for req in std::mem::take(&mut self.journal) {
            self.reply(req.error_response(errno::ENODATA, ""));
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}
