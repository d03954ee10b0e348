//! The services the broker answers itself: `attr`, `config`, `log`, `event`, `module`,
//! `broker`.

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::{Envelope, errno, flags};
use serde::Deserialize;
use serde_json::json;

use super::{Broker, LOG_INFO};
use crate::modules::handle_common;
use crate::tracer::Snapshot;

/// A request's outcome: a JSON body, an error, or nothing yet (streams, deferred replies).
enum Reply {
    Json(serde_json::Value),
    Error(i32, String),
    Later,
}

fn invalid(e: serde_json::Error) -> Reply {
    Reply::Error(errno::EPROTO, format!("malformed request: {e}"))
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct SetAttr {
    name: String,
    value: Option<String>,
}

#[derive(Deserialize)]
struct Topic {
    topic: String,
}

#[derive(Deserialize)]
struct PublishReq {
    topic: String,
    #[serde(default)]
    flags: u32,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct LogAppend {
    #[serde(default = "default_severity")]
    severity: u8,
    #[serde(default = "default_appname")]
    appname: String,
    msg: String,
}

fn default_severity() -> u8 {
    LOG_INFO
}

fn default_appname() -> String {
    "logger".into()
}

#[derive(Deserialize, Default)]
struct Dmesg {
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    nobacklog: bool,
}

#[derive(Deserialize)]
struct ModuleLoad {
    name: String,
    #[serde(default)]
    args: Vec<String>,
}

/// Topics only the instance owner may use.
const OWNER_ONLY: &[&str] = &[
    "attr.set",
    "attr.rm",
    "log.clear",
    "module.load",
    "module.remove",
    "broker.shutdown",
    "broker.dashboard",
];

impl Broker {
    /// Serve `msg` if it is for a built-in service; give it back otherwise.
    pub(super) fn handle_builtin(
        &mut self,
        msg: Envelope,
        ctx: &mut Context<Self>,
    ) -> Option<Envelope> {
        if !matches!(
            msg.service(),
            "attr" | "config" | "log" | "event" | "module" | "broker" | "overlay"
        ) {
            return Some(msg);
        }
        self.trace.served_locally(self.rank, &msg);
        if OWNER_ONLY.contains(&msg.topic.as_str()) && !msg.is_owner() {
            self.answer(
                &msg,
                Reply::Error(errno::EPERM, "only the instance owner may do this".into()),
            );
            return None;
        }
        let reply = match msg.topic.as_str() {
            "attr.get" => self.attr_get(&msg),
            "attr.set" => self.attr_set(&msg),
            "attr.rm" => match msg.json::<Named>() {
                Ok(req) => attr_result(self.attrs.unset(&req.name)),
                Err(e) => invalid(e),
            },
            "attr.list" => Reply::Json(json!({
                "attrs": self.attrs.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()
            })),
            "config.get" => Reply::Json(self.config.conf.to_json()),
            "log.append" => match msg.json::<LogAppend>() {
                Ok(req) => {
                    self.log(req.severity.min(7), &req.appname, req.msg);
                    Reply::Json(json!({}))
                }
                Err(e) => invalid(e),
            },
            "log.dmesg" => self.dmesg(&msg),
            "log.clear" => {
                self.log.clear();
                Reply::Json(json!({}))
            }
            "log.disconnect" => {
                let sender = msg.route.last().cloned();
                self.log_followers
                    .retain(|req| req.route.last() != sender.as_ref());
                Reply::Later
            }
            "event.publish" => match msg.json::<PublishReq>() {
                Ok(req) => {
                    let payload = Bytes::from(req.payload.unwrap_or_default());
                    let seq = self.publish(&req.topic, payload, req.flags & flags::PRIVATE != 0);
                    Reply::Json(json!({ "seq": seq }))
                }
                Err(e) => invalid(e),
            },
            "event.subscribe" | "event.unsubscribe" => {
                match (msg.json::<Topic>(), msg.route.last()) {
                    (Ok(req), Some(sender)) => {
                        if msg.topic == "event.subscribe" {
                            self.subs.subscribe(sender, &req.topic);
                        } else {
                            self.subs.unsubscribe(sender, &req.topic);
                        }
                        Reply::Json(json!({}))
                    }
                    (Err(e), _) => invalid(e),
                    (_, None) => Reply::Error(errno::EPROTO, "request has no sender".into()),
                }
            }
            "module.list" => Reply::Json(json!({ "mods": self.modules.rows() })),
            "module.load" => match msg.json::<ModuleLoad>() {
                Ok(req) => match self.load_module(&req.name, req.args, ctx) {
                    Ok(()) => Reply::Json(json!({})),
                    Err(e) => Reply::Error(errno::ENOENT, e),
                },
                Err(e) => invalid(e),
            },
            "module.remove" => match msg.json::<Named>() {
                Ok(req) => match self.remove_module(&req.name) {
                    Ok(stop) => {
                        stop.do_send(crate::msg::Stop);
                        Reply::Json(json!({}))
                    }
                    Err(e) => Reply::Error(errno::ENOENT, e),
                },
                Err(e) => invalid(e),
            },
            "module.stats" => self.module_stats(&msg),
            "broker.ping" => match handle_common("broker", &self.probe, &msg) {
                Some(rsp) => {
                    self.respond(rsp);
                    Reply::Later
                }
                None => Reply::Error(errno::EPROTO, "malformed ping".into()),
            },
            "broker.state" => Reply::Json(json!({
                "state": self.state.name(),
                "uptime": self.started.elapsed().as_secs_f64(),
                "owner": self.owner,
            })),
            "broker.actors" => return self.actors(msg, ctx),
            "broker.trace" => {
                self.trace_request(msg, ctx);
                return None;
            }
            "broker.dashboard" => {
                self.dashboard_request(msg);
                return None;
            }
            "overlay.status" => Reply::Json(self.overlay_status()),
            "broker.shutdown" => {
                self.answer(&msg, Reply::Json(json!({})));
                self.shutdown(0, ctx);
                Reply::Later
            }
            _ => Reply::Error(errno::ENOSYS, format!("unknown method {}", msg.topic)),
        };
        self.answer(&msg, reply);
        None
    }

    fn answer(&mut self, req: &Envelope, reply: Reply) {
        if req.is_noresponse() {
            return;
        }
        match reply {
            Reply::Json(body) => self.respond(req.response_json(&body)),
            Reply::Error(errnum, text) => self.respond(req.error_response(errnum, text)),
            Reply::Later => {}
        }
    }

    fn attr_get(&self, msg: &Envelope) -> Reply {
        match msg.json::<Named>() {
            Ok(req) => match self.attrs.get(&req.name) {
                Ok(value) => Reply::Json(json!({ "value": value })),
                Err(e) => Reply::Error(e.errnum(), e.to_string()),
            },
            Err(e) => invalid(e),
        }
    }

    fn attr_set(&mut self, msg: &Envelope) -> Reply {
        match msg.json::<SetAttr>() {
            Ok(SetAttr {
                name,
                value: Some(value),
            }) => {
                if name == "tracer.sample"
                    && let Err(e) = self.set_sample(&value)
                {
                    return Reply::Error(errno::EINVAL, e);
                }
                let result = self.attrs.set(&name, value.clone());
                if result.is_ok() && name == "log-stderr-level" {
                    self.stderr_level = value.parse().unwrap_or(self.stderr_level);
                }
                attr_result(result)
            }
            Ok(SetAttr { name, value: None }) => attr_result(self.attrs.unset(&name)),
            Err(e) => invalid(e),
        }
    }

    fn dmesg(&mut self, msg: &Envelope) -> Reply {
        if !msg.is_streaming() {
            return Reply::Error(errno::EPROTO, "log.dmesg is a streaming rpc".into());
        }
        let req: Dmesg = msg.json().unwrap_or_default();
        if !req.nobacklog {
            let backlog: Vec<Envelope> = self.log.iter().map(|e| msg.response_json(e)).collect();
            for rsp in backlog {
                self.respond(rsp);
            }
        }
        if req.follow {
            self.log_followers.push(msg.clone());
            Reply::Later
        } else {
            Reply::Error(errno::ENODATA, String::new())
        }
    }

    /// A module's counters, from its probe.
    fn module_stats(&self, msg: &Envelope) -> Reply {
        let name = match msg.json::<Named>() {
            Ok(req) => req.name,
            Err(e) => return invalid(e),
        };
        let Some(record) = self.modules.get(&name) else {
            return Reply::Error(errno::ENOENT, format!("{name}: module is not loaded"));
        };
        let snap = record.probe.snapshot();
        Reply::Json(json!({
            "name": name,
            "args": record.args,
            "services": record.services,
            "msgs_in": snap.msgs_in,
            "msgs_out": snap.msgs_out,
            "mailbox": snap.mailbox,
            "handle_mean_us": snap.handle_mean_us,
            "handle_max_us": snap.handle_max_us,
            "idle_s": snap.idle_s,
            "uptime_s": snap.uptime_s,
        }))
    }

    /// Every actor's counters on this rank (for tools and, later, the dashboard).
    fn actors(&mut self, msg: Envelope, ctx: &mut Context<Self>) -> Option<Envelope> {
        let snapshot = self.tracer.send(Snapshot {
            rank: Some(self.rank),
        });
        ctx.spawn(snapshot.into_actor(self).map(move |result, act, _| {
            let reply = match result {
                Ok(actors) => Reply::Json(json!({ "actors": actors })),
                Err(e) => Reply::Error(errno::EIO, format!("tracer: {e}")),
            };
            act.answer(&msg, reply);
        }));
        None
    }
}

fn attr_result(result: Result<(), super::AttrError>) -> Reply {
    match result {
        Ok(()) => Reply::Json(json!({})),
        Err(e) => Reply::Error(e.errnum(), e.to_string()),
    }
}
