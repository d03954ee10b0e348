//! Following a job's eventlogs as they grow (the way `flux job attach`, `wait-event` and
//! `submit --wait` do), through `kvs-watch`.

use std::collections::VecDeque;

use anyhow::Context as _;
use flux_actors::modules::kvs::wire::lookup_flags::{WAITCREATE, WATCH, WATCH_APPEND};
use flux_proto::types::JobId;
use flux_proto::types::eventlog::{self, Entry};
use flux_proto::{Handle, RpcStream};

use crate::kvs::client;

/// Entries of one eventlog, in order, as they are appended.
pub struct Follower {
    stream: RpcStream,
    key: String,
    partial: String,
    ready: VecDeque<Entry>,
}

impl Follower {
    /// Follow `key` (waiting for it to exist).
    pub async fn open(h: &Handle, key: String) -> anyhow::Result<Follower> {
        let stream = client::watch(h, "primary", &key, WATCH | WAITCREATE | WATCH_APPEND).await?;
        Ok(Follower {
            stream,
            key,
            partial: String::new(),
            ready: VecDeque::new(),
        })
    }

    /// Follow an eventlog of job `id`: `eventlog`, `guest.output`, `guest.exec.eventlog`.
    pub async fn job(h: &Handle, id: JobId, log: &str) -> anyhow::Result<Follower> {
        Follower::open(h, format!("{}.{log}", id.to_kvs())).await
    }

    /// The next entry; `None` if the watch ended.
    pub async fn next(&mut self) -> anyhow::Result<Option<Entry>> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Ok(Some(entry));
            }
            let Some(bytes) = client::next_value(&mut self.stream).await? else {
                return Ok(None);
            };
            self.partial.push_str(&String::from_utf8_lossy(&bytes));
            // Only whole lines are events; keep a torn tail for the next append.
            let Some(end) = self.partial.rfind('\n') else {
                continue;
            };
            let whole: String = self.partial.drain(..=end).collect();
            let entries = eventlog::parse(&whole)
                .with_context(|| format!("{}: invalid eventlog", self.key))?;
            self.ready.extend(entries);
        }
    }
}

/// Wait for event `name` in job `id`'s eventlog (or the end of the job, which is `clean`).
pub async fn wait_for(h: &Handle, id: JobId, name: &str) -> anyhow::Result<Entry> {
    let mut log = Follower::job(h, id, "eventlog").await?;
    while let Some(entry) = log.next().await? {
        if entry.name == name {
            return Ok(entry);
        }
    }
    anyhow::bail!("eventlog of {} ended before {name}", id.to_f58())
}
