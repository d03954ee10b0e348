//! `flux run [OPTIONS] COMMAND...`: submit a job, follow its output, exit as it did.
//! Ctrl-C cancels the job (its tasks get SIGTERM, then SIGKILL); a second one stops
//! waiting for it.

use serde_json::{Value, json};

use crate::job::{self, attach};
use crate::jobopts::JobOpts;
use crate::util;

/// Run a job interactively.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    #[command(flatten)]
    pub opts: JobOpts,
    /// Print the jobid (-v), job events (-vv)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print the jobspec instead of running it
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Command and arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let spec = args.opts.jobspec(&args.command)?;
    if args.dry_run {
        println!("{}", spec.to_dry_run_json());
        return Ok(0);
    }
    let h = util::connect().await?;
    let id = job::submit_jobspec(
        &h,
        spec.to_value(),
        args.opts.urgency()?,
        args.opts.submit_flags()?,
    )
    .await?;
    if args.verbose > 0 {
        eprintln!("jobid: {}", id.to_f58());
    }
    let attached = attach(&h, id, args.opts.label_io, args.verbose > 1);
    tokio::pin!(attached);
    let mut canceled = false;
    loop {
        tokio::select! {
            code = &mut attached => return code,
            _ = tokio::signal::ctrl_c() => {
                if canceled {
                    return Ok(128 + libc::SIGINT);
                }
                canceled = true;
                eprintln!("flux-run: interrupted: canceling job {} (Ctrl-C again to stop waiting)", id.to_f58());
                let body = json!({ "id": id.0, "type": "cancel", "severity": 0, "note": "interrupted by Ctrl-C" });
                if let Err(e) = h.rpc_json::<_, Value>("job-manager.raise", &body).await {
                    eprintln!("flux-run: ERROR: cannot cancel job {}: {e}", id.to_f58());
                }
            }
        }
    }
}
