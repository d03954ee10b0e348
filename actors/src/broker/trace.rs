//! The broker's side of tracing: a sampled copy of the messages it routes goes into its
//! [`TraceRing`], and `broker.trace` reads the ring and the aggregated actor figures of this
//! rank. The hot-path cost for a message that is not sampled is one counter step (plus, while
//! sampled requests await their responses, one hash of a response's route).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use actix::prelude::*;
use flux_proto::{Envelope, MsgType, errno};
use serde_json::json;

use super::Broker;
use crate::tracer::{Sampler, Stats, TraceEntry, TraceFilter, TraceRing, jobs_of};

/// Default: keep every message (`-Stracer.sample=N` keeps one in N, 0 none).
pub const DEFAULT_SAMPLE: u32 = 1;
/// Default ring size per broker (`-Stracer.ring-size=N`).
pub const DEFAULT_RING: usize = 4096;
/// The dashboard's own gathering, which would crowd out everything else.
const UNTRACED: &[&str] = &["broker.trace", "overlay.status"];
/// Sampled requests awaiting their response, at most.
const MAX_PENDING: usize = 4096;

/// The tracing state of one broker.
pub(super) struct BrokerTrace {
    pub ring: TraceRing,
    pub sampler: Sampler,
    /// The message being routed is sampled: where it came from, its latency if a response.
    current: Option<(String, Option<f64>)>,
    /// Sampled requests by (route, matchtag), to time their responses.
    pending: HashMap<u64, Instant>,
}

impl BrokerTrace {
    pub fn new(sample: u32, ring: usize) -> Self {
        BrokerTrace {
            ring: TraceRing::new(ring),
            sampler: Sampler::new(sample),
            current: None,
            pending: HashMap::new(),
        }
    }

    /// A message from `from` is about to be routed: decide whether it is traced.
    #[inline]
    pub fn begin(&mut self, from: &str, msg: &Envelope) {
        if self.sampler.hit() && !UNTRACED.contains(&msg.topic.as_str()) {
            let mut latency = None;
            match msg.kind() {
                MsgType::Request if !msg.is_noresponse() => {
                    if self.pending.len() >= MAX_PENDING {
                        self.pending.clear();
                    }
                    self.pending.insert(route_key(msg), Instant::now());
                }
                MsgType::Response => latency = self.answered(msg),
                _ => {}
            }
            self.current = Some((from.to_string(), latency));
        } else if !self.pending.is_empty()
            && msg.kind() == MsgType::Response
            && let Some(latency) = self.answered(msg)
        {
            self.current = Some((from.to_string(), Some(latency)));
        }
    }

    /// Microseconds since the request of this response was sampled, if it was.
    fn answered(&mut self, rsp: &Envelope) -> Option<f64> {
        let t = self.pending.remove(&route_key(rsp))?;
        Some(t.elapsed().as_secs_f64() * 1e6)
    }

    /// The broker itself (as `from`) is about to send a message: decide whether it is traced.
    pub fn begin_from(&mut self, from: &str) {
        if self.sampler.hit() {
            self.current = Some((from.to_string(), None));
        }
    }

    /// Routing of the current message is over.
    #[inline]
    pub fn end(&mut self) {
        self.current = None;
    }

    /// The broker answers the current request itself: record it as delivered to "broker",
    /// and its response as coming from there.
    pub fn served_locally(&mut self, rank: u32, msg: &Envelope) {
        if self.current.is_some() {
            self.deliver(rank, "broker", msg);
            self.pending.remove(&route_key(msg));
            self.current = Some(("broker".into(), None));
        }
    }

    /// The current message goes to endpoint `to`: record it if traced.
    #[inline]
    pub fn deliver(&mut self, rank: u32, to: &str, msg: &Envelope) {
        let Some((from, latency)) = &self.current else {
            return;
        };
        let kind = match msg.kind() {
            MsgType::Request => "request",
            MsgType::Response => "response",
            MsgType::Event => "event",
            MsgType::Control => "control",
            MsgType::Unspecified => "unspecified",
        };
        let entry = TraceEntry {
            seq: 0,
            time: crate::broker::config::now(),
            rank,
            kind: kind.into(),
            topic: msg.topic.clone(),
            from: from.clone(),
            to: to.to_string(),
            size: msg.payload.len(),
            latency_us: if msg.kind() == MsgType::Response {
                *latency
            } else {
                None
            },
            jobs: jobs_of(&msg.payload),
            errnum: msg.errnum,
        };
        self.ring.push(entry);
    }
}

fn route_key(msg: &Envelope) -> u64 {
    let mut h = DefaultHasher::new();
    msg.route.hash(&mut h);
    msg.matchtag.hash(&mut h);
    h.finish()
}

impl Broker {
    /// `broker.trace`: this rank's actors (aggregated) and its trace entries after a cursor.
    pub(super) fn trace_request(&mut self, msg: Envelope, ctx: &mut Context<Self>) {
        let filter: TraceFilter = if msg.payload.is_empty() {
            TraceFilter::default()
        } else {
            match msg.json() {
                Ok(f) => f,
                Err(e) => {
                    let rsp = msg.error_response(errno::EPROTO, format!("malformed request: {e}"));
                    return self.respond(rsp);
                }
            }
        };
        let entries = self.trace.ring.read(&filter);
        let cursor = self.trace.ring.cursor();
        let sample = self.trace.sampler.every();
        let rank = self.rank;
        let stats = self.tracer.send(Stats { rank: Some(rank) });
        ctx.spawn(stats.into_actor(self).map(move |result, act, _| {
            let rsp = match result {
                Ok(actors) => msg.response_json(&json!({
                    "rank": rank,
                    "state": act.state.name(),
                    "cursor": cursor,
                    "sample": sample,
                    "entries": entries,
                    "actors": actors,
                })),
                Err(e) => msg.error_response(errno::EIO, format!("tracer: {e}")),
            };
            act.respond(rsp);
        }));
    }

