//! resource-query commands that inspect or change the graph: properties, status,
//! find, and rebuilding allocations (`update`).

use super::{JobRecord, JobState, Loader, Output, SEP, Session};
use crate::graph::Status;
use crate::readers::decode_idset;
use crate::traverser::FindExpr;
use crate::writers::write_match;

impl Session {
    pub(super) fn cmd_set_property(&mut self, args: &[&str], out: &mut Output) {
        let (Some(path), Some(kv)) = (args.first(), args.get(1)) else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if let Err(e) = self.traverser.set_property(path, k, v) {
            out.stderr.push_str(&format!("ERROR: {e}\n"));
        }
    }

    pub(super) fn cmd_get_property(&mut self, args: &[&str], out: &mut Output) {
        let Some(path) = args.first() else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        match self.traverser.properties(path) {
            Ok((uniq, props)) if props.is_empty() => out.stdout.push_str(&format!(
                "No properties were found for {path} (vtx's uniq_id={uniq}).\n"
            )),
            Ok((_, props)) => {
                for (k, v) in props {
                    out.stdout.push_str(&format!("{k}={v}\n"));
                }
            }
            Err(e) => out.stderr.push_str(&format!("ERROR: {e}\n")),
        }
    }

    pub(super) fn cmd_set_status(&mut self, args: &[&str], out: &mut Output) {
        let status = match args.get(1) {
            Some(&"up") => Status::Up,
            Some(&"down") => Status::Down,
            _ => {
                out.stderr.push_str("ERROR: malformed command\n");
                return;
            }
        };
        if let Err(e) = self.traverser.set_status(args[0], status) {
            out.stderr.push_str(&format!("ERROR: {e}\n"));
        }
    }

    pub(super) fn cmd_get_status(&mut self, args: &[&str], out: &mut Output) {
        let Some(path) = args.first() else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        match self.traverser.status(path) {
            Ok(Status::Up) => out.stdout.push_str(&format!("{path} is up\n")),
            Ok(Status::Down) => out.stdout.push_str(&format!("{path} is down\n")),
            Err(e) => out.stderr.push_str(&format!("ERROR: {e}\n")),
        }
    }

    pub(super) fn cmd_find(&mut self, args: &[&str], out: &mut Output) {
        let text = args.join(" ");
        match FindExpr::parse(&text) {
            Ok(expr) => {
                let emitted = self.traverser.find(&expr);
                let g = &self.traverser.graph;
                out.out
                    .push_str(&write_match(g, &emitted, self.format, 0, 0));
                out.out
                    .push_str(&format!("{SEP}INFO: EXPRESSION=\"{text}\"\n{SEP}"));
            }
            Err(e) => out.stderr.push_str(&format!("ERROR: {e}\n")),
        }
    }

    /// `update allocate|reserve jgf FILE JOBID AT DURATION`.
    pub(super) fn cmd_update(&mut self, args: &[&str], load: Loader, out: &mut Output) {
        let parsed = match args {
            [op @ ("allocate" | "reserve"), "jgf", file, id, at, dur] => {
                match (id.parse::<i64>(), at.parse::<i64>(), dur.parse::<i64>()) {
                    (Ok(id), Ok(at), Ok(dur)) => Some((*op == "reserve", *file, id, at, dur)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((reserve, file, jobid, at, duration)) = parsed else {
            out.stderr.push_str("ERROR: malformed update command\n");
            return;
        };
        let text = match load(file) {
            Ok(t) => t,
            Err(e) => {
                out.stderr.push_str(&format!("ERROR: {e}\n"));
                return;
            }
        };
        match self
            .traverser
            .update_from_jgf(&text, jobid, at, duration, reserve)
        {
            Ok(m) => {
                out.out.push_str(&write_match(
                    &self.traverser.graph,
                    &m.emitted,
                    self.format,
                    m.at,
                    m.end,
                ));
                let (state, word, when) = if reserve {
                    (JobState::Reserved, "RESERVED", at.to_string())
                } else {
                    (JobState::Allocated, "ALLOCATED", "Now".to_string())
                };
                out.out.push_str(&format!(
                    "{SEP}INFO: JOBID={jobid}\nINFO: RESOURCES={word}\nINFO: SCHEDULED AT={when}\n{SEP}"
                ));
                self.jobs.insert(
                    jobid,
                    JobRecord {
                        state,
                        at,
                        jobspec: file.to_string(),
                    },
                );
                self.next_jobid = jobid + 1;
            }
            Err(e) => out.stderr.push_str(&format!("ERROR: {e}\n")),
        }
    }

    /// `partial-cancel JOBID jgf|rv1exec R-FILE`: release the ranks named in R.
    pub(super) fn cmd_partial_cancel(&mut self, args: &[&str], load: Loader, out: &mut Output) {
        let (Some(id), Some(fmt), Some(file)) = (
            args.first().and_then(|a| a.parse::<i64>().ok()),
            args.get(1),
            args.get(2),
        ) else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        let ranks = load(file).and_then(|text| ranks_of_r(&text, fmt));
        match ranks.map(|r| self.traverser.partial_cancel(id, &r)) {
            Ok(Ok(full)) => {
                if full && let Some(rec) = self.jobs.get_mut(&id) {
                    rec.state = JobState::Canceled;
                }
            }
            Ok(Err(e)) => out.stderr.push_str(&format!("ERROR: {e}\n")),
            Err(e) => out.stderr.push_str(&format!("ERROR: {e}\n")),
        }
    }
}

/// Broker ranks named by an R fragment: R_lite ranks (rv1exec) or node ranks (jgf).
fn ranks_of_r(text: &str, fmt: &str) -> Result<Vec<i64>, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut ranks = Vec::new();
    match fmt {
        "rv1exec" => {
            let entries = doc
                .pointer("/execution/R_lite")
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            for e in entries {
                let idset = e.get("rank").and_then(|r| r.as_str()).unwrap_or_default();
                ranks.extend(decode_idset(idset).map_err(|e| e.to_string())?);
            }
        }
        "jgf" => {
            let graph = doc
                .get("graph")
                .or_else(|| doc.pointer("/scheduling/graph"));
            let nodes = graph
                .and_then(|g| g.get("nodes"))
                .and_then(|n| n.as_array())
                .cloned()
                .unwrap_or_default();
            for n in nodes {
                let m = &n["metadata"];
                if m["type"].as_str() == Some("node") {
                    ranks.extend(m["rank"].as_i64());
                }
            }
        }
        other => return Err(format!("unsupported R format {other}")),
    }
    Ok(ranks)
}
