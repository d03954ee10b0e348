//! `flux proxy JOBID|URI [COMMAND...]`: run COMMAND (default: `$SHELL`) against the Flux
//! instance that a running job of this instance is (started by `flux batch` or
//! `flux alloc`), or against the instance at URI; exit with COMMAND's exit code.
//! A path of ids (`ID1/ID2`) descends through nested instances.

use std::time::Duration;

use anyhow::{Context as _, bail};
use flux_actors::broker::parent::URI_KEY;
use flux_proto::Handle;
use flux_proto::types::eventlog;
use flux_proto::types::{JobId, JobRecord, JobState};

use crate::kvs::client;
use crate::util;

/// Run a command against a child instance.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// A job that is a Flux instance (or a path ID/ID/...), or a local:// URI
    #[arg(value_name = "JOBID|URI")]
    pub target: String,
    /// The command and its arguments (default: $SHELL)
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Where a job stands, from its eventlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPhase {
    /// Not started yet.
    Pending,
    Running,
    /// Finished, or being cleaned up.
    Ended,
}

/// The phase of job `id`.
pub async fn phase(h: &Handle, id: JobId) -> anyhow::Result<JobPhase> {
    let Some(log) = lookup(h, &id.kvs_key("eventlog")).await? else {
        bail!("{}: unknown job id", id.to_f58());
    };
    let entries = eventlog::parse(&String::from_utf8_lossy(&log))?;
    let record =
        JobRecord::replay(&entries).map_err(|(i, e)| anyhow::anyhow!("eventlog event {i}: {e}"))?;
    Ok(match record.state {
        s if s.is_pending() => JobPhase::Pending,
        JobState::Run => JobPhase::Running,
        _ => JobPhase::Ended,
    })
}

/// The value at `key` in the primary namespace; `None` if there is none.
async fn lookup(h: &Handle, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
    match client::get_value(h, "primary", key).await {
        Ok(v) => Ok(Some(v)),
        Err(e)
            if e.downcast_ref::<flux_proto::Error>()
                .is_some_and(|e| e.errnum() == flux_proto::errno::ENOENT) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The URI job `id`'s instance published, if any.
pub async fn published_uri(h: &Handle, id: JobId) -> anyhow::Result<Option<String>> {
    Ok(lookup(h, &id.kvs_key(URI_KEY))
        .await?
        .map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Whether job `id` runs a broker (`flux batch`, `flux alloc`): its command is `fluxd`.
async fn is_instance(h: &Handle, id: JobId) -> anyhow::Result<bool> {
    let Some(spec) = lookup(h, &id.kvs_key("jobspec")).await? else {
        return Ok(false);
    };
    let spec: serde_json::Value = serde_json::from_slice(&spec)?;
    Ok(spec
        .pointer("/tasks/0/command/0")
        .and_then(|c| c.as_str())
        .is_some_and(|c| c.rsplit('/').next() == Some("fluxd")))
}

/// The URI of running job `id`'s instance. A running instance that has not published
/// its URI yet is still starting: wait for it. With `wait`, also wait for the job to
/// start (failing if the job ends first).
pub async fn child_uri(h: &Handle, id: JobId, wait: bool) -> anyhow::Result<String> {
    let mut instance = None;
    loop {
        let phase = phase(h, id).await?;
        if phase == JobPhase::Ended {
            bail!("job {} is not running", id.to_f58());
        }
        if phase == JobPhase::Running {
            if let Some(uri) = published_uri(h, id).await? {
                return Ok(uri);
            }
            if instance.is_none() {
                instance = Some(is_instance(h, id).await?);
            }
            if instance == Some(false) {
                bail!("job {} is not a Flux instance", id.to_f58());
            }
        } else if !wait {
            bail!("job {} is not running", id.to_f58());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resolve JOBID, ID/ID/..., or a URI, from the instance at `h`.
pub async fn resolve(h: &Handle, target: &str) -> anyhow::Result<String> {
    if target.starts_with("local://") {
        return Ok(target.to_string());
    }
    let mut uri: Option<String> = None;
    for part in target.split('/').filter(|p| !p.is_empty()) {
        let id = crate::job::parse_id(part)?;
        let here = match &uri {
            None => h.clone(),
            Some(u) => Handle::connect(u.as_str())
                .await
                .with_context(|| format!("cannot connect to {u}"))?,
        };
        uri = Some(child_uri(&here, id, false).await?);
    }
    uri.with_context(|| format!("invalid target '{target}'"))
}

/// Run `command` (default `$SHELL`) with `FLUX_URI=uri`; its exit code. Like a shell, we
/// ignore the terminal's SIGINT and SIGQUIT meanwhile: they are the command's to handle,
/// and we still have work to do when it exits.
pub fn run_in(uri: &str, command: &[String]) -> anyhow::Result<i32> {
    use std::os::unix::process::CommandExt;
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let argv = match command {
        [] => vec![shell],
        argv => argv.to_vec(),
    };
    // SAFETY: signal() only changes this process's dispositions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let mut cmd = std::process::Command::new(&argv[0]);
    // SAFETY: between fork and exec we only call signal(), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = cmd
        .args(&argv[1..])
        .env("FLUX_URI", uri)
        .env_remove("FLUX_JOB_ID")
        .env_remove("FLUX_KVS_NAMESPACE")
        .status()
        .map_err(|e| anyhow::anyhow!(flux_shell::exit::spawn_error_message(&argv[0], &e)))?;
    Ok(flux_shell::exit::exit_code(status))
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let uri = resolve(&h, &args.target).await?;
    // Check the instance answers before handing it to the command.
    Handle::connect(&uri)
        .await
        .with_context(|| format!("cannot connect to {uri}"))?;
    run_in(&uri, &args.command)
}
