//! The Broker actor: one per rank. It owns the attributes, the service table, event
//! sequencing and subscriptions, the log ring and the module supervisor, routes every
//! message between endpoints, and runs the instance's life: load modules, run the initial
//! program, shut down when it exits.

pub mod attrs;
mod builtin;
pub mod conf;
pub mod config;
pub mod local;
pub mod logring;
pub mod parent;
mod route;
pub mod services;
mod supervisor;
mod trace;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::{Envelope, flags};

pub use attrs::{AttrError, Attrs};
pub use conf::{Conf, ConfError};
pub use config::{BrokerConfig, BrokerDir, VERSION, default_modules, default_modules_for};
use logring::{LogEntry, LogRing, SEVERITY_NAMES};
use services::{ServiceTable, Subscriptions};
use supervisor::{ModuleRecord, Supervisor};

use crate::connector::Connector;
use crate::modules::{self, ModuleArgs, ModuleContext};
use crate::msg::{Attach, Deliver, Detach, Endpoint, Log, Publish, Stop};
use crate::overlay::{self, OverlayConfig, Topology, link_id, link_rank};
use crate::runat::{self, Program};
use crate::tracer::{Probe, Register, Tracer};

/// Severity of informational log entries.
const LOG_INFO: u8 = 6;
/// Severity of errors.
const LOG_ERR: u8 = 3;

/// Where the broker is in its life (`flux uptime` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerState {
    Init,
    /// Waiting for the tree below (and the parent) to come up.
    Quorum,
    Run,
    Cleanup,
    Shutdown,
    Finalize,
}

impl BrokerState {
    /// The name Flux uses.
    pub fn name(self) -> &'static str {
        match self {
            BrokerState::Init => "init",
            BrokerState::Quorum => "quorum",
            BrokerState::Run => "run",
            BrokerState::Cleanup => "cleanup",
            BrokerState::Shutdown => "shutdown",
            BrokerState::Finalize => "finalize",
        }
    }
}

/// An endpoint attached to this broker and the services it has sent requests to (they are
/// told when it goes away).
struct Attached {
    endpoint: Endpoint,
    used: HashSet<String>,
}

/// One broker.
pub struct Broker {
    rank: u32,
    attrs: Attrs,
    state: BrokerState,
    started: Instant,
    owner: u32,
    services: ServiceTable,
    endpoints: HashMap<String, Attached>,
    subs: Subscriptions,
    event_seq: u32,
    log: LogRing,
    /// Streaming `log.dmesg` requests waiting for new entries.
    log_followers: Vec<Envelope>,
    stderr_level: u8,
    modules: Supervisor,
    tracer: Addr<Tracer>,
    probe: Probe,
    /// The sampled ring of routed messages.
    trace: trace::BrokerTrace,
    /// The dashboard's address, once it serves.
    dashboard: Option<std::net::SocketAddr>,
    /// Typed endpoints modules offer each other (see `local`).
    local: HashMap<&'static str, (u64, Box<dyn std::any::Any + Send>)>,
    connector: Option<Addr<Connector>>,
    listener: Option<std::os::unix::net::UnixListener>,
    rundir: BrokerDir,
    statedir: BrokerDir,
    config: BrokerConfig,
    topo: Topology,
    /// Taken when the broker starts.
    overlay: Option<OverlayConfig>,
    /// Children whose whole subtree is up.
    children_ready: HashSet<u32>,
    /// The pid of the running initial program.
    /// The initial program's pid, negated when it leads its own process group.
    rc2_pid: Option<i32>,
    exit_code: i32,
}

