//! `resource`: the instance's resource inventory. Loaded on every rank; rank 0 holds the
//! [`Inventory`] and serves the requests, the other ranks report what they have.
//!
//! R comes from `-Sresource.path=FILE` (an R JSON file, e.g. to simulate a big machine);
//! or, in an instance that runs as a job of another (`parent-uri` and `jobid` set), from
//! the parent job's R (`job.<id>.R` in the parent's KVS), each rank taking its node of it,
//! so the instance never schedules anything outside its parent job's resources; or else
//! from hwloc discovery on each rank (`-Sresource.hwloc-xml=FILE` or
//! `HWLOC_XMLFILE` simulate a machine), sent to rank 0 with `resource.register`. Once R is
//! complete it is written to the KVS key `resource.R`.
//!
//! | topic (rank 0) | request | response |
//! |---|---|---|
//! | `resource.register` | `{rank, R?}` | `{}` |
//! | `resource.status` | `{}` | `{R, online, offline, exclude, drain: {IDSET: {timestamp, reason}}}` |
//! | `resource.drain` | `{targets, reason?, mode?: overwrite\|force-overwrite\|update}` | `{}` (EEXIST if drained) |
//! | `resource.undrain` | `{targets, force?}` | `{}` (EINVAL if not drained) |
//! | `resource.acquire` | streaming, `{}` | `{resources: R, up: IDSET}`, then `{up}` / `{down}` as ranks change |
//!
//! Requests that need R wait until it is complete. On other ranks, `status`, `drain` and
//! `undrain` are relayed to rank 0.

mod inventory;
mod service;

use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::{IdSet, ResourceSet};
use flux_proto::{Envelope, MsgType, errno};
use serde_json::json;

pub use inventory::{DrainInfo, DrainMode, Inventory, ResourceError};

use super::{ModuleContext, ModuleHandle, RpcClient};
use crate::broker::Broker;
use crate::broker::parent::{ParentJob, node_for_rank};
use crate::msg::{Deliver, Log, Route, Stop};
use crate::tracer::Probe;

/// How often and how long a rank retries reaching rank 0 while the tree comes up.
const REGISTER_RETRY: Duration = Duration::from_millis(20);
const REGISTER_TRIES: u32 = 3000;

/// The resource module's actor.
pub struct Resource {
    name: String,
    rank: u32,
    broker: Addr<Broker>,
    probe: Probe,
    rpc: RpcClient,
    /// What this rank reports: its discovered R, `None` when R is configured.
    piece: Option<ResourceSet>,
    /// Set until this rank's resources are discovered.
    discovery: Option<Discovery>,
    /// Rank 0 only.
    inv: Option<Inventory>,
    /// Requests waiting for R to be complete.
    deferred: Vec<Envelope>,
    /// Open `resource.acquire` streams.
    subscribers: Vec<Envelope>,
    /// The available ranks last announced to subscribers.
    announced: IdSet,
    tries: u32,
}

/// Read and parse the R file of `resource.path`.
fn read_r(path: &str) -> Result<ResourceSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("resource: {path}: {e}"))?;
    ResourceSet::parse(&text).map_err(|e| format!("resource: {path}: invalid R: {e}"))
}

/// What this rank has, by hwloc (from an XML file when `resource.hwloc-xml` is set).
fn discover(xml: Option<&str>, rank: u32, hostname: &str) -> Result<ResourceSet, String> {
    let machine = match xml {
        Some(path) => crate::hwloc::from_xml_file(std::path::Path::new(path)),
        None => crate::hwloc::host(),
    }
    .map_err(|e| format!("resource: {e}"))?;
    Ok(machine.to_resource_set(rank, hostname))
}

/// Where a rank finds its resources once started.
enum Discovery {
    /// hwloc: an XML file or this host, and the host name.
    Hwloc(Option<String>, String),
    /// The enclosing instance's job R; rank 0 also publishes this instance's URI there.
    Parent(ParentJob, Option<String>),
}

