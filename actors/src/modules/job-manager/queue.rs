//! The queues' switches (`flux queue enable|disable|start|stop|status|drain|idle`):
//! whether submissions are accepted and whether jobs are scheduled, for the single
//! anonymous queue or for each named queue of the configuration (RFC 33).

use std::collections::BTreeMap;

use flux_proto::{Envelope, errno};
use serde::Deserialize;
use serde_json::{Value, json};

/// One queue's switches.
#[derive(Debug, Clone)]
struct Switches {
    submit_enabled: bool,
    submit_reason: String,
    sched_started: bool,
    sched_reason: String,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            submit_enabled: true,
            submit_reason: String::new(),
            sched_started: true,
            sched_reason: String::new(),
        }
    }
}

/// The state of the queues: the anonymous one (named `""`) or the configured ones.
#[derive(Debug)]
pub struct QueueState {
    queues: BTreeMap<String, Switches>,
    /// `queue-drain` requests waiting for no active jobs.
    drain_waiters: Vec<Envelope>,
    /// `queue-idle` requests waiting for no running jobs.
    idle_waiters: Vec<Envelope>,
}

impl Default for QueueState {
    fn default() -> Self {
        QueueState::new(Vec::new())
    }
}

#[derive(Deserialize, Default)]
struct Request {
    #[serde(default)]
    reason: String,
    /// The queue to act on (named queues only).
    name: Option<String>,
    /// Act on every queue.
    #[serde(default)]
    all: bool,
}

impl QueueState {
    /// The queues `names` (none: the anonymous queue), all enabled and started.
    pub fn new(names: Vec<String>) -> Self {
        let mut queues: BTreeMap<String, Switches> = names
            .into_iter()
            .map(|n| (n, Switches::default()))
            .collect();
        if queues.is_empty() {
            queues.insert(String::new(), Switches::default());
        }
        QueueState {
            queues,
            drain_waiters: Vec::new(),
            idle_waiters: Vec::new(),
        }
    }

    fn switches(&self, queue: Option<&str>) -> Option<&Switches> {
        self.queues.get(queue.unwrap_or(""))
    }

    /// Whether a job of `queue` may be submitted; the error says why not.
    pub fn check_submit(&self, queue: Option<&str>) -> Result<(), String> {
        match self.switches(queue) {
            Some(s) if s.submit_enabled => Ok(()),
            Some(s) => {
                let what = match queue {
                    Some(q) => format!("job submission to queue {q} is disabled"),
                    None => "job submission is disabled".to_string(),
                };
                Err(match s.submit_reason.as_str() {
                    "" => what,
                    reason => format!("{what}: {reason}"),
                })
            }
            // Ingest assigns configured queues only; a stale one is not accepted either.
            None => Err(format!("queue '{}' does not exist", queue.unwrap_or(""))),
        }
    }

    /// Whether jobs of `queue` are scheduled now. A queue with no switches (a job from
    /// before the configuration changed) is not held: the scheduler decides about it.
    pub fn sched_started(&self, queue: Option<&str>) -> bool {
        self.switches(queue).is_none_or(|s| s.sched_started)
    }

    /// The queues a request names: one, or all of them (`all`, or the anonymous queue).
    fn selected(&self, req: &Request, change: bool) -> Result<Vec<String>, String> {
        let named = !self.queues.contains_key("");
        match (&req.name, req.all) {
            (Some(q), _) if !self.queues.contains_key(q) => Err(match named {
                true => format!("queue '{q}' does not exist"),
                false => format!("queue '{q}' does not exist: no queues are configured"),
            }),
            (Some(q), _) => Ok(vec![q.clone()]),
            (None, false) if named && change => {
                Err("named queues are configured: name a queue or use --all".into())
            }
            (None, _) => Ok(self.queues.keys().cloned().collect()),
        }
    }

    /// Serve a `job-manager.queue-*` request; `None` when the answer must wait
    /// (drain/idle), to come from [`QueueState::settle`].
    pub fn handle(&mut self, msg: &Envelope, active: usize, running: usize) -> Option<Envelope> {
        let req = msg.json::<Request>().unwrap_or_default();
        let method = msg.topic.trim_start_matches("job-manager.queue-");
        if method != "status" && !msg.is_owner() {
            return Some(
                msg.error_response(errno::EPERM, "only the instance owner may change the queue"),
            );
        }
        let change = matches!(method, "enable" | "disable" | "start" | "stop");
        let selected = match method {
            "drain" | "idle" => Vec::new(),
            _ => match self.selected(&req, change) {
                Ok(names) => names,
                Err(text) => return Some(msg.error_response(errno::EINVAL, text)),
            },
        };
        for name in &selected {
            let s = self.queues.get_mut(name).expect("selected queues exist");
            let reason = req.reason.clone();
            match method {
                "enable" => (s.submit_enabled, s.submit_reason) = (true, String::new()),
                "disable" => (s.submit_enabled, s.submit_reason) = (false, reason),
                "start" => (s.sched_started, s.sched_reason) = (true, String::new()),
                "stop" => (s.sched_started, s.sched_reason) = (false, reason),
                _ => {}
            }
        }
        match method {
            "status" | "enable" | "disable" | "start" | "stop" => {}
            "drain" if active > 0 => {
                self.drain_waiters.push(msg.clone());
                return None;
            }
            "idle" if running > 0 => {
                self.idle_waiters.push(msg.clone());
                return None;
            }
            "drain" | "idle" => return Some(msg.response_json(&json!({}))),
            _ => {
                return Some(
                    msg.error_response(errno::ENOSYS, format!("unknown method {}", msg.topic)),
                );
            }
        }
        Some(msg.response_json(&self.status(&selected)))
    }