/// Why a broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Attr(#[from] AttrError),
    #[error("cannot create {what} {path}: {source}")]
    Dir {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {path}: {source}")]
    Listen {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Topology(#[from] overlay::TopoError),
    #[error("{0}")]
    Trace(String),
}

impl Broker {
    /// Prepare directories and the local socket, then start the broker actor. Must be
    /// called inside an actix `System`; the system stops with the instance's exit code.
    pub fn launch(
        config: BrokerConfig,
        overlay: Option<OverlayConfig>,
        tracer: Addr<Tracer>,
    ) -> Result<Addr<Broker>, StartError> {
        let owner = unsafe_getuid();
        let mut attrs = config::initial_attrs(&config, owner, std::process::id())?;
        let trace = trace::from_attrs(&attrs).map_err(StartError::Trace)?;
        let topo = match overlay.as_ref().and_then(|o| o.topology.clone()) {
            Some(topo) => topo,
            None => Topology::parse(config.size, attrs.get("tbon.topo").unwrap_or("kary:32"))?,
        };
        config::tree_attrs(&mut attrs, &topo, config.rank, overlay.as_ref());
        let dir = |what, given: Option<&str>| {
            BrokerDir::prepare(given).map_err(|source| StartError::Dir {
                what,
                path: given.unwrap_or("in $TMPDIR").to_string(),
                source,
            })
        };
        let rundir = dir("rundir", attrs.get("rundir").ok())?;
        let statedir = dir("statedir", attrs.get("statedir").ok())?;
        let local_uri = match attrs.get("local-uri") {
            Ok(uri) => uri.to_string(),
            Err(_) => format!("local://{}/local-{}", rundir.path.display(), config.rank),
        };
        let socket = local_uri
            .strip_prefix("local://")
            .unwrap_or(&local_uri)
            .to_string();
        let _ = std::fs::remove_file(&socket);
        // bind() makes the path appear before listen() runs: a client connecting in
        // between is refused. Listen under another name, then rename into place.
        let pending = format!("{socket}.tmp");
        let listener = std::os::unix::net::UnixListener::bind(&pending)
            .and_then(|l| std::fs::rename(&pending, &socket).map(|()| l))
            .map_err(|source| {
                let _ = std::fs::remove_file(&pending);
                rundir.cleanup();
                statedir.cleanup();
                StartError::Listen {
                    path: socket.clone(),
                    source,
                }
            })?;
        config::finish_attrs(&mut attrs, &rundir.path, &statedir.path, &local_uri);
        let ring_size = attrs
            .get("log-ring-size")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1024);
        let stderr_level = attrs
            .get("log-stderr-level")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(LOG_ERR);
        let probe = Probe::new("broker", "broker", config.rank);
        tracer.do_send(Register(probe.clone()));
        Ok(Broker {
            rank: config.rank,
            attrs,
            state: BrokerState::Init,
            started: Instant::now(),
            owner,
            services: ServiceTable::default(),
            endpoints: HashMap::new(),
            subs: Subscriptions::default(),
            event_seq: 0,
            log: LogRing::new(ring_size),
            log_followers: Vec::new(),
            stderr_level,
            modules: Supervisor::default(),
            tracer,
            probe,
            trace,
            dashboard: None,
            local: HashMap::new(),
            connector: None,
            listener: Some(listener),
            rundir,
            statedir,
            config,
            topo,
            overlay,
            children_ready: HashSet::new(),
            rc2_pid: None,
            exit_code: 0,
        }
        .start())
    }

    /// Append to the log ring, echo to stderr if severe enough, feed `dmesg -f` followers.
    fn log(&mut self, severity: u8, appname: &str, msg: impl Into<String>) {
        let entry = self.log.append(LogEntry {
            seq: 0,
            timestamp: config::now(),
            rank: self.rank,
            severity,
            appname: appname.to_string(),
            msg: msg.into(),
        });
        if severity <= self.stderr_level {
            let level = SEVERITY_NAMES
                .get(usize::from(severity))
                .unwrap_or(&"debug");
            eprintln!("{}.{}[{}]: {}", entry.appname, level, entry.rank, entry.msg);
        }
        let followers = std::mem::take(&mut self.log_followers);
        for req in &followers {
            self.respond(req.response_json(&entry));
        }
        self.log_followers = followers;
    }

    /// Sequence and publish an event (rank 0 only); returns its sequence number.
    fn publish(&mut self, topic: &str, payload: Bytes, private: bool) -> u32 {
        self.event_seq += 1;
        let mut event = Envelope::event(topic, self.event_seq, payload);
        if private {
            event.flags |= flags::PRIVATE;
        }
        self.distribute_event(event);
        self.event_seq
    }

    /// Hand an event to local subscribers and to every child, which do the same.
    fn distribute_event(&mut self, event: Envelope) {
        self.event_seq = self.event_seq.max(event.seq);
        for child in self.topo.children(self.rank) {
            self.deliver(&link_id(child), event.clone());
        }
        let targets: Vec<String> = self
            .subs
            .matching(&event.topic)
            .map(str::to_string)
            .collect();
        for id in targets {
            self.deliver(&id, event.clone());
        }
    }

    /// Send a request toward another rank (or upstream) through the link to the next hop.
    fn forward(&mut self, msg: Envelope, hop: u32) {
        let id = link_id(hop);
        if self.endpoints.contains_key(&id) {
            self.deliver(&id, msg);
        } else {
            let text = format!(
                "no route to rank {}: rank {hop} is not connected",
                msg.nodeid
            );
            self.refuse(msg, flux_proto::errno::EHOSTUNREACH, text);
        }
    }

    /// This broker's view of its children for `flux overlay status`: `full` (subtree up),
    /// `partial` (connected, subtree still joining), `offline` (not connected).
    fn overlay_status(&self) -> serde_json::Value {
        let hosts: Vec<&str> = self
            .attrs
            .get("hostlist")
            .unwrap_or_default()
            .split(',')
            .collect();
        let children: Vec<serde_json::Value> = self
            .topo
            .children(self.rank)
            .map(|child| {
                let state = if self.children_ready.contains(&child) {
                    "full"
                } else if self.endpoints.contains_key(&link_id(child)) {
                    "partial"
                } else {
                    "offline"
                };
                let host = hosts.get(child as usize).copied().unwrap_or_default();
                serde_json::json!({ "rank": child, "state": state, "host": host })
            })
            .collect();
        serde_json::json!({
            "rank": self.rank,
            "size": self.topo.size(),
            "hostname": self.attrs.get("hostname").unwrap_or_default(),
            "state": self.state.name(),
            "children": children,
        })
    }

    /// A link came up or a child reported its subtree complete: when the whole subtree is
    /// up, tell the parent, or (at the root) start the initial program.
    fn check_quorum(&mut self, ctx: &mut Context<Self>) {
        if self.state != BrokerState::Quorum {
            return;
        }
        let expected = self.topo.children(self.rank).count();
        if self.children_ready.len() < expected {
            return;
        }
        match self.topo.parent(self.rank) {
            None => self.enter_run(ctx),
            Some(parent) if self.endpoints.contains_key(&link_id(parent)) => {
                let mut ready = Envelope::request("overlay.ready", parent, Bytes::new());
                ready.msg_type = flux_proto::MsgType::Control as i32;
                self.deliver(&link_id(parent), ready);
                self.state = BrokerState::Run;
            }
            Some(_) => {}
        }
    }

    /// Hand a message to an attached endpoint.
    fn deliver(&mut self, id: &str, msg: Envelope) {
        if let Some(att) = self.endpoints.get(id) {
            att.endpoint.probe.queued();
            self.probe.sent();
            self.trace.deliver(self.rank, id, &msg);
            att.endpoint.deliver.do_send(Deliver(msg));
        }
    }

    /// Load a module by name; its name becomes its route id and service.
    fn load_module(
        &mut self,
        name: &str,
        args: Vec<String>,
        ctx: &mut Context<Self>,
    ) -> Result<(), String> {
        let spec = modules::find(name).ok_or_else(|| format!("{name}: no such module"))?;
        if self.modules.contains(name) {
            return Err(format!("{name}: module is already loaded"));
        }
        let probe = Probe::new(name, "module", self.rank);
        let handle = (spec.start)(ModuleContext {
            name: name.to_string(),
            args: ModuleArgs::parse(&args),
            rank: self.rank,
            attrs: self.attrs.clone(),
            conf: self.config.conf.clone(),
            broker: ctx.address(),
            probe: probe.clone(),
        })?;
        let mut services = vec![name.to_string()];
        services.extend(spec.services.iter().map(|s| s.to_string()));
        for service in &services {
            if let Err(e) = self.services.add(service, name) {
                self.services.remove_endpoint(name);
                handle.stop.do_send(Stop);
                return Err(e);
            }
        }
        self.tracer.do_send(Register(probe.clone()));
        self.endpoints.insert(
            name.to_string(),
            Attached {
                endpoint: Endpoint {
                    deliver: handle.deliver,
                    probe: probe.clone(),
                },
                used: HashSet::new(),
            },
        );
        self.modules.insert(
            name,
            ModuleRecord {
                args,
                services,
                probe,
                stop: handle.stop,
                loaded: Instant::now(),
            },
        );
        self.log(LOG_INFO, "broker", format!("module {name} loaded"));
        Ok(())
    }

    /// Unload a module: drop its services now, let its actor finish.
    fn remove_module(&mut self, name: &str) -> Result<Recipient<Stop>, String> {
        let record = self
            .modules
            .remove(name)
            .ok_or_else(|| format!("{name}: module is not loaded"))?;
        self.detach(name);
        self.log(LOG_INFO, "broker", format!("module {name} removed"));
        Ok(record.stop)
    }

    /// Forget an endpoint; tell the services it used that it is gone.
    fn detach(&mut self, id: &str) {
        let Some(att) = self.endpoints.remove(id) else {
            return;
        };
        self.services.remove_endpoint(id);
        self.subs.remove_endpoint(id);
        self.log_followers
            .retain(|req| req.route.last().map(String::as_str) != Some(id));
        for service in att.used {
            if let Some(target) = self.services.lookup(&service).map(str::to_string) {
                let mut msg =
                    Envelope::request(format!("{service}.disconnect"), self.rank, Bytes::new());
                msg.flags |= flags::NORESPONSE;
                msg.route.push(id.to_string());
                msg.rolemask = flux_proto::role::OWNER;
                msg.userid = self.owner;
                self.deliver(&target, msg);
            }
        }
    }

    /// rc1 is done: run the initial program (rc2) unless told not to.
    fn enter_run(&mut self, ctx: &mut Context<Self>) {
        self.state = BrokerState::Run;
        if self.rank != 0 || self.attrs.get("broker.rc2_none").is_ok() {
            return;
        }
        let argv = match &self.config.initial_program {
            Some(argv) if !argv.is_empty() => argv.clone(),
            _ => vec![std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".to_string())],
        };
        let uri = self.attrs.get("local-uri").unwrap_or_default().to_string();
        let own_group = self.attrs.get("parent-uri").is_ok();
        match runat::spawn(&Program {
            argv: argv.clone(),
            uri,
            own_group,
        }) {
            Ok(child) => {
                // A negative pid signals the program's whole process group.
                self.rc2_pid = child.id().map(|pid| match own_group {
                    true => -(pid as i32),
                    false => pid as i32,
                });
                ctx.spawn(runat::wait(child).into_actor(self).map(|code, act, ctx| {
                    act.rc2_pid = None;
                    act.shutdown(code, ctx);
                }));
            }
            Err(err) => {
                eprintln!(
                    "flux-start: {}",
                    flux_shell::exit::spawn_error_message(&argv[0], &err)
                );
                self.shutdown(flux_shell::exit::spawn_error_code(&err), ctx);
            }
        }
    }

    /// Stop the instance: unload modules (reverse order), close the connector, remove our
    /// directories, and stop the system with `code`.
    fn shutdown(&mut self, code: i32, ctx: &mut Context<Self>) {
        if matches!(self.state, BrokerState::Shutdown | BrokerState::Finalize) {
            return;
        }
        self.exit_code = code;
        self.state = BrokerState::Shutdown;
        for child in self.topo.children(self.rank) {
            let mut bye = Envelope::request("overlay.shutdown", child, Bytes::new());
            bye.msg_type = flux_proto::MsgType::Control as i32;
            self.deliver(&link_id(child), bye);
        }
        self.log(LOG_INFO, "broker", format!("shutdown: exit code {code}"));
        let stops: Vec<_> = self
            .modules
            .unload_order()
            .iter()
            .filter_map(|name| self.remove_module(name).ok())
            .map(|stop| stop.send(Stop))
            .collect();
        self.state = BrokerState::Finalize;
        let connector = self.connector.take();
        ctx.spawn(
            async move {
                for stop in stops {
                    let _ = stop.await;
                }
                if let Some(connector) = connector {
                    let _ = connector.send(Stop).await;
                }
            }
            .into_actor(self)
            .map(|_, act, _| {
                if let Ok(uri) = act.attrs.get("local-uri") {
                    let _ = std::fs::remove_file(uri.trim_start_matches("local://"));
                }
                act.rundir.cleanup();
                act.statedir.cleanup();
                if act.config.owns_process {
                    System::current().stop_with_code(act.exit_code);
                }
            }),
        );
    }
}

fn unsafe_getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

impl Actor for Broker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(listener) = self.listener.take() {
            match Connector::start_on(
                listener,
                ctx.address(),
                self.owner,
                self.rank,
                self.tracer.clone(),
            ) {
                Ok(addr) => self.connector = Some(addr),
                Err(e) => {
                    eprintln!("fluxd: local connector: {e}");
                    self.shutdown(1, ctx);
                    return;
                }
            }
        }
        self.log(
            LOG_INFO,
            "broker",
            format!("rank {} starting, owner {}", self.rank, self.owner),
        );
        for (name, args) in self.config.modules.clone() {
            if let Err(e) = self.load_module(&name, args, ctx) {
                self.log(LOG_ERR, "broker", format!("rc1: {e}"));
                self.shutdown(1, ctx);
                return;
            }
        }
        if self.rank == 0
            && let Ok(bind) = self.attrs.get("dashboard").map(str::to_string)
            && let Err(e) = self.start_dashboard(&bind)
        {
            self.log(LOG_ERR, "broker", format!("rc1: {e}"));
            self.shutdown(1, ctx);
            return;
        }
        self.state = BrokerState::Quorum;
        if let Some(overlay) = self.overlay.take() {
            let (rank, me) = (self.rank, ctx.address());
            if let Some(listener) = overlay.listener
                && let Err(e) = overlay::serve_children(
                    listener,
                    overlay.key.clone(),
                    rank,
                    me.clone(),
                    self.tracer.clone(),
                )
            {
                self.log(LOG_ERR, "overlay", format!("cannot accept children: {e}"));
                self.shutdown(1, ctx);
                return;
            }
            if let (Some(addr), Some(parent)) = (overlay.parent, self.topo.parent(rank)) {
                overlay::connect_parent(addr, parent, overlay.key, rank, me, self.tracer.clone());
            }
        }
        self.check_quorum(ctx);
    }
}

