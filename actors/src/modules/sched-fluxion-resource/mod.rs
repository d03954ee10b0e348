//! `sched-fluxion-resource`: Fluxion's resource graph as a broker module. It builds the
//! graph from R (`resource.acquire`, RFC 28: the JGF `scheduling` key when present, else
//! R_lite) or from `load-file=` (R, JGF, GRUG or hwloc XML), or with `load-format=hwloc`
//! alone from this machine's hwloc topology, and serves the matcher to
//! `sched-fluxion-qmanager`:
//!
//! | topic | body | answer |
//! |---|---|---|
//! | `sched-fluxion-resource.match` | [`MatchRequest`] | [`MatchResponse`]; EBUSY (not now), ENODEV (never), EINVAL (bad jobspec), EAGAIN (no graph yet) |
//! | `sched-fluxion-resource.cancel` | `{"jobid": I}` | `{}` |
//! | `sched-fluxion-resource.update` | `{"jobid": I, "R": R}` (a running job, RFC 27 hello) | `{}` once R is booked for the job; ENOENT (not in the graph), EEXIST (allocated to another job), EINVAL (bad R) |
//! | `sched-fluxion-resource.feasibility` | `{"jobspec": J}` | `{}` or ENODEV/EINVAL |
//! | `sched-fluxion-resource.find` | `{"criteria": "status=down or sched-now=allocated"}` | `{"R": R}`; EINVAL for a bad expression |
//! | `sched-fluxion-resource.status` | `{}` | `{"all": R, "allocated": R, "down": idset}` |
//! | `sched-fluxion-resource.notify` | `{}`, streaming | `{"up": idset, "down": idset}` once the graph exists and after every change |
//! | `sched-fluxion-resource.info` | `{}` | `{"policy", "prune-filters", "up", "down"}` |

mod matcher;
pub mod options;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use flux_fluxion::jobspec::Jobspec;
use flux_fluxion::traverser::MatchOp;
use flux_proto::{Envelope, MsgType, errno};
use serde::Deserialize;
use serde_json::{Value, json};

pub use matcher::{
    ENODEV, GraphError, MatchFailure, MatchRequest, MatchResponse, Matcher, parse_jobspec,
};
pub use options::{LoadFormat, OptionsError, ResourceOptions};

use crate::broker::Broker;
use crate::broker::local::{Offer, Withdraw};
use crate::modules::sched_protocol::{Acquired, follow_acquire};
use crate::modules::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Log, Route, Stop};
use crate::tracer::Probe;

const NAME: &str = "sched-fluxion-resource";
const LOG_ERR: u8 = 3;
const LOG_INFO: u8 = 6;
/// How often to ask `resource.acquire` again while it fails (e.g. not loaded yet).
const ACQUIRE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// The module's actor: a thin shell around [`Matcher`].
pub struct FluxionResource {
    name: String,
    broker: Addr<Broker>,
    probe: Probe,
    rpc: RpcClient,
    opts: ResourceOptions,
    /// `None` until R has arrived.
    matcher: Option<Matcher>,
    /// Open `notify` streams.
    watchers: Vec<Envelope>,
    /// `resource.acquire` failures in a row (logged once, retried).
    acquire_failures: u32,
    /// This instance's token for its in-process endpoint (`broker::local`).
    offer: u64,
}

