//! The `job-list` actor: follows the job manager's events journal, reads jobspec and R from
//! the KVS in batches, answers `job-list.list`, `job-list.list-id` and `job-list.stats`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, Jobspec, ResourceSet};
use flux_proto::{Envelope, MsgType, errno, nodeid};
use serde::Deserialize;
use serde_json::json;

use super::query::{self, ListRequest, Users};
use super::table::{Fetch, JobTable};
use crate::modules::{
    ModuleContext, ModuleHandle, RpcClient, handle_common, kvs_jobs, unknown_method,
};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;

/// How long to wait before asking the job manager for its journal again.
const RESUBSCRIBE: Duration = Duration::from_millis(100);
/// How long `list-id` waits for a job it has not seen.
const LIST_ID_WAIT: Duration = Duration::from_secs(1);
/// Lookups of R that find nothing (the commit is on its way) are tried this many times.
const R_TRIES: u32 = 50;

/// The job-list module's actor.
pub struct JobListActor {
    name: String,
    broker: Addr<crate::broker::Broker>,
    probe: Probe,
    rpc: RpcClient,
    table: JobTable,
    /// KVS lookup batches in flight, by number.
    batches: BTreeSet<u64>,
    next_batch: u64,
    /// Requests waiting for batches up to a number to land.
    stalled: Vec<(u64, Envelope)>,
    /// `list-id` requests for jobs not seen yet.
    id_waiters: HashMap<JobId, Vec<Envelope>>,
    /// While the jobs of an earlier life of the instance are read from the KVS: the
    /// journal's events, applied once they are.
    restoring: Option<Vec<JournalEvent>>,
    stopping: bool,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("job-list")?;
    let owner = ctx
        .attrs
        .get("security.owner")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let addr = JobListActor {
        rpc: RpcClient::new(ctx.name.clone(), owner, ctx.broker.clone()),
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        table: JobTable::new(),
        batches: BTreeSet::new(),
        next_batch: 0,
        stalled: Vec::new(),
        id_waiters: HashMap::new(),
        restoring: None,
        stopping: false,
    }
    .start();
    Ok(ModuleHandle {
        deliver: addr.clone().recipient(),
        stop: addr.recipient(),
    })
}

#[derive(Deserialize)]
struct JournalEvent {
    id: u64,
    entry: Entry,
}

#[derive(Deserialize)]
struct JournalBatch {
    events: Vec<JournalEvent>,
}

/// The jobs found in the KVS at start, with their eventlogs.
#[derive(Message)]
#[rtype(result = "()")]
struct Restored {
    jobs: Vec<(JobId, Vec<Entry>)>,
    problems: Vec<String>,
}

/// Events from the journal stream.
#[derive(Message)]
#[rtype(result = "()")]
struct Journal(Vec<JournalEvent>);

/// The journal stream ended (job manager not loaded, or unloaded).
#[derive(Message)]
#[rtype(result = "()")]
struct JournalEnded;

/// A batch of KVS lookups came back: per fetch, the value (None: not found or failed).
#[derive(Message)]
#[rtype(result = "()")]
struct Loaded {
    batch: u64,
    values: Vec<(Fetch, Option<Vec<u8>>)>,
}

#[derive(Deserialize)]
struct ListIdReq {
    id: u64,
    #[serde(default)]
    attrs: Vec<String>,
}

async fn fetch(rpc: RpcClient, what: Fetch) -> (Fetch, Option<Vec<u8>>) {
    let (key, tries) = match what {
        Fetch::Jobspec(id) => (id.kvs_key("jobspec"), 1),
        Fetch::R(id) => (id.kvs_key("R"), R_TRIES),
    };
    for _ in 0..tries {
        match kvs_jobs::value(&rpc, &key).await {
            Ok(Some(v)) => return (what, Some(v)),
            Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => break,
        }
    }
    (what, None)
}