impl Handler<Attach> for Broker {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: Attach, ctx: &mut Context<Self>) -> Self::Result {
        for service in &msg.services {
            self.services.add(service, &msg.id)?;
        }
        let peer = link_rank(&msg.id);
        self.endpoints.insert(
            msg.id,
            Attached {
                endpoint: msg.endpoint,
                used: HashSet::new(),
            },
        );
        if peer.is_some() && peer == self.topo.parent(self.rank) {
            self.check_quorum(ctx);
        }
        Ok(())
    }
}

impl Handler<Detach> for Broker {
    type Result = ();

    fn handle(&mut self, msg: Detach, ctx: &mut Context<Self>) {
        let mut parent_lost = false;
        if let Some(peer) = link_rank(&msg.id)
            && self.endpoints.contains_key(&msg.id)
            && !matches!(self.state, BrokerState::Shutdown | BrokerState::Finalize)
        {
            self.log(
                LOG_ERR,
                "overlay",
                format!("lost connection to rank {peer}"),
            );
            self.children_ready.remove(&peer);
            parent_lost = Some(peer) == self.topo.parent(self.rank);
            if !parent_lost {
                self.announce_lost(peer, ctx);
            }
        }
        self.detach(&msg.id);
        if parent_lost {
            // Without its parent a broker is cut off from the instance: it leaves.
            self.shutdown(1, ctx);
        }
    }
}