/// Start the module; options as in [`ResourceOptions`]. With `load-file=` the graph is
/// read at once, so a bad file fails the load.
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    let opts = ResourceOptions::parse(ctx.args_with_conf()).map_err(|e| format!("{NAME}: {e}"))?;
    let matcher = match (&opts.load_file, opts.load_format) {
        // The XML stands for this broker's machine (rank 0), named by it if need be.
        (file, LoadFormat::Hwloc) => {
            let xml = match file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| format!("{NAME}: {}: {e}", path.display()))?,
                None => this_machine(&ctx).map_err(|e| format!("{NAME}: {e}"))?,
            };
            let host = ctx.attrs.get("hostname").ok();
            Some(Matcher::from_hwloc_xml(&xml, &opts, host).map_err(|e| format!("{NAME}: {e}"))?)
        }
        (Some(path), _) => {
            Some(Matcher::from_file(path, &opts).map_err(|e| format!("{NAME}: {e}"))?)
        }
        (None, _) => None,
    };
    let addr = FluxionResource {
        rpc: ctx.rpc(),
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        opts,
        matcher,
        watchers: Vec::new(),
        acquire_failures: 0,
        offer: Offer::owner_token(),
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

/// `load-format=hwloc` without `load-file`: this machine's topology, as the resource
/// module sees it (the `resource.hwloc-xml` file of a simulated machine, else hwloc
/// discovery). The graph is then this broker's node alone, as rank 0.
fn this_machine(ctx: &ModuleContext) -> Result<String, String> {
    match ctx.attrs.get("resource.hwloc-xml") {
        Ok(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}")),
        Err(_) => crate::hwloc::host_xml().map_err(|e| e.to_string()),
    }
}

/// Seconds since the epoch (the matcher's clock).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[derive(Deserialize)]
struct JobidReq {
    jobid: i64,
}

#[derive(Deserialize)]
struct UpdateReq {
    jobid: i64,
    #[serde(rename = "R")]
    r: Value,
}

#[derive(Deserialize)]
struct FindReq {
    criteria: String,
}

#[derive(Deserialize)]
struct JobspecReq {
    jobspec: Value,
}

fn malformed(msg: &Envelope, e: impl std::fmt::Display) -> Envelope {
    msg.error_response(errno::EPROTO, format!("malformed request: {e}"))
}

fn internal(e: impl std::fmt::Display) -> MatchFailure {
    MatchFailure::new(errno::EINVAL, e.to_string())
}

fn failure(msg: &Envelope, f: MatchFailure) -> Envelope {
    msg.error_response(f.errnum, f.reason)
}

impl FluxionResource {
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

    fn log(&self, severity: u8, text: String) {
        self.broker.do_send(Log {
            severity,
            appname: self.name.clone(),
            msg: text,
        });
    }

    fn acquire(&mut self, ctx: &mut Context<Self>) {
        follow_acquire(&mut self.rpc, ctx.address().recipient());
    }

    /// Tell every `notify` stream the current up/down sets.
    fn notify_all(&self) {
        let Some(m) = self.matcher.as_ref() else {
            return;
        };
        let body = json!({"up": m.up(), "down": m.down()});
        for w in &self.watchers {
            self.send(w.response_json(&body));
        }
    }

    fn handle_request(&mut self, msg: Envelope) {
        let method = msg
            .topic
            .strip_prefix(NAME)
            .and_then(|m| m.strip_prefix('.'))
            .unwrap_or_default();
        if method == "disconnect" {
            let from = msg.route.last().cloned();
            self.watchers.retain(|w| w.route.last() != from.as_ref());
            return;
        }
        if let Some(rsp) = handle_common(&self.name, &self.probe, &msg) {
            return self.send(rsp);
        }
        if method == "notify" {
            if let Some(m) = &self.matcher {
                self.send(msg.response_json(&json!({"up": m.up(), "down": m.down()})));
            }
            self.watchers.push(msg);
            return;
        }
        let body = match msg.payload.is_empty() {
            true => Ok(json!({})),
            false => msg.json::<Value>(),
        };
        let rsp = match body {
            Ok(body) => match self.serve(method, body) {
                Some(Ok(body)) => msg.response_json(&body),
                Some(Err(f)) => failure(&msg, f),
                None => unknown_method(&msg),
            },
            Err(e) => malformed(&msg, e),
        };
        self.send(rsp);
    }

    /// Serve `method` with `body`, for the rpc and for [`LocalCall`] alike; `None` for a
    /// method this module does not have.
    fn serve(&mut self, method: &str, body: Value) -> Option<Result<Value, MatchFailure>> {
        fn parse<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, MatchFailure> {
            serde_json::from_value(body)
                .map_err(|e| MatchFailure::new(errno::EPROTO, format!("malformed request: {e}")))
        }
        let Some(m) = self.matcher.as_mut() else {
            return Some(Err(MatchFailure::new(
                errno::EAGAIN,
                "resource graph not loaded yet",
            )));
        };
        let done = |r: Result<(), MatchFailure>| r.map(|()| json!({}));
        Some(match method {
            "match" => parse::<MatchRequest>(body).and_then(|req| {
                m.run(&req, now())
                    .and_then(|rsp| serde_json::to_value(rsp).map_err(internal))
            }),
            "cancel" => parse::<JobidReq>(body).and_then(|req| done(m.cancel(req.jobid))),
            "update" => parse::<UpdateReq>(body).and_then(|req| done(m.update(req.jobid, &req.r))),
            "feasibility" => {
                parse::<JobspecReq>(body).and_then(|req| done(m.feasible(&req.jobspec, now())))
            }
            "status" => Ok(m.status()),
            "find" => parse::<FindReq>(body)
                .and_then(|req| m.find(&req.criteria))
                .map(|r| json!({ "R": r })),
            "info" => Ok(json!({
                "policy": self.opts.policy_name,
                "prune-filters": self.opts.traverser.prune_filters,
                "up": m.up(),
                "down": m.down(),
            })),
            _ => return None,
        })
    }

    /// R from `resource.acquire`: build the graph, or (after a reconnect) take the up set.
    fn on_resources(&mut self, r: Value, up: Option<String>) -> bool {
        if let Some(m) = self.matcher.as_mut() {
            return up.is_some_and(|up| m.set_up_only(&up).unwrap_or(false));
        }
        let built = Matcher::from_r(&r, &self.opts).map_err(|e| e.to_string());
        let built = built.and_then(|mut m| match up {
            Some(up) => m.set_up_only(&up).map(|_| m).map_err(|e| e.to_string()),
            None => Ok(m),
        });
        match built {
            Ok(m) => {
                self.log(LOG_INFO, format!("resource graph loaded (up {})", m.up()));
                self.matcher = Some(m);
                true
            }
            Err(e) => {
                self.log(LOG_ERR, format!("cannot build the graph from R: {e}"));
                false
            }
        }
    }
}

impl Actor for FluxionResource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.broker.do_send(Offer {
            name: LOCAL_ENDPOINT,
            owner: self.offer,
            endpoint: Box::new(LocalEndpoint {
                call: ctx.address().recipient(),
                matcher: ctx.address().recipient(),
            }),
        });
        if self.matcher.is_none() {
            self.acquire(ctx);
        }
    }
}

