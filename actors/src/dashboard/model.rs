//! What the dashboard knows: the latest gathering round merged with what came before (the
//! trace ring across ranks, cursors, the job counts over time). Plain state, fed by
//! [`Model::apply`] and read by the HTTP handlers.

use std::collections::{BTreeMap, HashMap, VecDeque};

use flux_proto::types::JobId;
use serde_json::{Value, json};

use super::gather::Round;
use crate::tracer::{ActorStats, TraceEntry, TraceFilter};

/// Trace entries kept across all ranks.
pub const TRACE_KEEP: usize = 20_000;
/// Job-count points kept (one per round).
pub const JOBS_KEEP: usize = 300;
/// Points over which throughput is computed.
const THROUGHPUT_WINDOW: usize = 5;

/// One broker as last seen.
#[derive(Debug, Clone, Default)]
struct RankView {
    state: String,
    hostname: String,
    children: Vec<(u32, String)>,
    actors: Vec<ActorStats>,
    error: Option<String>,
}

#[derive(Debug, Clone)]
struct JobsPoint {
    t: f64,
    states: BTreeMap<String, u64>,
    inactive: u64,
}

/// The dashboard's state.
#[derive(Default)]
pub struct Model {
    size: u32,
    ranks: BTreeMap<u32, RankView>,
    cursors: HashMap<u32, u64>,
    trace: VecDeque<TraceEntry>,
    jobs: VecDeque<JobsPoint>,
    queue: Vec<Value>,
    rounds: u64,
    updated: f64,
}

impl Model {
    /// Where each rank's trace was read up to (for the next round).
    pub fn cursors(&self) -> &HashMap<u32, u64> {
        &self.cursors
    }

