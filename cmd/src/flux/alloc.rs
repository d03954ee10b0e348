//! `flux alloc [OPTIONS] [COMMAND...]`: allocate resources as a new Flux instance and run
//! COMMAND (default: an interactive `$SHELL`, on this terminal) against it; when COMMAND
//! exits, the instance shuts down and `flux alloc` exits with COMMAND's exit code. With
//! `--bg`, print the job id once the instance is up and leave it running (reach it with
//! `flux proxy`, end it with `flux proxy ID flux shutdown` or `flux cancel`).

use anyhow::Context as _;
use flux_proto::Handle;
use flux_proto::types::JobId;

use crate::batch::InstanceOpts;
use crate::{job, proxy, submit, util};

/// Allocate a new instance for interactive use.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    #[command(flatten)]
    pub inst: InstanceOpts,
    /// Start the instance in the background: print its job id and exit
    #[arg(long)]
    pub bg: bool,
    /// Print the job id
    #[arg(short, long)]
    pub verbose: bool,
    /// The command and its arguments (default: $SHELL)
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    if args.bg && !args.command.is_empty() {
        anyhow::bail!("--bg takes no command");
    }
    // The instance runs no initial program: this command is its user.
    let spec = args.inst.jobspec(&["-Sbroker.rc2_none=1".to_string()])?;
    let opts = &args.inst.opts;
    if args.inst.dry_run {
        println!("{}", spec.to_dry_run_json());
        return Ok(0);
    }
    let h = util::connect().await?;
    let quiet = !(args.bg || args.verbose);
    let ids =
        submit::submit_all(&h, vec![spec], opts.urgency()?, opts.submit_flags()?, quiet).await?;
    let id = ids[0];
    match use_instance(&h, id, &args).await {
        Ok(Some(code)) => {
            job::wait_exit_code(&h, id).await?;
            Ok(code)
        }
        Ok(None) => Ok(0),
        Err(e) => {
            // The instance has no initial program: left alone it would never end.
            let _ = job::raise_one(&h, id, "cancel", 0, &format!("flux alloc: {e}")).await;
            Err(e)
        }
    }
}

/// Wait for job `id`'s instance, run the command (or shell) in it and shut it down; its
/// exit code (`None` with `--bg`, which leaves the instance running).
async fn use_instance(h: &Handle, id: JobId, args: &Args) -> anyhow::Result<Option<i32>> {
    let uri = tokio::select! {
        uri = proxy::child_uri(h, id, true) => uri?,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted while waiting for job {}", id.to_f58()),
    };
    if args.bg {
        return Ok(None);
    }
    let code = proxy::run_in(&uri, &args.command)?;
    // Shut the instance down; the job then completes.
    let child = Handle::connect(&uri)
        .await
        .with_context(|| format!("cannot reach the instance at {uri} to shut it down"))?;
    child
        .rpc_json_to::<_, serde_json::Value>("broker.shutdown", 0, &serde_json::json!({}))
        .await
        .context("cannot shut the instance down")?;
    Ok(Some(code))
}