impl Handler<Deliver> for FluxionResource {
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

/// A request served in process (see `broker::local`): `method` as the rpc's, with its
/// body; the answer is the rpc's body or its error.
pub struct LocalCall {
    pub method: &'static str,
    pub body: Value,
}

impl Message for LocalCall {
    type Result = Result<Value, MatchFailure>;
}

/// A match served in process with the jobspec the queue manager already parsed: the
/// scheduling loop's hot path, with no JSON either way.
pub struct LocalMatch {
    pub jobid: i64,
    pub op: MatchOp,
    pub jobspec: Arc<Jobspec>,
}

impl Message for LocalMatch {
    type Result = Result<MatchResponse, MatchFailure>;
}

impl Handler<LocalMatch> for FluxionResource {
    type Result = Result<MatchResponse, MatchFailure>;

    fn handle(&mut self, call: LocalMatch, _: &mut Context<Self>) -> Self::Result {
        let _timing = self.probe.handling();
        let Some(m) = self.matcher.as_mut() else {
            return Err(MatchFailure::new(
                errno::EAGAIN,
                "resource graph not loaded yet",
            ));
        };
        m.run_parsed(call.jobid, call.op, &call.jobspec, now())
    }
}

/// The endpoints this module offers in process (see `broker::local`).
#[derive(Clone)]
pub struct LocalEndpoint {
    pub call: Recipient<LocalCall>,
    pub matcher: Recipient<LocalMatch>,
}

/// The name this module's [`LocalEndpoint`] is offered under.
pub const LOCAL_ENDPOINT: &str = NAME;

impl Handler<LocalCall> for FluxionResource {
    type Result = Result<Value, MatchFailure>;

    fn handle(&mut self, call: LocalCall, _: &mut Context<Self>) -> Self::Result {
        let _timing = self.probe.handling();
        self.serve(call.method, call.body).unwrap_or_else(|| {
            Err(MatchFailure::new(
                errno::ENOSYS,
                format!("unknown method {NAME}.{}", call.method),
            ))
        })
    }
}

impl Handler<Acquired> for FluxionResource {
    type Result = ();

    fn handle(&mut self, update: Acquired, ctx: &mut Context<Self>) {
        let changed = match update {
            Acquired::Resources { r, up } => {
                self.acquire_failures = 0;
                self.on_resources(r, up)
            }
            Acquired::Up(ranks) => self
                .matcher
                .as_mut()
                .is_some_and(|m| m.set_status(&ranks, true).unwrap_or(false)),
            Acquired::Down(ranks) => self
                .matcher
                .as_mut()
                .is_some_and(|m| m.set_status(&ranks, false).unwrap_or(false)),
            Acquired::Failed(text) => {
                if self.acquire_failures == 0 {
                    self.log(LOG_ERR, format!("resource.acquire: {text}; retrying"));
                }
                self.acquire_failures += 1;
                ctx.run_later(ACQUIRE_RETRY, |act, ctx| act.acquire(ctx));
                false
            }
        };
        if changed {
            self.notify_all();
        }
    }
}

impl Handler<Stop> for FluxionResource {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.broker.do_send(Withdraw {
            name: LOCAL_ENDPOINT,
            owner: self.offer,
        });
        for w in std::mem::take(&mut self.watchers) {
            self.send(w.error_response(errno::ENODATA, "sched-fluxion-resource unloaded"));
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}
