//! `flux pstree [OPTIONS] [JOBID...]`: the tree of running jobs by name, descending into
//! the jobs that are Flux instances (`flux batch`, `flux alloc`), as flux-core draws it:
//! root `.`, identical leaves combined as `N*[label]`; `-a` adds every state and the
//! status to the labels, `-x`/`-d NAME` print job details before the tree.

mod tree;

use std::collections::HashMap;

use anyhow::bail;
use flux_proto::Handle;
use flux_proto::types::JobState;
use serde_json::{Value as Json, json};

use crate::jobs::fields::{self, JobRow};
use crate::jobs::filter;
use crate::jobs::format::{Format, Row, Value};
use crate::{proxy, resource, util};
use tree::{Node, Style};

/// Show the tree of jobs and instances.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Include jobs in all states (labels then show the status)
    #[arg(short = 'a', long)]
    all: bool,
    /// At most N jobs at every level
    #[arg(short = 'c', long, default_value_t = 1000)]
    count: usize,
    /// Only jobs in these states or with these results (comma separated)
    #[arg(short = 'f', long, value_delimiter = ',')]
    filter: Vec<String>,
    /// Do not truncate lines at the terminal width
    #[arg(short = 'l', long)]
    long: bool,
    /// Prepend the job id to the labels of instances
    #[arg(short = 'p', long = "parent-ids")]
    parent_ids: bool,
    /// Descend at most N levels into child instances
    #[arg(short = 'L', long, value_name = "N")]
    level: Option<usize>,
    /// Print job details before the tree (same as --details=default)
    #[arg(short = 'x', long)]
    extended: bool,
    /// Named details format: default, progress
    #[arg(short = 'd', long = "details", value_name = "NAME")]
    details: Option<String>,
    /// Details format (flux-jobs fields)
    #[arg(long = "detail-format", value_name = "FORMAT")]
    detail_format: Option<String>,
    /// Do not print the details header
    #[arg(short = 'n', long = "no-header")]
    no_header: bool,
    /// Do not combine identical leaves
    #[arg(short = 'X', long = "no-combine")]
    no_combine: bool,
    /// Label format (flux-jobs fields)
    #[arg(short = 'o', long = "label", value_name = "FORMAT")]
    label: Option<String>,
    /// Label format for instances
    #[arg(long = "parent-label", value_name = "FORMAT")]
    parent_label: Option<String>,
    /// Skip (yes) or show (no) the enclosing instance
    #[arg(long = "skip-root", value_name = "yes|no")]
    skip_root: Option<String>,
    /// Compact tree connectors
    #[arg(short = 'C', long)]
    compact: bool,
    /// ASCII tree connectors
    #[arg(long)]
    ascii: bool,
    /// Start from these jobs
    ids: Vec<String>,
}

/// The named details formats.
fn details_format(name: &str) -> anyhow::Result<&'static str> {
    Ok(match name {
        "default" => {
            "{id.f58:>12} {username:<8.8} {status_abbrev:>2} {ntasks:>6} {nnodes:>6} {runtime!F:>8}"
        }
        "progress" => {
            "{id.f58:>12} {ntasks:>6} {instance.stats.total:>6} {instance.progress!P:>5} \
             {instance.utilization!P:>5} {instance.gpu_utilization!P:>5} {runtime!H:>10}"
        }
        other => bail!("unknown details format '{other}' (expected default or progress)"),
    })
}

/// Fields of instances, beyond those of `flux jobs`.
const INSTANCE_FIELDS: &[(&str, &str)] = &[
    ("instance.stats.total", "NJOBS"),
    ("instance.progress", "PROG"),
    ("instance.utilization", "CORE%"),
    ("instance.gpu_utilization", "GPU%"),
];

fn known(name: &str) -> bool {
    fields::known(name) || INSTANCE_FIELDS.iter().any(|(f, _)| *f == name)
}

/// A job row with what its instance reports, if it is one.
struct PsRow<'a> {
    row: JobRow<'a>,
    instance: HashMap<&'static str, Value>,
}

impl Row for PsRow<'_> {
    fn get(&self, name: &str) -> Value {
        match self.instance.get(name) {
            Some(v) => v.clone(),
            None if name.starts_with("instance.") => Value::Empty,
            None => self.row.get(name),
        }
    }
}

/// What the command was asked to show.
struct Plan {
    states: u32,
    results: u32,
    count: usize,
    max_level: usize,
    label: Format,
    parent_label: Format,
    details: Option<Format>,
    now: f64,
}

impl Plan {
    fn new(args: &Args) -> anyhow::Result<Plan> {
        let (mut states, results) = filter::masks(&args.filter).map_err(anyhow::Error::msg)?;
        let all = args.all || !args.filter.is_empty();
        if states == 0 && results == 0 {
            states = if args.all {
                0x7f
            } else {
                (JobState::Run as u32) | (JobState::Cleanup as u32)
            };
        }
        let label = args.label.clone().unwrap_or_else(|| match all {
            true => "{name}:{status_abbrev}".into(),
            false => "{name}".into(),
        });
        let mut parent = args.parent_label.clone().unwrap_or_else(|| "{name}".into());
        if args.parent_ids {
            parent = format!("{{id.f58}} {parent}");
        }
        let details = match (&args.detail_format, &args.details, args.extended) {
            (Some(f), _, _) => Some(f.clone()),
            (None, Some(name), _) => Some(details_format(name)?.to_string()),
            (None, None, true) => Some(details_format("default")?.to_string()),
            _ => None,
        };
        Ok(Plan {
            states,
            results,
            count: args.count,
            max_level: args.level.unwrap_or(usize::MAX),
            label: Format::parse(&label, &known)?,
            parent_label: Format::parse(&parent, &known)?,
            details: details.map(|d| Format::parse(&d, &known)).transpose()?,
            now: flux_actors::broker::config::now(),
        })
    }