    /// `{queues: [{name, enable, disable_reason, start, stop_reason}]}`, the anonymous
    /// queue with a null name.
    fn status(&self, names: &[String]) -> Value {
        let queues: Vec<Value> = names
            .iter()
            .filter_map(|n| self.queues.get_key_value(n))
            .map(|(name, s)| {
                json!({
                    "name": (!name.is_empty()).then_some(name),
                    "enable": s.submit_enabled,
                    "disable_reason": s.submit_reason,
                    "start": s.sched_started,
                    "stop_reason": s.sched_reason,
                })
            })
            .collect();
        json!({ "queues": queues })
    }

    /// Whether anyone waits for drain or idle (so the counts need checking).
    pub fn has_waiters(&self) -> bool {
        !self.drain_waiters.is_empty() || !self.idle_waiters.is_empty()
    }

    /// Answers for drain/idle waiters whose condition now holds.
    pub fn settle(&mut self, active: usize, running: usize) -> Vec<Envelope> {
        let mut done = Vec::new();
        if active == 0 {
            done.extend(
                self.drain_waiters
                    .drain(..)
                    .map(|m| m.response_json(&json!({}))),
            );
        }
        if running == 0 {
            done.extend(
                self.idle_waiters
                    .drain(..)
                    .map(|m| m.response_json(&json!({}))),
            );
        }
        done
    }

    /// Forget waiters of a client that went away.
    pub fn disconnect(&mut self, sender: Option<&String>) {
        self.drain_waiters.retain(|r| r.route.last() != sender);
        self.idle_waiters.retain(|r| r.route.last() != sender);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use flux_proto::role;

    fn req(method: &str, body: &str, rolemask: u32) -> Envelope {
        let mut msg = Envelope::request(
            format!("job-manager.queue-{method}"),
            0,
            Bytes::from(body.to_string()),
        );
        msg.rolemask = rolemask;
        msg
    }

    #[test]
    fn enable_disable_start_stop() {
        let mut q = QueueState::default();
        q.handle(
            &req("disable", r#"{"reason":"maintenance"}"#, role::OWNER),
            0,
            0,
        );
        assert_eq!(
            q.check_submit(None).unwrap_err(),
            "job submission is disabled: maintenance"
        );
        let rsp = q.handle(&req("status", "{}", role::USER), 0, 0).unwrap();
        let body: Value = rsp.json().unwrap();
        assert_eq!(body["queues"][0]["disable_reason"], "maintenance");
        assert_eq!(body["queues"][0]["name"], Value::Null);
        let rsp = q.handle(&req("stop", "{}", role::USER), 0, 0).unwrap();
        assert_eq!(rsp.errnum, errno::EPERM);
        q.handle(&req("stop", "{}", role::OWNER), 0, 0);
        assert!(!q.sched_started(None));
        q.handle(&req("enable", "{}", role::OWNER), 0, 0);
        q.handle(&req("start", "{}", role::OWNER), 0, 0);
        assert!(q.check_submit(None).is_ok() && q.sched_started(None));
        let rsp = q
            .handle(&req("stop", r#"{"name":"batch"}"#, role::OWNER), 0, 0)
            .unwrap();
        assert_eq!(rsp.errnum, errno::EINVAL);
    }

    #[test]
    fn named_queues_switch_one_at_a_time_or_all() {
        let mut q = QueueState::new(vec!["batch".into(), "debug".into()]);
        let rsp = q.handle(&req("stop", "{}", role::OWNER), 0, 0).unwrap();
        assert_eq!(rsp.errnum, errno::EINVAL, "a queue or --all is needed");
        q.handle(
            &req("stop", r#"{"name":"debug","reason":"x"}"#, role::OWNER),
            0,
            0,
        );
        assert!(q.sched_started(Some("batch")) && !q.sched_started(Some("debug")));
        q.handle(
            &req("disable", r#"{"all":true,"reason":"down"}"#, role::OWNER),
            0,
            0,
        );
        assert_eq!(
            q.check_submit(Some("batch")).unwrap_err(),
            "job submission to queue batch is disabled: down"
        );
        assert!(q.check_submit(Some("nosuch")).is_err());
        assert!(q.check_submit(None).is_err(), "no anonymous queue");
        let rsp = q.handle(&req("status", "{}", role::USER), 0, 0).unwrap();
        let body: Value = rsp.json().unwrap();
        assert_eq!(body["queues"].as_array().unwrap().len(), 2);
        assert_eq!(body["queues"][1]["name"], "debug");
        assert_eq!(body["queues"][1]["stop_reason"], "x");
        let rsp = q
            .handle(&req("status", r#"{"name":"gpu"}"#, role::USER), 0, 0)
            .unwrap();
        assert_eq!(rsp.errnum, errno::EINVAL);
    }

    #[test]
    fn drain_and_idle_wait_for_their_condition() {
        let mut q = QueueState::default();
        assert!(q.handle(&req("drain", "{}", role::OWNER), 2, 1).is_none());
        assert!(q.handle(&req("idle", "{}", role::OWNER), 2, 1).is_none());
        assert!(q.settle(2, 1).is_empty());
        assert_eq!(q.settle(1, 0).len(), 1, "idle: nothing running");
        assert_eq!(q.settle(0, 0).len(), 1, "drain: nothing active");
        assert!(q.handle(&req("drain", "{}", role::OWNER), 0, 0).is_some());
    }
}
