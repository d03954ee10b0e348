//! `flux jobs [OPTIONS] [JOBID...]`: list jobs from the `job-list` service.

pub mod fields;
pub mod filter;
pub mod format;
mod named;
mod output;

use anyhow::{Context as _, bail};
use flux_proto::Handle;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::job::parse_id;
use crate::util;

/// List jobs.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// List jobs in all states, including inactive
    #[arg(short = 'a')]
    all_states: bool,
    /// List jobs of all users
    #[arg(short = 'A')]
    all_users: bool,
    /// List jobs of USER (a name, a uid, or `all`)
    #[arg(short = 'u', long = "user")]
    user: Option<String>,
    /// Only jobs in these states or with these results (comma separated)
    #[arg(short = 'f', long = "filter", value_delimiter = ',')]
    filter: Vec<String>,
    /// Do not print the header
    #[arg(short = 'n', long = "no-header")]
    no_header: bool,
    /// Output format: a named format (default, long, deps, endreason, cute) or a format string
    #[arg(short = 'o', long = "format")]
    format: Option<String>,
    /// At most N jobs (0: no limit)
    #[arg(short = 'c', long = "count", default_value_t = 1000)]
    count: usize,
    /// Only jobs inactive since WHEN (epoch seconds, or an FSD ago such as 1h); implies -a
    #[arg(long)]
    since: Option<String>,
    /// Only jobs of this name
    #[arg(long)]
    name: Option<String>,
    /// Only jobs of this queue
    #[arg(short = 'q', long)]
    queue: Option<String>,
    /// Sort by these fields (comma separated, `-` before a field to reverse)
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    sort: Vec<String>,
    /// Print the jobs as JSON
    #[arg(long)]
    json: bool,
    /// Print job counts before the listing
    #[arg(long)]
    stats: bool,
    /// Print job counts only; exit 0 if there are active jobs, 1 otherwise
    #[arg(long = "stats-only")]
    stats_only: bool,
    /// Job ids to list
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct JobsReply {
    jobs: Vec<Value>,
}

#[derive(Deserialize)]
struct JobReply {
    job: Value,
}

/// The uid of login name `name`.
fn uid_of(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; getpwnam_r writes only into `pwd` and
    // `buf` (within buf.len()), and `result` is non-null only if `pwd` was filled in.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    (rc == 0 && !result.is_null()).then_some(pwd.pw_uid)
}

/// The `userid` of the request: a uid or `"all"`.
fn userid(args: &Args) -> anyhow::Result<Value> {
    if args.all_users {
        return Ok(json!("all"));
    }
    match args.user.as_deref() {
        // SAFETY: getuid has no preconditions.
        None => Ok(json!(unsafe { libc::getuid() })),
        Some("all") => Ok(json!("all")),
        Some(u) => match u.parse::<u32>().ok().or_else(|| uid_of(u)) {
            Some(uid) => Ok(json!(uid)),
            None => bail!("invalid user {u}"),
        },
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `--since WHEN`: epoch seconds, or a duration ago (`1h`, `-1h`).
fn parse_since(when: &str) -> anyhow::Result<f64> {
    if let Ok(t) = when.parse::<f64>()
        && t > 1e9
    {
        return Ok(t);
    }
    let ago = flux_proto::types::fsd::parse(when.trim_start_matches('-'))
        .with_context(|| format!("invalid --since '{when}'"))?;
    Ok(now() - ago)
}

async fn stats(h: &Handle) -> anyhow::Result<(String, bool)> {
    let s: Value = h.rpc_json("job-list.stats", &json!({})).await?;
    let n = |k: &str| s["job_states"][k].as_u64().unwrap_or(0);
    let f = |k: &str| s[k].as_u64().unwrap_or(0);
    let pending = n("new") + n("depend") + n("priority") + n("sched");
    let running = n("run") + n("cleanup");
    let line = format!(
        "{running} running, {} completed, {} failed, {pending} pending, {} inactive purged",
        f("successful"),
        f("failed") + f("canceled") + f("timeout"),
        f("inactive_purged"),
    );
    Ok((line, pending + running > 0))
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let fmt_text = named::resolve(args.format.as_deref().unwrap_or("default"));
    let fmt = format::Format::parse(fmt_text, &fields::known)?;
    for key in &args.sort {
        let name = key.trim_start_matches('-');
        if !fields::known(name) {
            bail!("Invalid sort key: {name}");
        }
    }
    let (mut states, results) = filter::masks(&args.filter).map_err(anyhow::Error::msg)?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    if states == 0 && results == 0 {
        states = if args.all_states || since.is_some() {
            0x7f
        } else {
            0x3e
        };
    }
    let userid = userid(&args)?;
    let ids = args
        .ids
        .iter()
        .map(|t| parse_id(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let h = util::connect().await?;
    if args.stats || args.stats_only {
        let (line, active) = stats(&h).await?;
        println!("{line}");
        if args.stats_only {
            return Ok(if active { 0 } else { 1 });
        }
    }
    let mut code = 0;
    let jobs = if ids.is_empty() {
        let body = json!({
            "max_entries": args.count,
            "userid": userid,
            "states": states,
            "results": results,
            "since": since.unwrap_or(0.0),
            "name": args.name,
            "queue": args.queue,
            "attrs": ["all"],
        });
        let reply: JobsReply = h.rpc_json("job-list.list", &body).await?;
        reply.jobs
    } else {
        let mut jobs = Vec::new();
        for (id, text) in ids.iter().zip(&args.ids) {
            match h
                .rpc_json::<_, JobReply>("job-list.list-id", &json!({ "id": id.0 }))
                .await
            {
                Ok(r) => jobs.push(r.job),
                Err(e) => {
                    eprintln!("flux-jobs: ERROR: {text}: {e}");
                    code = 1;
                }
            }
        }
        jobs
    };
    let out = output::Output {
        format: &fmt,
        header: !args.no_header,
        sort: &args.sort,
        now: now(),
    };
    if args.json {
        println!("{}", output::json(&jobs, ids.len() == 1));
    } else {
        for line in out.lines(&jobs) {
            println!("{line}");
        }
    }
    Ok(code)
}
