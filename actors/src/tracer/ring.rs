//! The sampled ring of recent messages a broker routed, with the sampler that decides which
//! messages go in. Deciding costs one counter step; only a sampled message is copied.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// One routed message, as the trace shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TraceEntry {
    /// Position in this broker's ring (a cursor for "what is new").
    pub seq: u64,
    /// Wall-clock time, seconds since the epoch.
    pub time: f64,
    pub rank: u32,
    /// request, response, event or control.
    #[serde(rename = "type")]
    pub kind: String,
    pub topic: String,
    pub from: String,
    pub to: String,
    /// Payload bytes.
    pub size: usize,
    /// For a response: microseconds since its request passed this broker.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub latency_us: Option<f64>,
    /// The jobs the message is about, when its payload names some (a batch names several).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub jobs: Vec<u64>,
    #[serde(skip_serializing_if = "is_zero", default)]
    pub errnum: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// What a reader wants from the ring.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TraceFilter {
    /// Entries with a sequence number above this one.
    #[serde(default)]
    pub since: u64,
    /// Only topics containing this text.
    #[serde(default)]
    pub topic: Option<String>,
    /// Only messages about this job.
    #[serde(default)]
    pub job: Option<u64>,
    /// At most this many (the newest).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl TraceFilter {
    /// Whether an entry passes the topic and job conditions.
    pub fn matches(&self, e: &TraceEntry) -> bool {
        self.topic.as_deref().is_none_or(|t| e.topic.contains(t))
            && self.job.is_none_or(|j| e.jobs.contains(&j))
    }
}

/// The newest `capacity` entries.
pub struct TraceRing {
    entries: VecDeque<TraceEntry>,
    capacity: usize,
    next_seq: u64,
}

impl TraceRing {
    /// A ring keeping the last `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        TraceRing {
            entries: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            next_seq: 1,
        }
    }

    /// Append an entry; its `seq` is assigned here.
    pub fn push(&mut self, mut entry: TraceEntry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The sequence number of the newest entry (0 when empty).
    pub fn cursor(&self) -> u64 {
        self.next_seq - 1
    }

    /// Matching entries newer than `filter.since`, oldest first, at most `limit` (the newest).
    pub fn read(&self, filter: &TraceFilter) -> Vec<TraceEntry> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out: Vec<TraceEntry> = self
            .entries
            .iter()
            .rev()
            .take_while(|e| e.seq > filter.since)
            .filter(|e| filter.matches(e))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }
}

/// Keeps one message in `every` (0: none).
#[derive(Debug, Clone)]
pub struct Sampler {
    every: u32,
    count: u32,
}

impl Sampler {
    /// Sample one message in `every`; 0 turns sampling off.
    pub fn new(every: u32) -> Self {
        Sampler { every, count: 0 }
    }

    /// Whether the next message is sampled.
    #[inline]
    pub fn hit(&mut self) -> bool {
        if self.every == 0 {
            return false;
        }
        self.count += 1;
        if self.count >= self.every {
            self.count = 0;
            true
        } else {
            false
        }
    }

    /// The sampling rate (one in `every`).
    pub fn every(&self) -> u32 {
        self.every
    }
}

/// How much of a payload is searched for a job id.
const SCAN_LIMIT: usize = 4096;

/// Job ids kept per entry, at most.
const MAX_JOBS: usize = 16;

/// The jobs a message is about: the `"id":N` fields in its payload, or else the KVS job
/// keys (`job.0000.0004.2b00.0000`) in it; each once, in order of appearance.
pub fn jobs_of(payload: &[u8]) -> Vec<u64> {
    let head = &payload[..payload.len().min(SCAN_LIMIT)];
    // Payloads are JSON: search them as text (`str::find` is much faster than a byte loop).
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    let mut ids = Vec::new();
    scan(text, "\"id\":", id_value, &mut ids);
    if ids.is_empty() {
        scan(text, "job.", |t| parse_dothex(t.as_bytes()), &mut ids);
    }
    ids
}