impl JobListActor {
    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.rpc.respond(msg);
    }

    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        let mut stream = self.rpc.stream(
            "job-manager.events-journal",
            nodeid::ANY,
            Bytes::from_static(b"{\"full\":true}"),
        );
        let me = ctx.address();
        actix::spawn(async move {
            while let Some(rsp) = stream.recv().await {
                if rsp.errnum != 0 {
                    break;
                }
                if let Ok(batch) = rsp.json::<JournalBatch>() {
                    me.do_send(Journal(batch.events));
                }
            }
            me.do_send(JournalEnded);
        });
    }

    /// Read the jobs already in the KVS. Listing requests wait for it (it counts as a
    /// batch) and journal events are held back until it is done.
    fn restore(&mut self, ctx: &mut Context<Self>) {
        self.restoring = Some(Vec::new());
        let batch = self.begin_batch();
        let rpc = self.rpc.clone();
        let me = ctx.address();
        actix::spawn(async move {
            let (jobs, problems) = kvs_jobs::all_eventlogs(&rpc).await;
            me.do_send(Restored { jobs, problems });
            me.do_send(Loaded {
                batch,
                values: Vec::new(),
            });
        });
    }

    /// Apply journal events and start the KVS lookups they call for.
    fn apply(&mut self, events: Vec<(JobId, Entry)>, ctx: &mut Context<Self>) {
        let mut fetches = Vec::new();
        let mut new_ids = Vec::new();
        for (id, entry) in events {
            match self.table.apply(id, &entry) {
                Ok(Some(f)) => {
                    if matches!(f, Fetch::Jobspec(_)) {
                        new_ids.push(id);
                    }
                    fetches.push(f);
                }
                Ok(None) => {}
                // Jobs from before job-list started, or a replay: nothing to list.
                Err(_) => {}
            }
        }
        self.load(fetches, ctx);
        for id in new_ids {
            for req in self.id_waiters.remove(&id).unwrap_or_default() {
                self.answer_when_loaded(req, ctx);
            }
        }
    }

    /// Number a new batch of lookups; requests may wait for it.
    fn begin_batch(&mut self) -> u64 {
        self.next_batch += 1;
        self.batches.insert(self.next_batch);
        self.next_batch
    }

    /// Start one batch of KVS lookups.
    fn load(&mut self, fetches: Vec<Fetch>, ctx: &mut Context<Self>) {
        if fetches.is_empty() {
            return;
        }
        let batch = self.begin_batch();
        let rpc = self.rpc.clone();
        let me = ctx.address();
        actix::spawn(async move {
            let calls = fetches.into_iter().map(|f| fetch(rpc.clone(), f));
            let values = futures::future::join_all(calls).await;
            me.do_send(Loaded { batch, values });
        });
    }

    /// Answer now, or once the lookups already started have landed (so a job just
    /// submitted shows with its name and sizes).
    fn answer_when_loaded(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        if self.batches.is_empty() {
            self.answer(msg, ctx);
        } else {
            self.stalled.push((self.next_batch, msg));
        }
    }

    /// Give up on `list-id` requests for `id` that are still waiting.
    fn expire_waiters(&mut self, id: JobId) {
        for req in self.id_waiters.remove(&id).unwrap_or_default() {
            self.reply(req.error_response(errno::ENOENT, "unknown job id"));
        }
    }

    fn answer(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        let rsp = match msg.topic.as_str() {
            "job-list.list" => self.list(&msg),
            "job-list.list-id" => match self.list_id(&msg) {
                Some(rsp) => rsp,
                None => {
                    if let Ok(req) = msg.json::<ListIdReq>() {
                        let id = JobId(req.id);
                        ctx.run_later(LIST_ID_WAIT, move |me, _| me.expire_waiters(id));
                    }
                    return;
                }
            },
            _ => unknown_method(&msg),
        };
        self.reply(rsp);
    }

    fn list(&self, msg: &Envelope) -> Envelope {
        let mut req: ListRequest = match msg.json() {
            Ok(r) => r,
            Err(e) => return msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
        };
        if let Err(e) = req.check_attrs() {
            return msg.error_response(errno::EINVAL, e);
        }
        if !msg.is_owner() {
            // Guests see their own jobs only.
            req.userid = Users::One(msg.userid);
        }
        msg.response_json(&json!({ "jobs": req.run(&self.table) }))
    }

    /// The job, an error, or `None` when the request waits for the job to appear.
    fn list_id(&mut self, msg: &Envelope) -> Option<Envelope> {
        let req: ListIdReq = match msg.json() {
            Ok(r) => r,
            Err(e) => {
                return Some(msg.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let id = JobId(req.id);
        match self.table.get(id) {
            Some(job) if !msg.is_owner() && job.userid != msg.userid => Some(msg.error_response(
                errno::EPERM,
                "permission denied: job belongs to another user",
            )),
            Some(job) => {
                Some(msg.response_json(&json!({ "job": query::to_json(job, &req.attrs) })))
            }
            None if id < self.table.max_id() => {
                Some(msg.error_response(errno::ENOENT, "unknown job id"))
            }
            None => {
                self.id_waiters.entry(id).or_default().push(msg.clone());
                None
            }
        }
    }

    fn stats(&self, msg: &Envelope) -> Envelope {
        let s = self.table.stats();
        let get =
            |m: &std::collections::BTreeMap<&str, u64>, k: &str| m.get(k).copied().unwrap_or(0);
        let mut states = serde_json::Map::new();
        for (name, n) in &s.states {
            states.insert(name.to_lowercase(), json!(n));
        }
        states.insert("total".into(), json!(s.total));
        msg.response_json(&json!({
            "job_states": states,
            "successful": get(&s.results, "COMPLETED"),
            "failed": get(&s.results, "FAILED"),
            "canceled": get(&s.results, "CANCELED"),
            "timeout": get(&s.results, "TIMEOUT"),
            "inactive_purged": 0,
        }))
    }

    fn handle_request(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        match msg.topic.as_str() {
            "job-list.list" | "job-list.list-id" => self.answer_when_loaded(msg, ctx),
            "job-list.stats" | "job-list.job-stats" => {
                let rsp = self.stats(&msg);
                self.reply(rsp);
            }
            "job-list.disconnect" => {
                let sender = msg.route.last().cloned();
                self.stalled
                    .retain(|(_, r)| r.route.last() != sender.as_ref());
                for reqs in self.id_waiters.values_mut() {
                    reqs.retain(|r| r.route.last() != sender.as_ref());
                }
                self.id_waiters.retain(|_, reqs| !reqs.is_empty());
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .unwrap_or_else(|| unknown_method(&msg));
                self.reply(rsp);
            }
        }
    }
}

impl Actor for JobListActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Subscribe first, so that no event falls between the KVS read and the stream.
        self.subscribe(ctx);
        self.restore(ctx);
    }
}

