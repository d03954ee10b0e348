//! The gathering loop of the dashboard and the subscribers of its event stream.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use flux_proto::Handle;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::gather;
use super::model::{Model, entry_json};
use crate::tracer::TraceFilter;

/// How often the dashboard gathers while someone looks.
pub const PERIOD: Duration = Duration::from_secs(1);
/// Someone looks: a request in this long, or a stream subscriber.
const LOOKING: Duration = Duration::from_secs(15);
/// Updates queued per stream subscriber before it counts as not reading (and is dropped).
pub const STREAM_QUEUE: usize = 8;
/// Stream subscribers at most.
pub const MAX_SUBSCRIBERS: usize = 64;
/// Trace entries asked of each broker per round, at most (the newest): under load a broker
/// routes tens of thousands of messages a second, more than anyone reads, and copying them
/// all would cost the broker more than the rest of the dashboard.
const TRACE_PER_ROUND: usize = 1000;
/// Trace entries per stream update, at most (the newest).
const UPDATE_TRACE: usize = 500;

/// State shared by the poller and the HTTP workers.
pub struct Shared {
    model: Mutex<Model>,
    last_request: Mutex<Instant>,
    subscribers: Mutex<Vec<mpsc::Sender<Bytes>>>,
    /// Woken after each round.
    pub round_done: Notify,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            model: Mutex::default(),
            // Start as if just asked, so the first round runs at once.
            last_request: Mutex::new(Instant::now()),
            subscribers: Mutex::default(),
            round_done: Notify::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// Read the model.
    pub fn model(&self) -> MutexGuard<'_, Model> {
        lock(&self.model)
    }

    /// A request came in: keep gathering.
    pub fn touch(&self) {
        *lock(&self.last_request) = Instant::now();
    }

    fn looking(&self) -> bool {
        lock(&self.last_request).elapsed() < LOOKING || !lock(&self.subscribers).is_empty()
    }

    /// A new stream subscriber: it gets the current state first, then each update.
    /// `None` when there are too many.
    pub fn subscribe(&self) -> Option<mpsc::Receiver<Bytes>> {
        let mut subs = lock(&self.subscribers);
        subs.retain(|s| !s.is_closed());
        if subs.len() >= MAX_SUBSCRIBERS {
            return None;
        }
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        let first = {
            let model = self.model();
            update(
                &model,
                model.trace(&TraceFilter {
                    limit: Some(UPDATE_TRACE),
                    ..Default::default()
                }),
            )
        };
        let _ = tx.try_send(first);
        subs.push(tx);
        Some(rx)
    }

    /// Hand an update to every subscriber; those whose queue is full are not reading: drop
    /// them (their stream ends).
    fn broadcast(&self, msg: Bytes) {
        lock(&self.subscribers).retain(|s| s.try_send(msg.clone()).is_ok());
    }
}

/// One server-sent event carrying the whole view and the given trace entries.
fn update(model: &Model, trace: Vec<Value>) -> Bytes {
    let body = json!({
        "tbon": model.tbon(),
        "actors": model.all_actors(),
        "trace": trace,
        "jobs": model.jobs(),
    });
    Bytes::from(format!("event: update\ndata: {body}\n\n"))
}

/// Gather once a period while someone looks.
pub async fn run(shared: Arc<Shared>, uri: String) {
    let mut handle: Option<Handle> = None;
    let mut ticker = tokio::time::interval(PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !shared.looking() {
            continue;
        }
        if handle.is_none() {
            handle = Handle::connect(&uri).await.ok();
        }
        let Some(h) = &handle else {
            continue;
        };
        let cursors = shared.model().cursors().clone();
        let newest = TraceFilter {
            limit: Some(TRACE_PER_ROUND),
            ..Default::default()
        };
        let round = gather::gather(h, &cursors, &newest).await;
        if round.ranks.iter().all(|r| r.trace.is_none()) {
            // Our own broker did not answer: reconnect next time.
            handle = None;
        }
        let msg = {
            let mut model = shared.model();
            let fresh = model.apply(round, crate::broker::config::now());
            let skip = fresh.len().saturating_sub(UPDATE_TRACE);
            let trace = fresh[skip..].iter().map(entry_json).collect();
            update(&model, trace)
        };
        shared.broadcast(msg);
        shared.round_done.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_that_does_not_read_is_dropped() {
        let shared = Shared::default();
        let mut reader = shared.subscribe().unwrap();
        let stalled = shared.subscribe().unwrap();
        for i in 0..(STREAM_QUEUE * 2) {
            shared.broadcast(Bytes::from(format!("update {i}")));
            while reader.try_recv().is_ok() {}
        }
        // The stalled one holds at most its queue, then is let go; the reader stays.
        assert_eq!(stalled.len(), STREAM_QUEUE);
        assert_eq!(lock(&shared.subscribers).len(), 1);
        assert!(reader.try_recv().is_err());
        shared.broadcast(Bytes::from_static(b"more"));
        assert_eq!(reader.try_recv().unwrap(), Bytes::from_static(b"more"));
    }

    #[test]
    fn subscribers_are_bounded() {
        let shared = Shared::default();
        let held: Vec<_> = (0..MAX_SUBSCRIBERS)
            .map(|_| shared.subscribe().unwrap())
            .collect();
        assert!(shared.subscribe().is_none());
        drop(held);
        assert!(shared.subscribe().is_some(), "closed streams make room");
    }
}