impl Discovery {
    fn run(self, rank: u32) -> Result<ResourceSet, String> {
        match self {
            Discovery::Hwloc(xml, host) => discover(xml.as_deref(), rank, &host),
            Discovery::Parent(parent, uri) => from_parent(&parent, rank, uri.as_deref()),
        }
    }
}

/// This rank's node of the parent job's R (rpcs on a private runtime: this runs on the
/// discovery thread).
fn from_parent(parent: &ParentJob, rank: u32, uri: Option<&str>) -> Result<ResourceSet, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("resource: {e}"))?;
    rt.block_on(async {
        let h = parent.connect().await?;
        let r = parent.r(&h).await?;
        if let Some(uri) = uri {
            parent.publish_uri(&h, uri).await?;
        }
        node_for_rank(&r, rank)
    })
    .map_err(|e| format!("resource: {e}"))
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.clone().finish("resource")?;
    let size = ctx
        .attrs
        .get("size")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let owner = ctx
        .attrs
        .get("security.owner")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let hostname = ctx.attrs.get("hostname").unwrap_or("localhost").to_string();
    // `-Sresource.path`, else the configuration's `[resource] path` (flux-config-resource).
    let path = match (
        ctx.attrs.get("resource.path"),
        ctx.conf.get("resource.path"),
    ) {
        (Ok(path), _) => Some(path.to_string()),
        (Err(_), None) => None,
        (Err(_), Some(serde_json::Value::String(path))) => Some(path.clone()),
        (Err(_), Some(_)) => return Err("resource: config: resource.path: not a string".into()),
    };
    let configured = match path {
        Some(path) if ctx.rank == 0 => Some(read_r(&path)?),
        Some(_) => Some(ResourceSet::new()),
        None => None,
    };
    let parent = ParentJob::from_attrs(&ctx.attrs)
        .transpose()
        .map_err(|e| format!("resource: {e}"))?;
    // Discovery (tens of ms) happens on a plain thread once started, not here on the
    // broker's thread, so that the instance is usable at once.
    let discovery = configured.is_none().then(|| match parent {
        Some(parent) => Discovery::Parent(
            parent,
            (ctx.rank == 0)
                .then(|| ctx.attrs.get("local-uri").ok().map(str::to_string))
                .flatten(),
        ),
        None => Discovery::Hwloc(
            ctx.attrs.get("resource.hwloc-xml").ok().map(str::to_string),
            hostname.clone(),
        ),
    });
    let inv = (ctx.rank == 0).then(|| match configured {
        Some(r) => Inventory::configured(r, size),
        None => Inventory::discovered(size),
    });
    let addr = Resource {
        rpc: RpcClient::new(ctx.name.clone(), owner, ctx.broker.clone()),
        name: ctx.name,
        rank: ctx.rank,
        broker: ctx.broker,
        probe: ctx.probe,
        piece: None,
        discovery,
        inv,
        deferred: Vec::new(),
        subscribers: Vec::new(),
        announced: IdSet::new(),
        tries: 0,
    }
    .start();
    Ok(ModuleHandle {
        deliver: addr.clone().recipient(),
        stop: addr.recipient(),
    })
}

