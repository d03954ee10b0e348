//! `flux watch [OPTIONS] [JOBID...]`: follow existing jobs (output and completion) like
//! `flux submit --watch`, and exit with the largest exit code.

use serde::Deserialize;
use serde_json::json;

use crate::job::{attach, parse_id};
use crate::util;

/// Watch jobs.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Watch all your active jobs
    #[arg(short, long)]
    active: bool,
    /// Watch all your jobs, active or not
    #[arg(short = 'A', long)]
    all: bool,
    /// At most N jobs (with --active/--all)
    #[arg(short, long, default_value_t = 10)]
    count: usize,
    /// Job ids
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct Listed {
    id: u64,
}

#[derive(Deserialize)]
struct List {
    jobs: Vec<Listed>,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let selecting = args.active || args.all;
    if selecting != args.ids.is_empty() {
        anyhow::bail!("specify job ids, or one of --active, --all");
    }
    let h = util::connect().await?;
    let mut ids = args
        .ids
        .iter()
        .map(|t| parse_id(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if ids.is_empty() {
        // SAFETY: getuid has no preconditions.
        let me = unsafe { libc::getuid() };
        let body = json!({ "userid": me, "max": args.count, "active": args.active });
        let list: List = h.rpc_json("job-manager.list", &body).await?;
        ids = list
            .jobs
            .iter()
            .rev()
            .map(|j| flux_proto::types::JobId(j.id))
            .collect();
    }
    let mut code = 0;
    for id in ids {
        code = code.max(attach(&h, id, false, false).await?);
    }
    Ok(code)
}
