//! `kvs`: the key-value store (spec/kvs.md), serving three services from one actor over
//! one sled database under the statedir (`<statedir>/content.sled`):
//!
//! - `kvs.*`: commit, lookup, getroot, namespace-create/remove/list, dropcache;
//! - `kvs-watch.*`: streaming lookups (watch, wait-for-create, append streaming), cancel;
//! - `content.*`: load/store of raw blobs, flush, dropcache.
//!
//! Durability. Commits queue up while the mailbox holds more requests, then apply as one
//! merged commit per namespace. Each applied change is appended to a journal
//! (`<statedir>/kvs-journal/`, one `write`, no sync) before it is acknowledged: it then
//! survives the death of `fluxd`, `kill -9` included, and is replayed at the next start.
//! sled is flushed (a disk sync, milliseconds) on a blocking thread, one flush at a time:
//! every second while the journal grows, and for changes that must survive a machine
//! crash too (commits with `FLUX_KVS_SYNC`, `content.store`, `content.flush`, or all with
//! the module argument `sync`), whose acknowledgements wait for it; concurrent ones share
//! a flush (group commit). The actor never waits on the disk. Logic lives in
//! [`core::KvsCore`]; this actor only performs its effects.
//!
//! Arguments: `blob-size-limit=BYTES`, `sync`. Attributes read: `statedir`,
//! `content.hash`, `security.owner`.

mod content;
pub mod core;
pub mod error;
pub mod journal;
mod sync;
pub mod watch;
pub mod wire;

use std::path::Path;
use std::time::Duration;

use actix::prelude::*;
use flux_proto::Envelope;
use flux_store::{ContentConfig, ContentStore, HashAlg, Journal, Kvs, KvsConfig, open_db};

use super::{ModuleContext, ModuleHandle, handle_common};
use crate::broker::Broker;
use crate::msg::{Deliver, Log, Publish, Route, Stop};
use crate::tracer::Probe;
use core::{Effect, KvsCore};
use sync::GroupSync;

/// The store crate, for clients that build transactions and decode tree objects.
pub use flux_store as store;

/// The route id of a request's originator (the first hop pushed on its route stack).
pub(crate) fn sender(msg: &Envelope) -> &str {
    msg.route.first().map(String::as_str).unwrap_or("")
}

/// How often sled is flushed while the journal grows (bounds journal size and replay).
const CHECKPOINT_PERIOD: Duration = Duration::from_secs(1);
/// Journal bytes that trigger a flush before the period ends.
const CHECKPOINT_BYTES: u64 = 64 << 20;
/// Log severities (syslog levels).
const LOG_ERR: u8 = 3;
const LOG_INFO: u8 = 6;

/// The kvs module's actor.
pub struct KvsModule {
    name: String,
    core: KvsCore,
    sync: GroupSync,
    /// A [`ProcessCommits`] is in the mailbox.
    batch_scheduled: bool,
    broker: Addr<Broker>,
    probe: Probe,
}

/// Apply the commits queued so far (sent to self behind the requests already queued).
#[derive(Message)]
#[rtype(result = "()")]
struct ProcessCommits;

/// Start the module: open (or create) the database, restore the namespaces.
pub fn start(mut ctx: ModuleContext) -> Result<ModuleHandle, String> {
    let mut config = ContentConfig::default();
    if let Some(text) = ctx.args.take("blob-size-limit") {
        config.blob_size_limit = text
            .parse()
            .map_err(|_| format!("kvs: invalid blob-size-limit '{text}'"))?;
    }
    if let Ok(name) = ctx.attrs.get("content.hash") {
        config.hash = HashAlg::from_name(name).map_err(|e| format!("kvs: {e}"))?;
    }
    let owner = ctx
        .attrs
        .get("security.owner")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let always_sync = match ctx.args.take("sync").as_deref() {
        None | Some("0") => false,
        Some("" | "1") => true,
        Some(other) => return Err(format!("kvs: invalid sync '{other}' (0 or 1)")),
    };
    ctx.args.finish("kvs")?;
    let statedir = ctx.attrs.get("statedir").ok().map(Path::new);
    let (core, replayed) = open_core(statedir, config, owner, always_sync)
        .map_err(|e| format!("kvs: cannot open the store: {e}"))?;
    if let Some(stats) = replayed {
        ctx.broker.do_send(Log {
            severity: if stats.failed > 0 { LOG_ERR } else { LOG_INFO },
            appname: "kvs".into(),
            msg: format!(
                "journal replay: {} applied, {} already stored, {} failed",
                stats.applied, stats.skipped, stats.failed
            ),
        });
    }
    let addr = KvsModule {
        name: ctx.name,
        core,
        sync: GroupSync::default(),
        batch_scheduled: false,
        broker: ctx.broker,
        probe: ctx.probe,
    }
    .start();
    Ok(ModuleHandle {
        deliver: addr.clone().recipient(),
        stop: addr.recipient(),
    })
}

