//! `flux submit [OPTIONS] COMMAND...`: enqueue a job (or one per `--cc` id) and print its id.

use flux_proto::Handle;
use flux_proto::types::{IdSet, JobId, Jobspec};
use futures::StreamExt;

use crate::job::{self, attach};
use crate::jobopts::JobOpts;
use crate::util;

/// Submit a job.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    #[command(flatten)]
    pub opts: JobOpts,
    /// Submit one job per id, with FLUX_JOB_CC=id and {cc} replaced in the command
    #[arg(long, value_name = "IDSET")]
    pub cc: Option<String>,
    /// Like --cc, without setting FLUX_JOB_CC
    #[arg(long, value_name = "IDSET")]
    pub bcc: Option<String>,
    /// Wait for the jobs to end; exit with the largest exit code
    #[arg(long)]
    pub wait: bool,
    /// Copy the jobs' output to the terminal (implies --wait)
    #[arg(long)]
    pub watch: bool,
    /// Do not print job ids
    #[arg(long)]
    pub quiet: bool,
    /// Print the jobspec instead of submitting it
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Command and arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The copies `--cc`/`--bcc` ask for: (cc id, set FLUX_JOB_CC?), or one plain job.
fn copies(args: &Args) -> anyhow::Result<Vec<Option<(u32, bool)>>> {
    let (set, export) = match (&args.cc, &args.bcc) {
        (Some(_), Some(_)) => anyhow::bail!("--cc and --bcc cannot be combined"),
        (Some(s), None) => (s, true),
        (None, Some(s)) => (s, false),
        (None, None) => return Ok(vec![None]),
    };
    let ids = IdSet::parse(set).map_err(|e| anyhow::anyhow!("invalid idset '{set}': {e}"))?;
    Ok(ids.iter().map(|cc| Some((cc, export))).collect())
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let urgency = args.opts.urgency()?;
    let flags = args.opts.submit_flags()?;
    let wait = args.wait || args.watch;
    let mut jobspecs = Vec::new();
    for copy in copies(&args)? {
        let mut opts = args.opts.clone();
        let mut command = args.command.clone();
        if let Some((cc, export)) = copy {
            command = command
                .iter()
                .map(|a| a.replace("{cc}", &cc.to_string()))
                .collect();
            if export {
                opts.env.push(format!("FLUX_JOB_CC={cc}"));
            }
        }
        jobspecs.push(opts.jobspec(&command)?);
    }
    if args.dry_run {
        for spec in &jobspecs {
            println!("{}", spec.to_dry_run_json());
        }
        return Ok(0);
    }
    let h = util::connect().await?;
    let ids = submit_all(&h, jobspecs, urgency, flags, args.quiet).await?;
    if !wait {
        return Ok(0);
    }
    wait_all(&h, ids, args.watch, args.opts.label_io).await
}

/// Submit jobspecs with many submissions in flight (job-ingest batches what arrives
/// together); print each id in order unless `quiet`.
pub async fn submit_all(
    h: &Handle,
    jobspecs: Vec<Jobspec>,
    urgency: u32,
    flags: u32,
    quiet: bool,
) -> anyhow::Result<Vec<JobId>> {
    let mut pending = futures::stream::iter(jobspecs.into_iter().map(|spec| {
        let h = h.clone();
        async move { job::submit_jobspec(&h, spec.to_value(), urgency, flags).await }
    }))
    .buffered(256);
    let mut ids = Vec::new();
    while let Some(id) = pending.next().await {
        let id = id?;
        if !quiet {
            println!("{}", id.to_f58());
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Wait for jobs to end (copying their output with `watch`); the largest exit code.
pub async fn wait_all(
    h: &Handle,
    ids: Vec<JobId>,
    watch: bool,
    label_io: bool,
) -> anyhow::Result<i32> {
    let mut code = 0;
    for id in ids {
        let job_code = if watch {
            attach(h, id, label_io, false).await?
        } else {
            job::wait_exit_code(h, id).await?
        };
        code = code.max(job_code);
    }
    Ok(code)
}
