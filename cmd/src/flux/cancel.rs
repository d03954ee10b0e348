//! `flux cancel [OPTIONS] [JOBID...]`: raise a `cancel` exception on jobs.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::job::parse_id;
use crate::util;

/// Cancel jobs.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Cancel all your active jobs
    #[arg(short = 'A', long)]
    all: bool,
    /// Cancel the jobs of USER (a uid, or `all`: instance owner only)
    #[arg(short, long)]
    user: Option<String>,
    /// Only jobs in these states: depend, priority, sched, run, pending, running, active
    #[arg(short = 'S', long, value_delimiter = ',')]
    states: Vec<String>,
    /// Note for the exception
    #[arg(short, long)]
    message: Option<String>,
    /// Say what would be canceled, cancel nothing
    #[arg(short = 'n', long = "dry-run")]
    dry_run: bool,
    /// Print nothing
    #[arg(short, long)]
    quiet: bool,
    /// Job ids
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct Listed {
    id: u64,
    state: String,
}

#[derive(Deserialize)]
struct List {
    jobs: Vec<Listed>,
}

/// Whether a job in `state` (flux's upper-case name) is selected by `--states`.
fn state_selected(states: &[String], state: &str) -> anyhow::Result<bool> {
    if states.is_empty() {
        return Ok(true);
    }
    for s in states {
        let hit = match s.to_lowercase().as_str() {
            "depend" => state == "DEPEND",
            "priority" => state == "PRIORITY",
            "sched" => state == "SCHED",
            "run" => state == "RUN",
            "cleanup" => state == "CLEANUP",
            "pending" => matches!(state, "DEPEND" | "PRIORITY" | "SCHED"),
            "running" => matches!(state, "RUN" | "CLEANUP"),
            "active" => state != "INACTIVE",
            other => anyhow::bail!("invalid state '{other}'"),
        };
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let selecting = args.all || args.user.is_some() || !args.states.is_empty();
    if selecting && !args.ids.is_empty() {
        anyhow::bail!("job ids cannot be combined with --all, --user or --states");
    }
    if !selecting && args.ids.is_empty() {
        anyhow::bail!("specify job ids or --all");
    }
    let note = args.message.clone().unwrap_or_default();
    let h = util::connect().await?;
    let ids: Vec<u64> = if selecting {
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        let userid = match args.user.as_deref() {
            None => Some(me),
            Some("all") => None,
            Some(u) => Some(
                u.parse::<u32>()
                    .map_err(|_| anyhow::anyhow!("invalid user '{u}'"))?,
            ),
        };
        let list: List = h
            .rpc_json(
                "job-manager.list",
                &json!({ "userid": userid, "active": true }),
            )
            .await?;
        let mut ids = Vec::new();
        for job in list.jobs {
            if state_selected(&args.states, &job.state)? {
                ids.push(job.id);
            }
        }
        if ids.is_empty() {
            if !args.quiet {
                eprintln!("flux-cancel: Matched 0 jobs");
            }
            return Ok(0);
        }
        if args.dry_run {
            eprintln!("flux-cancel: Would cancel {} jobs", ids.len());
            return Ok(0);
        }
        ids
    } else {
        args.ids
            .iter()
            .map(|t| parse_id(t).map(|id| id.0))
            .collect::<anyhow::Result<_>>()?
    };
    let mut errors = 0;
    for id in &ids {
        let body = json!({ "id": id, "type": "cancel", "severity": 0, "note": note });
        if let Err(e) = h.rpc_json::<_, Value>("job-manager.raise", &body).await {
            if !selecting {
                return Err(e.into());
            }
            errors += 1;
        }
    }
    if selecting && !args.quiet {
        eprintln!(
            "flux-cancel: Canceled {} jobs ({errors} errors)",
            ids.len() - errors
        );
    }
    Ok(0)
}