/// Open the database and journal under `statedir` (temporary ones without), replay the
/// journal into the database, flush, and drop the replayed generations.
fn open_core(
    statedir: Option<&Path>,
    config: ContentConfig,
    owner: u32,
    always_sync: bool,
) -> Result<(KvsCore, Option<journal::ReplayStats>), flux_store::StoreError> {
    let db = open_db(statedir.map(|d| d.join("content.sled")).as_deref())?;
    let kvs_config = KvsConfig {
        owner,
        ..KvsConfig::default()
    };
    let mut kvs = Kvs::open(ContentStore::open(&db, config)?, kvs_config)?;
    let Some(dir) = statedir else {
        return Ok((KvsCore::new(kvs), None));
    };
    let (journal, records) = Journal::open(&dir.join("kvs-journal"))?;
    let stats = (!records.is_empty()).then(|| journal::replay(&mut kvs, &records));
    kvs.sync()?;
    journal.remove_before(journal.generation())?;
    Ok((KvsCore::with_journal(kvs, journal, always_sync), stats))
}

impl KvsModule {
    fn send(&self, msg: Envelope) {
        self.probe.sent();
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg,
        });
    }

    fn perform(&mut self, effects: Vec<Effect>, ctx: &mut Context<Self>) {
        for effect in effects {
            match effect {
                Effect::Respond(rsp) => self.send(rsp),
                Effect::RespondDurable(rsp) => self.sync.push(rsp),
                Effect::Publish { topic, payload } => {
                    self.probe.sent();
                    self.broker.do_send(Publish {
                        topic,
                        payload,
                        private: true,
                    });
                }
            }
        }
        let force = self.core.journal_bytes() > CHECKPOINT_BYTES;
        self.start_flush(force, ctx);
    }

    /// Flush on a blocking thread if responses wait (or `force`) and no flush runs; when it
    /// completes, send what it covered, drop the journal it covered, and go on.
    fn start_flush(&mut self, force: bool, ctx: &mut Context<Self>) {
        if !self.sync.begin(force) {
            return;
        }
        // Everything journaled so far has been handed to sled (or to the store's writer,
        // which the flush drains first): this flush covers it.
        let generation = self.core.rotate_journal();
        let content = self.core.kvs().content().clone();
        let flush = actix_rt::task::spawn_blocking(move || content.flush());
        ctx.spawn(flush.into_actor(self).map(move |outcome, act, ctx| {
            let outcome = match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let (Ok(()), Some(g)) = (&outcome, generation)
                && let Err(e) = act.core.journal_flushed(g)
            {
                act.broker.do_send(Log {
                    severity: LOG_ERR,
                    appname: "kvs".into(),
                    msg: format!("cannot remove flushed journal: {e}"),
                });
            }
            for rsp in act.sync.complete(outcome) {
                act.send(rsp);
            }
            act.start_flush(false, ctx);
        }));
    }
}

impl KvsModule {
    /// `kvs.stats-get`: the actor's counters plus the store's.
    fn stats(&self, msg: &Envelope) -> Envelope {
        let mut body = serde_json::to_value(self.probe.snapshot()).unwrap_or_default();
        if let Some(obj) = body.as_object_mut() {
            obj.insert("flushes".into(), self.sync.flushes().into());
            obj.insert("watchers".into(), self.core.watch_count().into());
            obj.insert(
                "cached-dirs".into(),
                self.core.kvs().tree().cached_dirs().into(),
            );
        }
        msg.response_json(&body)
    }
}

impl Actor for KvsModule {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(CHECKPOINT_PERIOD, |act, ctx| {
            if act.core.journal_bytes() > 0 {
                act.start_flush(true, ctx);
            }
        });
    }
}

impl Handler<Deliver> for KvsModule {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.topic == "kvs.stats-get" {
            return self.send(self.stats(&msg));
        }
        if let Some(rsp) = handle_common(&self.name, &self.probe, &msg) {
            if !msg.is_noresponse() {
                self.send(rsp);
            }
            return;
        }
        let mut effects = Vec::new();
        self.core.handle(msg, &mut effects);
        if self.core.has_pending() && !self.batch_scheduled {
            self.batch_scheduled = true;
            ctx.address().do_send(ProcessCommits);
        }
        self.perform(effects, ctx);
    }
}

impl Handler<ProcessCommits> for KvsModule {
    type Result = ();

    fn handle(&mut self, _: ProcessCommits, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.batch_scheduled = false;
        let mut effects = Vec::new();
        self.core.process_commits(&mut effects);
        self.perform(effects, ctx);
    }
}

impl Handler<Stop> for KvsModule {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        // Queued commits are applied and everything is flushed before the actor goes.
        let mut effects = Vec::new();
        self.core.process_commits(&mut effects);
        for effect in effects {
            match effect {
                Effect::Respond(rsp) => self.send(rsp),
                Effect::RespondDurable(rsp) => self.sync.push(rsp),
                // The instance is going away: nobody is left to follow roots.
                Effect::Publish { .. } => {}
            }
        }
        let generation = self.core.rotate_journal();
        let flushed = self.core.kvs().content().flush().map_err(|e| e.to_string());
        if let (Ok(()), Some(g)) = (&flushed, generation) {
            // Best effort: a journal left behind is replayed (as no-ops) at the next start.
            let _ = self.core.journal_flushed(g);
        }
        for rsp in self.sync.drain(flushed) {
            self.send(rsp);
        }
        ctx.stop();
    }
}