    /// `tracer.sample` was set: sample one message in N from now on.
    pub(super) fn set_sample(&mut self, value: &str) -> Result<(), String> {
        let every: u32 = value
            .parse()
            .map_err(|_| format!("tracer.sample: expected a count, got '{value}'"))?;
        self.trace.sampler = Sampler::new(every);
        Ok(())
    }
}

/// Where the dashboard listens when `flux dashboard` starts it.
const DASHBOARD_DEFAULT: &str = "127.0.0.1:0";

#[derive(serde::Deserialize, Default)]
struct DashboardReq {
    bind: Option<String>,
}

impl Broker {
    /// Start the dashboard (rank 0 only) on `bind`; record its URL as `dashboard.uri`.
    pub(super) fn start_dashboard(&mut self, bind: &str) -> Result<String, String> {
        if let Some(addr) = self.dashboard {
            return Ok(crate::dashboard::url(addr));
        }
        let uri = self.attrs.get("local-uri").unwrap_or_default().to_string();
        let addr = crate::dashboard::serve(bind, &uri).map_err(|e| e.to_string())?;
        let url = crate::dashboard::url(addr);
        self.dashboard = Some(addr);
        self.attrs.set_readonly("dashboard.uri", url.clone());
        self.log(super::LOG_INFO, "dashboard", format!("serving {url}"));
        Ok(url)
    }

    /// `broker.dashboard`: the dashboard's URL, starting it if it is not running.
    pub(super) fn dashboard_request(&mut self, msg: Envelope) {
        let rsp = if self.rank != 0 {
            msg.error_response(errno::EINVAL, "the dashboard is served by rank 0")
        } else {
            let req: DashboardReq = msg.json().unwrap_or_default();
            let bind = req.bind.unwrap_or_else(|| DASHBOARD_DEFAULT.into());
            match self.start_dashboard(&bind) {
                Ok(url) => msg.response_json(&json!({ "uri": url })),
                Err(e) => msg.error_response(errno::EINVAL, e),
            }
        };
        self.respond(rsp);
    }
}

/// The tracing parameters from the broker attributes; a value that is not a number is
/// an error (as `flux setattr` says of it later), not the default.
pub(super) fn from_attrs(attrs: &super::Attrs) -> Result<BrokerTrace, String> {
    let get = |name: &str, default: u32| match attrs.get(name) {
        Err(_) => Ok(default),
        Ok(text) => text
            .parse::<u32>()
            .map_err(|_| format!("{name}: invalid value '{text}' (expected a number)")),
    };
    Ok(BrokerTrace::new(
        get("tracer.sample", DEFAULT_SAMPLE)?,
        get("tracer.ring-size", DEFAULT_RING as u32)? as usize,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn request(matchtag: u32) -> Envelope {
        let mut req = Envelope::request("job-manager.submit", 0, Bytes::from(r#"{"id":42}"#));
        req.matchtag = matchtag;
        req.route.push("session-1".into());
        req
    }

    #[test]
    fn a_sampled_request_times_its_response() {
        let mut t = BrokerTrace::new(2, 16);
        let req = request(5);
        t.begin("session-1", &req); // not sampled (1 of 2)
        t.deliver(0, "job-manager", &req);
        t.end();
        assert_eq!(t.ring.cursor(), 0);
        t.begin("session-1", &req); // sampled
        t.deliver(0, "job-manager", &req);
        t.end();
        let rsp = req.response(Bytes::new());
        t.begin("job-manager", &rsp); // not sampled, but answers a sampled request
        t.deliver(0, "session-1", &rsp);
        t.end();
        let entries = t.ring.read(&TraceFilter::default());
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].kind, "request");
        assert_eq!(entries[0].jobs, [42]);
        assert_eq!(
            (entries[0].from.as_str(), entries[0].to.as_str()),
            ("session-1", "job-manager")
        );
        assert_eq!(entries[1].kind, "response");
        assert!(entries[1].latency_us.is_some());
        assert!(t.pending.is_empty());
    }

    /// The hot-path cost per routed message, sampled or not (`scripts/bench-dashboard`
    /// runs it in release: `cargo test --release -p flux-actors --lib cost_per_message
    /// -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn cost_per_message() {
        let payload = format!(r#"{{"id":1234,"jobspec":"{}"}}"#, "x".repeat(400));
        let mut req = Envelope::request("job-manager.submit", 0, Bytes::from(payload));
        req.route.push("session-1".into());
        let mut rsp = req.response(Bytes::from_static(br#"{"id":1234}"#));
        for every in [0, 1, 16] {
            let mut t = BrokerTrace::new(every, DEFAULT_RING);
            let n = 1_000_000u32;
            let start = Instant::now();
            for i in 0..n {
                req.matchtag = i;
                rsp.matchtag = i;
                t.begin("session-1", &req);
                t.deliver(0, "job-manager", &req);
                t.end();
                t.begin("job-manager", &rsp);
                t.deliver(0, "session-1", &rsp);
                t.end();
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(2 * n);
            println!("tracer.sample={every}: {ns:.0} ns per routed message");
        }
    }

    #[test]
    fn sampling_off_records_nothing() {
        let mut t = BrokerTrace::new(0, 16);
        for i in 0..10 {
            let req = request(i);
            t.begin("s", &req);
            t.deliver(0, "x", &req);
            t.end();
        }
        assert_eq!(t.ring.cursor(), 0);
        assert!(t.pending.is_empty());
    }
}