impl Handler<Deliver> for JobListActor {
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

impl Handler<Journal> for JobListActor {
    type Result = ();

    fn handle(&mut self, Journal(events): Journal, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match &mut self.restoring {
            Some(held) => held.extend(events),
            None => {
                let events = events
                    .into_iter()
                    .map(|ev| (JobId(ev.id), ev.entry))
                    .collect();
                self.apply(events, ctx)
            }
        }
    }
}

impl Handler<Restored> for JobListActor {
    type Result = ();

    fn handle(&mut self, Restored { jobs, problems }: Restored, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        for problem in problems {
            self.broker.do_send(crate::msg::Log {
                severity: 3,
                appname: self.name.clone(),
                msg: format!("restart: {problem}"),
            });
        }
        let held = self.restoring.take().unwrap_or_default();
        let held = held
            .into_iter()
            .map(|ev| (JobId(ev.id), ev.entry))
            .collect();
        let events = super::restore::merge(jobs, held);
        self.apply(events, ctx);
        // Requests that waited for the restore also wait for its jobs' jobspecs and R.
        for (needed, _) in &mut self.stalled {
            *needed = self.next_batch;
        }
    }
}

impl Handler<Loaded> for JobListActor {
    type Result = ();

    fn handle(&mut self, Loaded { batch, values }: Loaded, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        for (what, value) in values {
            let Some(bytes) = value else { continue };
            let text = String::from_utf8_lossy(&bytes);
            match what {
                Fetch::Jobspec(id) => {
                    if let Ok(spec) = Jobspec::parse_validated(&text) {
                        self.table.update(id, |job| job.set_jobspec(&spec));
                    }
                }
                Fetch::R(id) => {
                    if let Ok(r) = ResourceSet::parse(&text) {
                        self.table.update(id, |job| job.set_r(&r));
                    }
                }
            }
        }
        self.batches.remove(&batch);
        let done_through = self.batches.first().map_or(u64::MAX, |b| b - 1);
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stalled)
            .into_iter()
            .partition(|(needed, _)| *needed <= done_through);
        self.stalled = waiting;
        for (_, req) in ready {
            self.answer(req, ctx);
        }
    }
}

impl Handler<JournalEnded> for JobListActor {
    type Result = ();

    fn handle(&mut self, _: JournalEnded, ctx: &mut Context<Self>) {
        if !self.stopping {
            ctx.run_later(RESUBSCRIBE, |me, ctx| {
                if !me.stopping {
                    me.subscribe(ctx);
                }
            });
        }
    }
}

impl Handler<Stop> for JobListActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.stopping = true;
        self.rpc.cancel_all();
        ctx.stop();
    }
}
