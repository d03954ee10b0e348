//! The resource-query command interpreter, without I/O: commands in, text out.
//!
//! Jobspec files are read through a caller-supplied loader so that the binary (and
//! tests) decide how files are found.

use std::collections::BTreeMap;

mod admin;

use crate::error::MatchError;
use crate::jobspec::Jobspec;
use crate::traverser::{MatchOp, Traverser};
use crate::writers::{MatchFormat, write_match};

/// Types every graph knows (as Fluxion interns them up front), besides its own.
const KNOWN_TYPES: &[&str] = &[
    "cluster",
    "rack",
    "node",
    "socket",
    "core",
    "gpu",
    "memory",
    "slot",
    crate::jobspec::XOR_SLOT,
];

const SEP: &str = "INFO: =============================\n";

/// State of a job known to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Allocated now.
    Allocated,
    /// Reserved in the future.
    Reserved,
    /// Canceled.
    Canceled,
}

/// A job matched in this session.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// State.
    pub state: JobState,
    /// Start time.
    pub at: i64,
    /// The jobspec file name.
    pub jobspec: String,
}

impl JobRecord {
    /// `INFO: <jobid>, <state>, <at>, <jobspec>, <overhead>` (overhead is not measured).
    pub fn info_line(&self, id: i64) -> String {
        let state = match self.state {
            JobState::Allocated => "ALLOCATED",
            JobState::Reserved => "RESERVED",
            JobState::Canceled => "CANCELED",
        };
        format!("INFO: {id}, {state}, {}, {}, 0\n", self.at, self.jobspec)
    }
}

/// Text produced by one command.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// Match/find/cancel-stats output (the `-t` file, or stdout).
    pub out: String,
    /// Always stdout (info, stat, list).
    pub stdout: String,
    /// Errors.
    pub stderr: String,
}

/// Reads a jobspec file by name.
pub type Loader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// A resource-query session.
#[derive(Debug)]
pub struct Session {
    /// The matcher.
    pub traverser: Traverser,
    format: MatchFormat,
    next_jobid: i64,
    jobs: BTreeMap<i64, JobRecord>,
}

impl Session {
    /// A session over `traverser`, writing matches in `format`.
    pub fn new(traverser: Traverser, format: MatchFormat) -> Self {
        Self {
            traverser,
            format,
            next_jobid: 1,
            jobs: BTreeMap::new(),
        }
    }

    /// Jobs matched so far.
    pub fn jobs(&self) -> &BTreeMap<i64, JobRecord> {
        &self.jobs
    }

    /// Executes one command line. Returns false on `quit`.
    pub fn execute(&mut self, line: &str, load: Loader, out: &mut Output) -> bool {
        let args: Vec<&str> = line.split_whitespace().collect();
        let Some(cmd) = args.first() else {
            return true;
        };
        match *cmd {
            "quit" | "q" => return false,
            "match" | "m" => self.cmd_match(&args[1..], load, out, false),
            "multi-match" | "M" => self.cmd_match(&args[1..], load, out, true),
            "cancel" | "c" => self.cmd_cancel(&args[1..], out),
            "info" | "i" => self.cmd_info(&args[1..], out),
            "list" | "l" => {
                for (id, rec) in &self.jobs {
                    out.stdout.push_str(&rec.info_line(*id));
                }
            }
            "find" | "f" => self.cmd_find(&args[1..], out),
            "update" | "u" => self.cmd_update(&args[1..], load, out),
            "partial-cancel" | "pc" => self.cmd_partial_cancel(&args[1..], load, out),
            "set-property" | "p" => self.cmd_set_property(&args[1..], out),
            "get-property" | "g" => self.cmd_get_property(&args[1..], out),
            "set-status" | "t" => self.cmd_set_status(&args[1..], out),
            "get-status" | "e" => self.cmd_get_status(&args[1..], out),
            "stat" | "s" => {
                out.stdout.push_str(&format!(
                    "INFO: Num. of Jobs Matched: {}\nINFO: Min. Match Time: 1.79769e+308\nINFO: Max. Match Time: 0\nINFO: Avg. Match Time: 0\n",
                    self.jobs.len()
                ));
            }
            _ => {}
        }
        true
    }

    fn cmd_match(&mut self, args: &[&str], load: Loader, out: &mut Output, multi: bool) {
        if args.len() < 2 || (!multi && args.len() != 2) {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        }
        let op: MatchOp = match args[0].parse() {
            Ok(op) => op,
            Err(_) => {
                out.stderr.push_str(&format!(
                    "ERROR: unsupported subcommand for match: {}\n",
                    args[0]
                ));
                return;
            }
        };
        for file in &args[1..] {
            if !self.match_one(op, file, load, out) {
                break;
            }
        }
    }

