//! `kvs`: the key-value store (spec/kvs.md), serving three services from one actor over
//! one sled database under the statedir (`<statedir>/content.sled`):
//!
//! - `kvs.*`: commit, lookup, getroot, namespace-create/remove/list, dropcache;
//! - `kvs-watch.*`: streaming lookups (watch, wait-for-create, append streaming), cancel;
//! - `content.*`: load/store of raw blobs, flush, dropcache.
//!
//! Commits queue up while the mailbox holds more requests, then apply as one merged commit
//! per namespace; acknowledgements wait for a sled flush run on a blocking thread, one at a
//! time, so concurrent commits share flushes (group commit) and the actor never waits on
//! the disk. Logic lives in [`core::KvsCore`]; this actor only performs its effects.
//!
//! Arguments: `blob-size-limit=BYTES`. Attributes read: `statedir`, `content.hash`,
//! `security.owner`.

mod content;
pub mod core;
pub mod error;
mod sync;
pub mod watch;
pub mod wire;

use actix::prelude::*;
use flux_proto::Envelope;
use flux_store::{ContentConfig, ContentStore, HashAlg, Kvs, KvsConfig, open_db};

use super::{ModuleContext, ModuleHandle, handle_common};
use crate::broker::Broker;
use crate::msg::{Deliver, Publish, Route, Stop};
use crate::tracer::Probe;
use core::{Effect, KvsCore};
use sync::GroupSync;

/// The store crate, for clients that build transactions and decode tree objects.
pub use flux_store as store;

/// The route id of a request's originator (the first hop pushed on its route stack).
pub(crate) fn sender(msg: &Envelope) -> &str {
    msg.route.first().map(String::as_str).unwrap_or("")
}

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
    ctx.args.finish("kvs")?;
    if let Ok(name) = ctx.attrs.get("content.hash") {
        config.hash = HashAlg::from_name(name).map_err(|e| format!("kvs: {e}"))?;
    }
    let owner = ctx
        .attrs
        .get("security.owner")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let path = ctx
        .attrs
        .get("statedir")
        .ok()
        .map(|dir| std::path::Path::new(dir).join("content.sled"));
    let kvs = open_db(path.as_deref())
        .and_then(|db| ContentStore::open(&db, config))
        .and_then(|content| {
            Kvs::open(
                content,
                KvsConfig {
                    owner,
                    ..KvsConfig::default()
                },
            )
        })
        .map_err(|e| format!("kvs: cannot open the store: {e}"))?;
    let addr = KvsModule {
        name: ctx.name,
        core: KvsCore::new(kvs),
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
        self.start_flush(ctx);
    }

    /// Flush on a blocking thread if responses wait and no flush runs; when it completes,
    /// send what it covered and start the next one.
    fn start_flush(&mut self, ctx: &mut Context<Self>) {
        if !self.sync.begin() {
            return;
        }
        let content = self.core.kvs().content().clone();
        let flush = actix_rt::task::spawn_blocking(move || content.flush());
        ctx.spawn(flush.into_actor(self).map(|outcome, act, ctx| {
            let outcome = match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            for rsp in act.sync.complete(outcome) {
                act.send(rsp);
            }
            act.start_flush(ctx);
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
        let flushed = self.core.kvs().content().flush().map_err(|e| e.to_string());
        for rsp in self.sync.drain(flushed) {
            self.send(rsp);
        }
        ctx.stop();
    }
}
