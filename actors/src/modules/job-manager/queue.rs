//! The queue's switches (`flux queue enable|disable|start|stop|status|drain|idle`):
//! whether submissions are accepted and whether jobs are scheduled.

use flux_proto::{Envelope, errno};
use serde::Deserialize;
use serde_json::json;

use super::core::Effect;

/// The state of the (single, anonymous) queue.
#[derive(Debug)]
pub struct QueueState {
    submit_enabled: bool,
    submit_reason: String,
    sched_started: bool,
    sched_reason: String,
    /// `queue-drain` requests waiting for no active jobs.
    drain_waiters: Vec<Envelope>,
    /// `queue-idle` requests waiting for no running jobs.
    idle_waiters: Vec<Envelope>,
}

impl Default for QueueState {
    fn default() -> Self {
        QueueState {
            submit_enabled: true,
            submit_reason: String::new(),
            sched_started: true,
            sched_reason: String::new(),
            drain_waiters: Vec::new(),
            idle_waiters: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
struct Reason {
    #[serde(default)]
    reason: String,
}

impl QueueState {
    pub fn submit_enabled(&self) -> bool {
        self.submit_enabled
    }

    pub fn sched_started(&self) -> bool {
        self.sched_started
    }

    /// The error a submission gets while submission is disabled.
    pub fn submit_disabled_text(&self) -> String {
        if self.submit_reason.is_empty() {
            "job submission is disabled".into()
        } else {
            format!("job submission is disabled: {}", self.submit_reason)
        }
    }

    /// Serve a `job-manager.queue-*` request; `None` when the answer must wait
    /// (drain/idle), to come from [`QueueState::settle`].
    pub fn handle(
        &mut self,
        msg: &Envelope,
        active: usize,
        running: usize,
        _out: &mut Vec<Effect>,
    ) -> Option<Envelope> {
        let reason = msg.json::<Reason>().unwrap_or_default().reason;
        let method = msg.topic.trim_start_matches("job-manager.queue-");
        if method != "status" && !msg.is_owner() {
            return Some(
                msg.error_response(errno::EPERM, "only the instance owner may change the queue"),
            );
        }
        match method {
            "status" => {}
            "enable" => (self.submit_enabled, self.submit_reason) = (true, String::new()),
            "disable" => (self.submit_enabled, self.submit_reason) = (false, reason),
            "start" => (self.sched_started, self.sched_reason) = (true, String::new()),
            "stop" => (self.sched_started, self.sched_reason) = (false, reason),
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
        Some(msg.response_json(&self.status()))
    }

    fn status(&self) -> serde_json::Value {
        json!({
            "enable": self.submit_enabled,
            "disable_reason": self.submit_reason,
            "start": self.sched_started,
            "stop_reason": self.sched_reason,
        })
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
        let mut out = Vec::new();
        q.handle(
            &req("disable", r#"{"reason":"maintenance"}"#, role::OWNER),
            0,
            0,
            &mut out,
        );
        assert!(!q.submit_enabled());
        assert_eq!(
            q.submit_disabled_text(),
            "job submission is disabled: maintenance"
        );
        let rsp = q
            .handle(&req("status", "{}", role::USER), 0, 0, &mut out)
            .unwrap();
        let body: serde_json::Value = rsp.json().unwrap();
        assert_eq!(body["disable_reason"], "maintenance");
        let rsp = q
            .handle(&req("stop", "{}", role::USER), 0, 0, &mut out)
            .unwrap();
        assert_eq!(rsp.errnum, errno::EPERM);
        q.handle(&req("stop", "{}", role::OWNER), 0, 0, &mut out);
        assert!(!q.sched_started());
        q.handle(&req("enable", "{}", role::OWNER), 0, 0, &mut out);
        q.handle(&req("start", "{}", role::OWNER), 0, 0, &mut out);
        assert!(q.submit_enabled() && q.sched_started());
    }

    #[test]
    fn drain_and_idle_wait_for_their_condition() {
        let mut q = QueueState::default();
        let mut out = Vec::new();
        assert!(
            q.handle(&req("drain", "{}", role::OWNER), 2, 1, &mut out)
                .is_none()
        );
        assert!(
            q.handle(&req("idle", "{}", role::OWNER), 2, 1, &mut out)
                .is_none()
        );
        assert!(q.settle(2, 1).is_empty());
        assert_eq!(q.settle(1, 0).len(), 1, "idle: nothing running");
        assert_eq!(q.settle(0, 0).len(), 1, "drain: nothing active");
        assert!(
            q.handle(&req("drain", "{}", role::OWNER), 0, 0, &mut out)
                .is_some()
        );
    }
}