    fn wants_instance_fields(&self) -> bool {
        self.details.is_some()
    }
}

/// NJOBS, PROG, CORE%, GPU% of the instance at `h`.
async fn instance_fields(h: &Handle) -> anyhow::Result<HashMap<&'static str, Value>> {
    let stats: Json = h.rpc_json("job-list.stats", &json!({})).await?;
    let states = &stats["job_states"];
    let total = states["total"].as_u64().unwrap_or(0);
    let inactive = states["inactive"].as_u64().unwrap_or(0);
    let snap = resource::Snapshot::fetch(h).await?;
    let ratio = |used: u64, all: u64| match all {
        0 => Value::Empty,
        _ => Value::Float(used as f64 / all as f64),
    };
    let mut out = HashMap::new();
    out.insert("instance.stats.total", Value::Int(total as i64));
    out.insert("instance.progress", ratio(inactive, total));
    out.insert(
        "instance.utilization",
        ratio(snap.allocated.ncores(), snap.all.ncores()),
    );
    out.insert(
        "instance.gpu_utilization",
        ratio(snap.allocated.ngpus(), snap.all.ngpus()),
    );
    Ok(out)
}

/// The jobs of the instance at `h` (or `ids` of it), with the instances among them
/// expanded, `level` deep.
async fn load(h: &Handle, plan: &Plan, ids: &[u64], level: usize) -> anyhow::Result<Vec<Node>> {
    let jobs: Vec<Json> = if ids.is_empty() {
        let body = json!({
            "max_entries": plan.count,
            "userid": unsafe_getuid(),
            "states": plan.states,
            "results": plan.results,
            "attrs": ["all"],
        });
        let reply: Json = h.rpc_json("job-list.list", &body).await?;
        reply["jobs"].as_array().cloned().unwrap_or_default()
    } else {
        let mut jobs = Vec::new();
        for id in ids {
            let reply: Json = h.rpc_json("job-list.list-id", &json!({ "id": id })).await?;
            jobs.push(reply["job"].clone());
        }
        jobs
    };
    let mut names = HashMap::new();
    let mut nodes = Vec::new();
    for job in &jobs {
        let uid = job["userid"].as_u64().unwrap_or(0) as u32;
        let username = names
            .entry(uid)
            .or_insert_with(|| util::username(uid))
            .clone();
        let row = JobRow {
            job,
            username,
            now: plan.now,
        };
        let mut ps = PsRow {
            row,
            instance: HashMap::new(),
        };
        let mut children = None;
        if ps.row.state() == JobState::Run
            && let Some(uri) = proxy::published_uri(h, ps.row.id()).await?
            && let Ok(child) = Handle::connect(&uri).await
        {
            if plan.wants_instance_fields() {
                ps.instance = instance_fields(&child).await.unwrap_or_default();
            }
            children = match level < plan.max_level {
                true => Some(Box::pin(load(&child, plan, &[], level + 1)).await?),
                false => Some(Vec::new()),
            };
        }
        let fmt = match children {
            Some(_) => &plan.parent_label,
            None => &plan.label,
        };
        let label = fmt.render(None, &[&ps as &dyn Row]).join("");
        let details = plan
            .details
            .as_ref()
            .map(|f| f.render(None, &[&ps as &dyn Row]).join(""));
        nodes.push(Node {
            label,
            details,
            children: children.unwrap_or_default(),
        });
    }
    Ok(nodes)
}

fn unsafe_getuid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The width to cut lines at, if any: `COLUMNS`, else the terminal's.
fn width() -> Option<usize> {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(cols);
    }
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass, nothing else.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let plan = Plan::new(&args)?;
    let ids = args
        .ids
        .iter()
        .map(|t| crate::job::parse_id(t).map(|id| id.0))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let skip_root = match args.skip_root.as_deref() {
        Some("yes") => true,
        Some("no") => false,
        None => plan.details.is_some() || !ids.is_empty(),
        Some(other) => bail!("--skip-root: expected yes or no, not '{other}'"),
    };
    let h = util::connect().await?;
    let mut nodes = load(&h, &plan, &ids, 0).await?;
    if !args.no_combine {
        nodes = tree::combine(nodes);
    }
    let style = match (args.ascii, args.compact) {
        (true, _) => Style::ASCII,
        (false, true) => Style::COMPACT,
        _ => Style::UNICODE,
    };
    let roots = match skip_root {
        true => nodes,
        false => vec![Node {
            label: ".".into(),
            details: plan.details.as_ref().map(|f| {
                let blank = f.render(None, &[&EmptyRow as &dyn Row]).join("");
                " ".repeat(blank.chars().count())
            }),
            children: nodes,
        }],
    };
    if let Some(details) = &plan.details
        && !args.no_header
    {
        let mut headings = fields::headings();
        headings.extend(INSTANCE_FIELDS.iter().copied());
        if let Some(header) = details.render(Some(&headings), &[]).first() {
            println!("{header}");
        }
    }
    let width = (!args.long).then(width).flatten();
    for line in tree::render(&roots, style) {
        match width {
            Some(w) => println!("{}", tree::truncate(&line, w)),
            None => println!("{line}"),
        }
    }
    Ok(0)
}

/// A row with no values (to size the details column of the root line).
struct EmptyRow;

impl Row for EmptyRow {
    fn get(&self, _: &str) -> Value {
        Value::Empty
    }
}