/// Every value `parse` reads right after an occurrence of `key`.
fn scan(text: &str, key: &str, parse: fn(&str) -> Option<u64>, ids: &mut Vec<u64>) {
    let mut from = 0;
    while ids.len() < MAX_JOBS
        && let Some(at) = text[from..].find(key)
    {
        let start = from + at + key.len();
        if let Some(id) = parse(&text[start..])
            && !ids.contains(&id)
        {
            ids.push(id);
        }
        from = start;
    }
}

fn id_value(rest: &str) -> Option<u64> {
    let rest = rest.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// Four groups of four hex digits joined by dots.
fn parse_dothex(text: &[u8]) -> Option<u64> {
    if text.len() < 19 {
        return None;
    }
    let mut id = 0u64;
    for group in 0..4 {
        let g = &text[group * 5..group * 5 + 4];
        if group < 3 && text[group * 5 + 4] != b'.' {
            return None;
        }
        let s = std::str::from_utf8(g).ok()?;
        id = (id << 16) | u64::from(u16::from_str_radix(s, 16).ok()?);
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(topic: &str, job: Option<u64>) -> TraceEntry {
        let jobs = job.into_iter().collect();
        TraceEntry {
            seq: 0,
            time: 0.0,
            rank: 0,
            kind: "request".into(),
            topic: topic.into(),
            from: "a".into(),
            to: "b".into(),
            size: 0,
            latency_us: None,
            jobs,
            errnum: 0,
        }
    }

    #[test]
    fn ring_keeps_the_newest_and_reads_from_a_cursor() {
        let mut ring = TraceRing::new(3);
        assert_eq!(ring.cursor(), 0);
        for i in 0..5 {
            ring.push(entry(&format!("t.{i}"), None));
        }
        assert_eq!(ring.cursor(), 5);
        let all = ring.read(&TraceFilter::default());
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        let newer = ring.read(&TraceFilter {
            since: 4,
            ..Default::default()
        });
        assert_eq!(newer.len(), 1);
        assert_eq!(newer[0].topic, "t.4");
        let last = ring.read(&TraceFilter {
            limit: Some(2),
            ..Default::default()
        });
        assert_eq!(last.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn filters_by_topic_and_job() {
        let mut ring = TraceRing::new(10);
        ring.push(entry("job-manager.submit", Some(7)));
        ring.push(entry("kvs.commit", Some(8)));
        ring.push(entry("sched.alloc", Some(7)));
        let job7 = ring.read(&TraceFilter {
            job: Some(7),
            ..Default::default()
        });
        assert_eq!(job7.len(), 2);
        let kvs = ring.read(&TraceFilter {
            topic: Some("kvs".into()),
            ..Default::default()
        });
        assert_eq!(kvs[0].jobs, [8]);
    }

    #[test]
    fn sampler_keeps_one_in_n() {
        let mut s = Sampler::new(4);
        let hits = (0..100).filter(|_| s.hit()).count();
        assert_eq!(hits, 25);
        let mut off = Sampler::new(0);
        assert!((0..10).all(|_| !off.hit()));
        let mut all = Sampler::new(1);
        assert!((0..10).all(|_| all.hit()));
    }

    #[test]
    fn finds_job_ids_in_payloads() {
        assert_eq!(jobs_of(br#"{"id": 1234,"state":4}"#), [1234]);
        assert_eq!(jobs_of(br#"{"x":1,"id":99}"#), [99]);
        assert_eq!(
            jobs_of(br#"{"jobs":[{"id":5},{"id":6},{"id":5}]}"#),
            [5, 6],
            "a batch names each job once"
        );
        assert_eq!(
            jobs_of(br#"{"ops":[{"key":"job.0000.0004.2b00.0000.eventlog"}]}"#),
            [0x0004_2b00_0000]
        );
        assert!(jobs_of(br#"{"job.xyz":1}"#).is_empty());
        assert!(jobs_of(b"").is_empty());
    }
}