    /// Rounds applied so far.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// The instance size.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Merge one round taken at time `now` (seconds since the epoch); returns the new trace
    /// entries, oldest first.
    pub fn apply(&mut self, round: Round, now: f64) -> Vec<TraceEntry> {
        self.rounds += 1;
        self.updated = now;
        self.size = round.size;
        self.ranks.retain(|r, _| *r < round.size);
        let mut fresh = Vec::new();
        for report in round.ranks {
            let view = self.ranks.entry(report.rank).or_default();
            view.error = report.error;
            match (&report.overlay, &report.trace) {
                (None, None) => view.actors.clear(),
                _ => {
                    if let Some(o) = &report.overlay {
                        view.hostname = o["hostname"].as_str().unwrap_or_default().into();
                        view.state = o["state"].as_str().unwrap_or_default().into();
                        view.children = o["children"]
                            .as_array()
                            .map(|cs| {
                                cs.iter()
                                    .map(|c| {
                                        let rank = c["rank"].as_u64().unwrap_or(0) as u32;
                                        (rank, c["state"].as_str().unwrap_or("").to_string())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                    }
                    if let Some(t) = report.trace {
                        view.state = t.state;
                        view.actors = t.actors;
                        self.cursors.insert(report.rank, t.cursor);
                        fresh.extend(t.entries);
                    }
                }
            }
        }
        fresh.sort_by(|a, b| a.time.total_cmp(&b.time));
        for e in &fresh {
            if self.trace.len() == TRACE_KEEP {
                self.trace.pop_front();
            }
            self.trace.push_back(e.clone());
        }
        if let Some(stats) = round.job_stats {
            let states: BTreeMap<String, u64> = stats["job_states"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| *k != "total")
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default();
            let inactive = states.get("inactive").copied().unwrap_or(0);
            if self.jobs.len() == JOBS_KEEP {
                self.jobs.pop_front();
            }
            self.jobs.push_back(JobsPoint {
                t: now,
                states,
                inactive,
            });
        }
        self.queue = round.queue;
        for job in &mut self.queue {
            if let Some(id) = job["id"].as_u64() {
                job["jobid"] = json!(JobId(id).to_f58());
            }
        }
        fresh
    }

    /// The parent of each rank, from the children lists the brokers reported.
    fn parents(&self) -> HashMap<u32, u32> {
        let mut parents = HashMap::new();
        for (rank, view) in &self.ranks {
            for (child, _) in &view.children {
                parents.insert(*child, *rank);
            }
        }
        parents
    }

    /// The tree: each broker with its state, parent, and the message rates on the link to
    /// its parent (as counted by the parent's link actor).
    pub fn tbon(&self) -> Value {
        let parents = self.parents();
        let ranks: Vec<Value> = self
            .ranks
            .iter()
            .map(|(rank, view)| {
                let parent = parents.get(rank).copied();
                let parent_view = parent.and_then(|p| self.ranks.get(&p));
                // A broker that does not answer is as its parent sees it.
                let state = if view.actors.is_empty() && view.error.is_some() {
                    let seen = parent_view
                        .and_then(|pv| pv.children.iter().find(|(c, _)| c == rank))
                        .map(|(_, s)| s.as_str());
                    match seen {
                        Some("offline") | None => "lost".to_string(),
                        Some(s) => s.to_string(),
                    }
                } else {
                    view.state.clone()
                };
                let link = parent_view.and_then(|pv| {
                    let name = format!("overlay-r{rank}");
                    pv.actors.iter().find(|a| a.name == name).map(|a| {
                        json!({ "down": a.rate_in, "up": a.rate_out, "msgs": a.msgs_in + a.msgs_out })
                    })
                });
                let rate: f64 = view.actors.iter().map(|a| a.rate_in).sum();
                json!({
                    "rank": rank,
                    "parent": parent,
                    "state": state,
                    "hostname": view.hostname,
                    "actors": view.actors.len(),
                    "rate": rate,
                    "link": link,
                    "error": view.error,
                })
            })
            .collect();
        json!({ "size": self.size, "updated": self.updated, "ranks": ranks })
    }

    /// The actors of one rank, busiest first; `None` if the rank is unknown.
    pub fn actors(&self, rank: u32) -> Option<Value> {
        let view = self.ranks.get(&rank)?;
        Some(json!({ "rank": rank, "state": view.state, "actors": view.actors }))
    }

    /// Every rank's actors.
    pub fn all_actors(&self) -> Value {
        let ranks: Vec<Value> = self.ranks.keys().filter_map(|r| self.actors(*r)).collect();
        json!({ "ranks": ranks })
    }

    /// The newest matching trace entries, oldest first.
    pub fn trace(&self, filter: &TraceFilter) -> Vec<Value> {
        let limit = filter.limit.unwrap_or(200);
        let mut out: Vec<Value> = self
            .trace
            .iter()
            .rev()
            .filter(|e| filter.matches(e))
            .take(limit)
            .map(entry_json)
            .collect();
        out.reverse();
        out
    }

    /// Job counts now and over time, throughput and the queue.
    pub fn jobs(&self) -> Value {
        let history: Vec<Value> = self
            .jobs
            .iter()
            .map(|p| json!({ "t": p.t, "states": p.states }))
            .collect();
        json!({
            "states": self.jobs.back().map(|p| json!(p.states)).unwrap_or(json!({})),
            "throughput": self.throughput(),
            "history": history,
            "queue": self.queue,
        })
    }

    /// Jobs reaching INACTIVE per second over the last few points.
    pub fn throughput(&self) -> f64 {
        let n = self.jobs.len();
        if n < 2 {
            return 0.0;
        }
        let first = &self.jobs[n.saturating_sub(THROUGHPUT_WINDOW + 1)];
        let last = &self.jobs[n - 1];
        let dt = last.t - first.t;
        if dt <= 0.0 {
            return 0.0;
        }
        last.inactive.saturating_sub(first.inactive) as f64 / dt
    }
}

/// A trace entry with its job ids in F58 too.
pub fn entry_json(e: &TraceEntry) -> Value {
    let mut v = json!(e);
    if !e.jobs.is_empty() {
        let f58: Vec<String> = e.jobs.iter().map(|j| JobId(*j).to_f58()).collect();
        v["jobids"] = json!(f58);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::gather::{RankReport, TraceReply};

    fn actor(name: &str, rank: u32, rate_in: f64) -> ActorStats {
        ActorStats {
            name: name.into(),
            kind: "module".into(),
            rank,
            msgs_in: 10,
            msgs_out: 5,
            mailbox: 0,
            rate_in,
            rate_out: rate_in / 2.0,
            handle_mean_us: 1.0,
            handle_p99_us: 2.0,
            handle_max_us: 3.0,
            idle_s: None,
            history: vec![],
        }
    }

    fn entry(rank: u32, time: f64, topic: &str, job: Option<u64>) -> TraceEntry {
        TraceEntry {
            seq: 1,
            time,
            rank,
            kind: "request".into(),
            topic: topic.into(),
            from: "a".into(),
            to: "b".into(),
            size: 1,
            latency_us: None,
            jobs: job.into_iter().collect(),
            errnum: 0,
        }
    }

    fn report(
        rank: u32,
        children: Value,
        actors: Vec<ActorStats>,
        entries: Vec<TraceEntry>,
    ) -> RankReport {
        RankReport {
            rank,
            overlay: Some(
                json!({ "rank": rank, "state": "run", "hostname": "h", "children": children }),
            ),
            trace: Some(TraceReply {
                rank,
                state: "run".into(),
                cursor: entries.len() as u64,
                sample: 1,
                entries,
                actors,
            }),
            error: None,
        }
    }

    fn round(inactive: u64) -> Round {
        Round {
            size: 3,
            ranks: vec![
                report(
                    0,
                    json!([{ "rank": 1, "state": "full" }, { "rank": 2, "state": "offline" }]),
                    vec![actor("overlay-r1", 0, 8.0), actor("kvs", 0, 100.0)],
                    vec![entry(0, 2.0, "kvs.commit", Some(7))],
                ),
                report(
                    1,
                    json!([]),
                    vec![actor("kvs", 1, 1.0)],
                    vec![entry(1, 1.0, "job-manager.submit", Some(7))],
                ),
                RankReport {
                    rank: 2,
                    error: Some("no route".into()),
                    ..Default::default()
                },
            ],
            job_stats: Some(
                json!({ "job_states": { "run": 1, "inactive": inactive, "total": 5 } }),
            ),
            queue: vec![json!({ "id": 9 })],
        }
    }

    #[test]
    fn tbon_has_states_parents_and_link_rates() {
        let mut m = Model::default();
        m.apply(round(0), 100.0);
        let tbon = m.tbon();
        let ranks = tbon["ranks"].as_array().unwrap();
        assert_eq!(ranks.len(), 3);
        assert_eq!(ranks[1]["parent"], 0);
        assert_eq!(ranks[1]["link"]["down"], 8.0);
        assert_eq!(ranks[0]["parent"], Value::Null);
        assert_eq!(ranks[2]["state"], "lost");
        assert_eq!(m.cursors()[&0], 1);
        assert!(m.actors(5).is_none());
        assert_eq!(m.actors(0).unwrap()["actors"][1]["name"], "kvs");
    }

    #[test]
    fn trace_merges_ranks_in_time_order_and_filters() {
        let mut m = Model::default();
        let fresh = m.apply(round(0), 100.0);
        assert_eq!(fresh[0].topic, "job-manager.submit");
        let job = m.trace(&TraceFilter {
            job: Some(7),
            ..Default::default()
        });
        assert_eq!(job.len(), 2);
        assert!(job[0]["jobids"][0].as_str().unwrap().starts_with('ƒ'));
        let kvs = m.trace(&TraceFilter {
            topic: Some("kvs".into()),
            ..Default::default()
        });
        assert_eq!(kvs.len(), 1);
        let one = m.trace(&TraceFilter {
            limit: Some(1),
            ..Default::default()
        });
        assert_eq!(one[0]["topic"], "kvs.commit");
    }

    #[test]
    fn throughput_from_inactive_counts() {
        let mut m = Model::default();
        m.apply(round(0), 100.0);
        assert_eq!(m.throughput(), 0.0);
        m.apply(round(10), 101.0);
        m.apply(round(30), 102.0);
        assert_eq!(m.throughput(), 15.0);
        let jobs = m.jobs();
        assert_eq!(jobs["history"].as_array().unwrap().len(), 3);
        assert_eq!(jobs["states"]["inactive"], 30);
        assert!(jobs["states"].get("total").is_none());
        assert_eq!(jobs["queue"][0]["id"], 9);
    }

    #[test]
    fn trace_is_bounded() {
        let mut m = Model::default();
        for i in 0..3 {
            let mut r = round(0);
            r.ranks[0].trace.as_mut().unwrap().entries = (0..TRACE_KEEP / 2)
                .map(|k| entry(0, (i * TRACE_KEEP + k) as f64, "t", None))
                .collect();
            m.apply(r, 100.0);
        }
        assert_eq!(m.trace.len(), TRACE_KEEP);
    }
}