impl Broker {
    /// A child and everything below it are cut off: tell the instance (`overlay.lost`).
    fn announce_lost(&mut self, child: u32, ctx: &mut Context<Self>) {
        let mut lost = vec![child];
        let mut i = 0;
        while i < lost.len() {
            lost.extend(self.topo.children(lost[i]));
            i += 1;
        }
        lost.sort_unstable();
        let ranks: Vec<String> = lost.iter().map(u32::to_string).collect();
        let payload = serde_json::json!({ "ranks": ranks.join(",") }).to_string();
        ctx.notify(Publish {
            topic: "overlay.lost".into(),
            payload: Bytes::from(payload),
            private: false,
        });
    }
}

impl Handler<Log> for Broker {
    type Result = ();

    fn handle(&mut self, msg: Log, _: &mut Context<Self>) {
        self.log(msg.severity, &msg.appname, msg.msg);
    }
}

impl Handler<Publish> for Broker {
    type Result = ();

    fn handle(&mut self, msg: Publish, _: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.trace.begin_from("broker");
        if self.rank == 0 {
            self.publish(&msg.topic, msg.payload, msg.private);
        } else {
            // Only rank 0 sequences events: hand it up as an event.publish request.
            let body = serde_json::json!({
                "topic": msg.topic,
                "flags": if msg.private { flags::PRIVATE } else { 0 },
                "payload": String::from_utf8_lossy(&msg.payload),
            });
            if let Ok(mut req) = Envelope::request_json("event.publish", 0, &body) {
                req.flags |= flags::NORESPONSE;
                req.rolemask = flux_proto::role::OWNER;
                req.userid = self.owner;
                if let Some(hop) = self.topo.next_hop(self.rank, 0) {
                    self.forward(req, hop);
                }
            }
        }
        self.trace.end();
    }
}

/// The parent could not be joined: this broker cannot be part of the instance.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ParentUnreachable(pub String);

impl Handler<ParentUnreachable> for Broker {
    type Result = ();

    fn handle(&mut self, ParentUnreachable(why): ParentUnreachable, ctx: &mut Context<Self>) {
        self.log(2, "overlay", why);
        self.shutdown(1, ctx);
    }
}

/// A signal the daemon received.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Signal(pub i32);

impl Handler<Signal> for Broker {
    type Result = ();

    fn handle(&mut self, Signal(signum): Signal, ctx: &mut Context<Self>) {
        match self.rc2_pid {
            // The terminal already sent SIGINT to the initial program (same process group).
            Some(pid) if signum == libc::SIGINT && pid > 0 => {}
            Some(pid) => {
                // SAFETY: kill has no memory preconditions; pid is our live child (or,
                // negative, its process group).
                unsafe { libc::kill(pid as libc::pid_t, signum) };
            }
            None => {
                self.log(
                    LOG_INFO,
                    "broker",
                    format!("signal {signum}: shutting down"),
                );
                self.shutdown(128 + signum, ctx);
            }
        }
    }
}
