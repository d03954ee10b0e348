//! `flux run [OPTIONS] COMMAND...`: submit a job, follow its output, exit as it did.
//! Ctrl-C cancels the job (its tasks get SIGTERM, then SIGKILL); a second one stops
//! waiting for it.

use flux_proto::types::IdSet;
use serde_json::json;

use crate::job::attach::forward_stdin;
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
    let mut spec = args.opts.jobspec(&args.command)?;
    // Without `--input=FILE`, the tasks read what this command forwards: its stdin, to
    // all tasks or to the ranks `--input` names.
    let interactive = spec
        .get_attribute("system.shell.options.pty.interactive")
        .is_some();
    let stdin_ranks = match args.opts.input.as_deref() {
        // `-o pty.interactive`: this terminal drives task 0's.
        None if interactive => Some("0".to_string()),
        None => Some("all".to_string()),
        Some(text) if text == "all" || IdSet::parse(text).is_ok() => Some(text.to_string()),
        Some(_) => None,
    };
    if stdin_ranks.is_some() {
        spec.set_shell_option("input.stdin.type", json!("service"))?;
    }
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
    let _raw = interactive.then(RawTerminal::new).flatten();
    let attached = attach(&h, id, args.opts.label_io, args.verbose > 1);
    tokio::pin!(attached);
    let ranks = stdin_ranks.clone().unwrap_or_default();
    let forward = forward_stdin(&h, id, &ranks);
    tokio::pin!(forward);
    let mut forwarding = stdin_ranks.is_some();
    let mut canceled = false;
    loop {
        tokio::select! {
            code = &mut attached => return code,
            _ = &mut forward, if forwarding => forwarding = false,
            _ = tokio::signal::ctrl_c() => {
                if canceled {
                    return Ok(128 + libc::SIGINT);
                }
                canceled = true;
                eprintln!("flux-run: interrupted: canceling job {} (Ctrl-C again to stop waiting)", id.to_f58());
                if let Err(e) = job::raise_one(&h, id, "cancel", 0, "interrupted by Ctrl-C").await {
                    eprintln!("flux-run: ERROR: cannot cancel job {}: {e}", id.to_f58());
                }
            }
        }
    }
}

/// This terminal in raw mode while attached to a task's pty (keys go through as typed);
/// restored when dropped.
struct RawTerminal {
    saved: libc::termios,
}

impl RawTerminal {
    /// `None` when stdin is not a terminal.
    fn new() -> Option<RawTerminal> {
        // SAFETY: termios is plain data; tcgetattr/tcsetattr read and write the one we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::isatty(0) != 1 || libc::tcgetattr(0, &mut saved) != 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(0, libc::TCSANOW, &raw);
            Some(RawTerminal { saved })
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new`.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.saved) };
    }
}