impl Resource {
    fn send(&self, msg: Envelope) {
        self.probe.sent();
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg,
        });
    }

    fn reply(&self, msg: Envelope) {
        if !msg.is_noresponse() {
            self.send(msg);
        }
    }

    fn log(&self, severity: u8, msg: String) {
        self.broker.do_send(Log {
            severity,
            appname: self.name.clone(),
            msg,
        });
    }

    /// A rank > 0 tells rank 0 it is up (retrying while the tree is still joining).
    fn register_upstream(&mut self, ctx: &mut Context<Self>) {
        let body = json!({
            "rank": self.rank,
            "R": self.piece.as_ref().map(ResourceSet::to_value),
        });
        let call = self
            .rpc
            .call("resource.register", 0, Bytes::from(body.to_string()));
        ctx.spawn(call.into_actor(self).map(|result, act, ctx| {
            let Err(e) = result else { return };
            let retry = matches!(
                e.errnum(),
                errno::EHOSTUNREACH | errno::ENOSYS | errno::EAGAIN
            );
            if retry && act.tries < REGISTER_TRIES {
                act.tries += 1;
                ctx.run_later(REGISTER_RETRY, |act, ctx| act.register_upstream(ctx));
            } else {
                act.log(3, format!("cannot register with rank 0: {e}"));
            }
        }));
    }

    /// Write R to the KVS; a missing kvs module only costs the key.
    fn commit_r(&mut self, ctx: &mut Context<Self>) {
        let Some(r) = self.inv.as_ref().and_then(Inventory::r) else {
            return;
        };
        let mut txn = flux_store::Txn::new();
        txn.put("resource.R", r.to_json().into_bytes());
        let ops = match txn.to_json() {
            Ok(ops) => ops,
            Err(e) => return self.log(3, format!("cannot encode resource.R: {e}")),
        };
        let body = json!({ "namespace": "primary", "flags": 0, "ops": ops });
        let call = self.rpc.call(
            "kvs.commit",
            flux_proto::nodeid::ANY,
            Bytes::from(body.to_string()),
        );
        ctx.spawn(call.into_actor(self).map(|result, act, _| {
            if let Err(e) = result {
                act.log(6, format!("resource.R not written to the KVS: {e}"));
            }
        }));
    }
}

impl Actor for Resource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if self.rank == 0 {
            // Brokers that go away take their resources offline with them.
            let body = Bytes::from_static(br#"{"topic":"overlay.lost"}"#);
            self.rpc.notify("event.subscribe", self.rank, body);
        }
        match self.discovery.take() {
            Some(discovery) => {
                let (me, rank) = (ctx.address(), self.rank);
                // A plain thread, not the runtime's blocking pool: an instance that is
                // already done need not wait for discovery to finish before it exits.
                let spawned = std::thread::Builder::new()
                    .name("hwloc-discovery".into())
                    .spawn(move || me.do_send(Discovered(discovery.run(rank))));
                if let Err(e) = spawned {
                    self.log(2, format!("resource: cannot start discovery: {e}"));
                }
            }
            None => self.join(ctx),
        }
    }
}

/// This rank's resources, as hwloc found them.
#[derive(Message)]
#[rtype(result = "()")]
struct Discovered(Result<ResourceSet, String>);

impl Handler<Discovered> for Resource {
    type Result = ();

    fn handle(&mut self, Discovered(found): Discovered, ctx: &mut Context<Self>) {
        match found {
            Ok(piece) => {
                self.piece = Some(piece);
                self.join(ctx);
            }
            Err(e) => self.log(2, e),
        }
    }
}

impl Resource {
    /// Register this rank's resources: with itself on rank 0, upstream elsewhere.
    fn join(&mut self, ctx: &mut Context<Self>) {
        if self.rank == 0 {
            let piece = self.piece.clone();
            if let Err(e) = self.on_register(0, piece, ctx) {
                self.log(3, format!("rank 0: {e}"));
            }
        } else {
            self.register_upstream(ctx);
        }
    }
}

impl Handler<Deliver> for Resource {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.kind() == MsgType::Response {
            self.rpc.on_response(msg);
        } else if msg.kind() == MsgType::Request {
            self.handle_request(msg, ctx);
        } else if msg.kind() == MsgType::Event && msg.topic == "overlay.lost" {
            self.on_ranks_lost(&msg);
        }
    }
}

impl Handler<Stop> for Resource {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        for req in self.subscribers.drain(..).chain(self.deferred.drain(..)) {
            let rsp = req.error_response(errno::ECANCELED, "resource module unloaded");
            self.probe.sent();
            self.broker.do_send(Route {
                from: self.name.clone(),
                msg: rsp,
            });
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}

#[cfg(test)]
mod acquire_tests;
