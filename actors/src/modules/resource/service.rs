//! The requests of the resource module: rank 0 serves them from its [`Inventory`], the
//! other ranks relay them.

use std::time::{SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use flux_proto::types::ResourceSet;
use flux_proto::{Envelope, errno};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DrainMode, Inventory, Resource, ResourceError};
use crate::modules::{handle_common, unknown_method};

#[derive(Deserialize)]
struct RegisterReq {
    rank: u32,
    #[serde(rename = "R", default)]
    r: Option<Value>,
}

#[derive(Deserialize)]
struct DrainReq {
    targets: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    mode: Option<DrainMode>,
}

#[derive(Deserialize)]
struct UndrainReq {
    targets: String,
    #[serde(default)]
    force: bool,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn malformed(msg: &Envelope, e: impl std::fmt::Display) -> Envelope {
    msg.error_response(errno::EPROTO, format!("malformed request: {e}"))
}

fn error_response(msg: &Envelope, e: &ResourceError) -> Envelope {
    let errnum = match e {
        ResourceError::AlreadyDrained(_) => errno::EEXIST,
        _ => errno::EINVAL,
    };
    msg.error_response(errnum, e.to_string())
}

impl Resource {
    pub(super) fn handle_request(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        let method = msg.topic.strip_prefix("resource.").unwrap_or_default();
        match method {
            "disconnect" => {
                let client = msg.route.last().cloned();
                self.subscribers
                    .retain(|s| s.route.last() != client.as_ref());
            }
            "register" if self.rank == 0 => self.handle_register(&msg, ctx),
            "status" | "drain" | "undrain" | "acquire" if self.rank != 0 => self.relay(msg, ctx),
            "status" | "drain" | "undrain" | "acquire" => {
                if self.inv.as_ref().and_then(Inventory::r).is_none() {
                    // R is still being assembled: answer once it is complete.
                    self.deferred.push(msg);
                } else {
                    self.serve(msg);
                }
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .unwrap_or_else(|| unknown_method(&msg));
                self.reply(rsp);
            }
        }
    }

    /// Forward a request to rank 0 and its answer back (not for streams).
    fn relay(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        if msg.is_streaming() {
            let rsp = msg.error_response(errno::EPROTO, "resource.acquire is served by rank 0");
            return self.reply(rsp);
        }
        let call = self.rpc.call(&msg.topic, 0, msg.payload.clone());
        ctx.spawn(call.into_actor(self).map(move |result, act, _| {
            let rsp = match result {
                Ok(rsp) => msg.response(rsp.payload),
                Err(e) => msg.error_response(e.errnum(), e.to_string()),
            };
            act.reply(rsp);
        }));
    }

    fn handle_register(&mut self, msg: &Envelope, ctx: &mut Context<Self>) {
        let req: RegisterReq = match msg.json() {
            Ok(req) => req,
            Err(e) => return self.reply(malformed(msg, e)),
        };
        let piece = match req.r.map(ResourceSet::from_value).transpose() {
            Ok(piece) => piece,
            Err(e) => return self.reply(msg.error_response(errno::EINVAL, e.to_string())),
        };
        match self.on_register(req.rank, piece, ctx) {
            Ok(()) => self.reply(msg.response_json(&json!({}))),
            Err(e) => self.reply(error_response(msg, &e)),
        }
    }

    /// A rank is up (rank 0 registers itself too).
    pub(super) fn on_register(
        &mut self,
        rank: u32,
        piece: Option<ResourceSet>,
        ctx: &mut Context<Self>,
    ) -> Result<(), ResourceError> {
        let Some(inv) = self.inv.as_mut() else {
            return Ok(());
        };
        // A configured R is complete from the start: write it when rank 0 registers.
        let first_r = inv.r().is_some() && rank == 0 && self.rank == 0;
        let completed = inv.register(rank, piece)?;
        if completed || first_r {
            self.commit_r(ctx);
        }
        // Announce first: deferred acquires then start from the current state.
        self.announce();
        if completed {
            for msg in std::mem::take(&mut self.deferred) {
                self.serve(msg);
            }
        }
        Ok(())
    }

    /// Serve a request that needs R (rank 0, R complete).
    fn serve(&mut self, msg: Envelope) {
        let Some(inv) = self.inv.as_mut() else { return };
        let topic = msg.topic.as_str();
        if matches!(topic, "resource.drain" | "resource.undrain") && !msg.is_owner() {
            let rsp = msg.error_response(errno::EPERM, "only the instance owner may do that");
            return self.reply(rsp);
        }
        let rsp = match topic {
            "resource.status" => msg.response_json(&inv.status()),
            "resource.drain" => match msg.json::<DrainReq>() {
                Ok(req) => {
                    let reason = req.reason.unwrap_or_default();
                    let result = inv.resolve(&req.targets).and_then(|ranks| {
                        inv.drain(&ranks, &reason, req.mode.unwrap_or_default(), now())
                    });
                    match result {
                        Ok(()) => msg.response_json(&json!({})),
                        Err(e) => error_response(&msg, &e),
                    }
                }
                Err(e) => malformed(&msg, e),
            },
            "resource.undrain" => match msg.json::<UndrainReq>() {
                Ok(req) => match inv
                    .resolve(&req.targets)
                    .and_then(|ranks| inv.undrain(&ranks, req.force))
                {
                    Ok(()) => msg.response_json(&json!({})),
                    Err(e) => error_response(&msg, &e),
                },
                Err(e) => malformed(&msg, e),
            },
            "resource.acquire" if !msg.is_streaming() => {
                msg.error_response(errno::EPROTO, "resource.acquire is a streaming rpc")
            }
            "resource.acquire" => {
                let r = inv.r().map(ResourceSet::to_value);
                let up = inv.available();
                let rsp = msg.response_json(&json!({ "resources": r, "up": up.to_string() }));
                self.subscribers.push(msg);
                self.reply(rsp);
                return;
            }
            _ => unknown_method(&msg),
        };
        self.reply(rsp);
        self.announce();
    }

    /// Brokers were lost (`overlay.lost {ranks}`): their resources go offline.
    pub(super) fn on_ranks_lost(&mut self, msg: &Envelope) {
        let ranks = msg.json::<serde_json::Value>().ok().and_then(|v| {
            v.get("ranks")?
                .as_str()
                .and_then(|r| flux_proto::types::IdSet::parse(r).ok())
        });
        if let (Some(ranks), Some(inv)) = (ranks, self.inv.as_mut()) {
            inv.set_offline(&ranks);
            self.announce();
        }
    }

    /// Tell the schedulers which ranks became usable or unusable since last time.
    fn announce(&mut self) {
        let Some(inv) = self.inv.as_ref() else { return };
        if inv.r().is_none() {
            return;
        }
        let now = inv.available();
        let up = now.difference(&self.announced);
        let down = self.announced.difference(&now);
        // New subscribers got the current set in their first response; every subscriber
        // has seen `announced` plus what follows.
        for (key, ranks) in [("up", up), ("down", down)] {
            if ranks.is_empty() {
                continue;
            }
            let body = json!({ key: ranks.to_string() });
            for sub in &self.subscribers {
                self.reply(sub.response_json(&body));
            }
        }
        self.announced = now;
    }
}