    fn parse_jobspec(&mut self, file: &str, load: Loader) -> Result<Jobspec, String> {
        let text = load(file)?;
        let js = Jobspec::parse(&text).map_err(|e| e.to_string())?;
        fn check(t: &Traverser, rs: &[crate::jobspec::Resource]) -> Result<(), String> {
            for r in rs {
                if !KNOWN_TYPES.contains(&r.ty.as_str())
                    && !t
                        .graph
                        .by_type
                        .keys()
                        .any(|k| t.graph.names.type_name(*k) == r.ty)
                {
                    return Err("Value of \"type\" must be a resource type known to fluxion".into());
                }
                check(t, &r.with)?;
            }
            Ok(())
        }
        check(&self.traverser, &js.resources)?;
        Ok(js)
    }

    /// Runs one match; false if it failed (stops a multi-match).
    fn match_one(&mut self, op: MatchOp, file: &str, load: Loader, out: &mut Output) -> bool {
        let js = match self.parse_jobspec(file, load) {
            Ok(js) => js,
            Err(msg) => {
                out.stderr.push_str(&format!(
                    "match_allocate: ERROR: Jobspec error for {}: {msg}\n",
                    self.next_jobid
                ));
                return false;
            }
        };
        if op == MatchOp::Satisfiability {
            let verdict = match self.traverser.run(&js, op, 0, 0) {
                Ok(_) => "Satisfiable",
                Err(_) => "Unsatisfiable",
            };
            out.out
                .push_str(&format!("{SEP}INFO: {verdict} request\n{SEP}"));
            return true;
        }
        let jobid = self.next_jobid;
        self.next_jobid += 1;
        match self.traverser.run(&js, op, jobid, 0) {
            Ok(m) => {
                out.out.push_str(&write_match(
                    &self.traverser.graph,
                    &m.emitted,
                    self.format,
                    m.at,
                    m.end,
                ));
                let (state, when) = if m.reserved {
                    (JobState::Reserved, m.at.to_string())
                } else {
                    (JobState::Allocated, "Now".to_string())
                };
                let word = if m.reserved { "RESERVED" } else { "ALLOCATED" };
                out.out.push_str(&format!(
                    "{SEP}INFO: JOBID={jobid}\nINFO: RESOURCES={word}\nINFO: SCHEDULED AT={when}\n{SEP}"
                ));
                self.jobs.insert(
                    jobid,
                    JobRecord {
                        state,
                        at: m.at,
                        jobspec: file.to_string(),
                    },
                );
                true
            }
            Err(e) => {
                out.out
                    .push_str(&format!("{SEP}INFO: No matching resources found\n"));
                if e == MatchError::Unsatisfiable {
                    out.out.push_str("INFO: Unsatisfiable request\n");
                }
                out.out.push_str(&format!("INFO: JOBID={jobid}\n{SEP}"));
                if let MatchError::Invalid(msg) = &e {
                    out.stderr.push_str(&format!("ERROR: {msg}\n"));
                }
                false
            }
        }
    }

    fn cmd_cancel(&mut self, args: &[&str], out: &mut Output) {
        let Some(id) = args.first().and_then(|a| a.parse::<i64>().ok()) else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        match self.jobs.get_mut(&id) {
            Some(rec) if rec.state != JobState::Canceled => {
                if let Err(e) = self.traverser.cancel(id) {
                    out.stderr.push_str(&format!(
                        "ERROR: error encountered while removing job {id}: {e}\n"
                    ));
                }
                rec.state = JobState::Canceled;
                if args.get(1) == Some(&"stats") {
                    let (pre, post) = self.traverser.visit_counts();
                    out.out.push_str(&format!(
                        "{SEP}INFO: CANCEL PREORDER COUNT=\"{pre}\"\nINFO: CANCEL POSTORDER COUNT=\"{post}\"\n{SEP}"
                    ));
                }
            }
            _ => out
                .stderr
                .push_str(&format!("ERROR: nonexistent job {id}\n")),
        }
    }

    fn cmd_info(&mut self, args: &[&str], out: &mut Output) {
        let Some(id) = args.first().and_then(|a| a.parse::<i64>().ok()) else {
            out.stderr.push_str("ERROR: malformed command\n");
            return;
        };
        match self.jobs.get(&id) {
            Some(rec) => out.stdout.push_str(&rec.info_line(id)),
            None => out
                .stderr
                .push_str(&format!("ERROR: jobid doesn't exist: {id}\n")),
        }
    }
}
