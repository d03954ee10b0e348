//! What to run for a job, decided from its jobspec before anything is spawned: simulated
//! execution or real tasks, their environment, and the time limit.

use std::collections::BTreeMap;
use std::time::Duration;

use flux_proto::types::{JobId, Jobspec, fsd};

/// How a job runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `attributes.system.exec.test.run_duration`: no process; finish after this long.
    Simulated(Duration),
    /// Spawn `ntasks` copies of the command.
    Tasks { argv: Vec<String>, ntasks: u32 },
}

/// The plan for one job.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: Mode,
    /// The time limit (`attributes.system.duration`), if any.
    pub limit: Option<Duration>,
    /// Environment shared by all tasks (task-specific variables are added at spawn).
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    /// Files for the tasks' stdout and stderr (`--output`/`--error`), instead of the KVS.
    pub stdout_path: Option<String>,
    pub stderr_path: Option<String>,
    /// Label the lines written to those files with the task rank (`--label-io`).
    pub stdout_label: bool,
    pub stderr_label: bool,
    /// Output passed on as it comes rather than by lines (`--unbuffered`).
    pub unbuffered: bool,
    /// A file for the tasks' stdin (`--input`), instead of nothing.
    pub stdin_path: Option<String>,
    /// Tasks read stdin forwarded through `job-exec.stdin` (`input.stdin.type=service`,
    /// set by `flux run`).
    pub stdin_service: bool,
    /// Serve simple PMI to the tasks (`-o pmi=off` turns it off).
    pub pmi: bool,
    /// Task ranks that run on a pseudo-terminal (`-o pty`: all; `pty.ranks=IDSET`;
    /// `pty.interactive`: task 0).
    pub pty: Vec<u32>,
    /// The `cpu-affinity` option (empty: the default, `on`).
    pub cpu_affinity: String,
    /// The submitter's soft resource limits (`rlimit` shell option), name and value.
    pub rlimits: Vec<(String, i64)>,
    /// `signal` shell option (`--signal=SIG@TIME`): signal and seconds before the limit.
    pub warning: Option<(i32, f64)>,
}

/// Why a job cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("invalid exec.test.run_duration: {0}")]
    RunDuration(String),
    #[error("jobspec has no command")]
    NoCommand,
}

/// Decide how to run `jobspec` as job `id` with `nnodes` nodes in an instance at `uri`.
pub fn plan(id: JobId, jobspec: &Jobspec, nnodes: u64, uri: &str) -> Result<Plan, PlanError> {
    let limit = Some(jobspec.duration())
        .filter(|d| *d > 0.0 && d.is_finite())
        .map(Duration::from_secs_f64);
    let mode = match jobspec.get_attribute("system.exec.test.run_duration") {
        Some(value) => {
            let secs = match &value {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => fsd::parse(s).ok(),
                _ => None,
            }
            .filter(|s| s.is_finite())
            .ok_or_else(|| PlanError::RunDuration(value.to_string()))?;
            Mode::Simulated(Duration::from_secs_f64(secs))
        }
        None => {
            let argv = jobspec.command().to_vec();
            if argv.is_empty() {
                return Err(PlanError::NoCommand);
            }
            Mode::Tasks {
                argv,
                ntasks: jobspec.ntasks().max(1) as u32,
            }
        }
    };
    let mut env: BTreeMap<String, String> = match &jobspec.attributes.system.environment {
        Some(env) => env.clone(),
        None => std::env::vars().collect(),
    };
    env.insert("FLUX_JOB_ID".into(), id.to_f58());
    env.insert("FLUX_JOB_SIZE".into(), jobspec.ntasks().max(1).to_string());
    env.insert("FLUX_JOB_NNODES".into(), nnodes.max(1).to_string());
    env.insert("FLUX_URI".into(), uri.to_string());
    env.insert("FLUX_KVS_NAMESPACE".into(), format!("job-{}", id.0));
    let cwd = jobspec.cwd().map(str::to_string);
    let path = |stream: &str| {
        jobspec
            .get_attribute(&format!("system.shell.options.output.{stream}.path"))
            .and_then(|v| {
                v.as_str()
                    .map(|p| render_path(p, id, jobspec, cwd.as_deref()))
            })
    };
    let stdout_path = path("stdout");
    // `--output` alone sends stderr to the same file, as in Flux.
    let stderr_path = path("stderr").or_else(|| stdout_path.clone());
    let stdin_path = jobspec
        .get_attribute("system.shell.options.input.stdin.path")
        .and_then(|v| {
            v.as_str()
                .map(|p| render_path(p, id, jobspec, cwd.as_deref()))
        });
    let option = |key: &str| jobspec.get_attribute(&format!("system.shell.options.{key}"));
    let pmi = jobspec
        .get_attribute("system.shell.options.pmi")
        .is_none_or(|v| v.as_str() != Some("off"));
    let flag = |key: &str| option(key).and_then(|v| v.as_bool()).unwrap_or(false);
    let stdout_label = stdout_path.is_some() && flag("output.stdout.label");
    // stderr shares a labeled stdout file unless it has its own.
    let stderr_label = if option("output.stderr.path").is_some() {
        flag("output.stderr.label")
    } else {
        stdout_label
    };
    let unbuffered = option("output.stdout.buffer.type")
        .and_then(|v| v.as_str().map(str::to_string))
        == Some("none".to_string());
    let rlimits = option("rlimit")
        .and_then(|v| v.as_object().cloned())
        .map(|limits| {
            limits
                .iter()
                .filter_map(|(name, v)| Some((name.clone(), v.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    let warning = option("signal").map(|v| {
        let signum = v.get("signum").and_then(|s| s.as_i64()).unwrap_or(10) as i32;
        let timeleft = v.get("timeleft").and_then(|t| t.as_f64()).unwrap_or(60.0);
        (signum, timeleft)
    });
    let stdin_service = stdin_path.is_none()
        && option("input.stdin.type").and_then(|v| v.as_str().map(str::to_string))
            == Some("service".to_string());
    let ntasks = match &mode {
        Mode::Tasks { ntasks, .. } => *ntasks,
        Mode::Simulated(_) => 0,
    };
    let pty = option("pty")
        .map(|v| pty_ranks(&v, ntasks))
        .unwrap_or_default();
    let cpu_affinity = option("cpu-affinity")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Ok(Plan {
        mode,
        stdin_service,
        pty,
        cpu_affinity,
        limit,
        env,
        cwd,
        stdout_path,
        stderr_path,
        stdout_label,
        stderr_label,
        unbuffered,
        stdin_path,
        pmi,
        rlimits,
        warning,
    })
}

/// The tasks the `pty` option puts on a terminal.
fn pty_ranks(value: &serde_json::Value, ntasks: u32) -> Vec<u32> {
    let ranks = match value.get("ranks") {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        _ if value.get("interactive").is_some() => Some("0".to_string()),
        _ => None,
    };
    match ranks.as_deref() {
        None | Some("all") => (0..ntasks).collect(),
        Some(text) => flux_proto::types::IdSet::parse(text)
            .map(|ids| ids.iter().filter(|r| *r < ntasks).collect())
            .unwrap_or_default(),
    }
}

/// Expand `{{id}}` (and `{{jobid}}`, `{{id.dec}}`, `{{name}}`) in an output path, relative
/// to the job's working directory.
fn render_path(template: &str, id: JobId, jobspec: &Jobspec, cwd: Option<&str>) -> String {
    let path = template
        .replace("{{id}}", &id.to_f58())
        .replace("{{jobid}}", &id.to_f58())
        .replace("{{id.dec}}", &id.0.to_string())
        .replace("{{name}}", &jobspec.job_name().unwrap_or_default());
    match cwd {
        Some(dir) if !path.starts_with('/') => format!("{dir}/{path}"),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flux_proto::types::jobspec::JobspecBuilder;

    #[test]
    fn simulated_jobs_run_no_process() {
        let mut spec = JobspecBuilder::new(["true"]).build().unwrap();
        spec.set_attribute("system.exec.test.run_duration", "0.5s".into())
            .unwrap();
        let plan = plan(JobId(1), &spec, 1, "local:///x").unwrap();
        assert_eq!(plan.mode, Mode::Simulated(Duration::from_millis(500)));
        spec.set_attribute("system.exec.test.run_duration", "soon".into())
            .unwrap();
        assert!(matches!(
            super::plan(JobId(1), &spec, 1, "u"),
            Err(PlanError::RunDuration(_))
        ));
    }

    #[test]
    fn tasks_get_the_job_environment() {
        let spec = JobspecBuilder::new(["hostname", "-s"])
            .ntasks(3)
            .duration(60.0)
            .cwd("/tmp")
            .build()
            .unwrap();
        let plan = plan(JobId(1 << 30), &spec, 2, "local:///x").unwrap();
        assert_eq!(
            plan.mode,
            Mode::Tasks {
                argv: vec!["hostname".into(), "-s".into()],
                ntasks: 3
            }
        );
        assert_eq!(plan.limit, Some(Duration::from_secs(60)));
        assert_eq!(plan.cwd.as_deref(), Some("/tmp"));
        assert_eq!(plan.env["FLUX_JOB_SIZE"], "3");
        assert_eq!(plan.env["FLUX_JOB_NNODES"], "2");
        assert_eq!(plan.env["FLUX_URI"], "local:///x");
        assert_eq!(plan.env["FLUX_JOB_ID"], JobId(1 << 30).to_f58());
        assert_eq!(plan.stdout_path, None);
    }

    #[test]
    fn pty_options_choose_tasks() {
        use serde_json::json;
        assert_eq!(pty_ranks(&json!(1), 3), [0, 1, 2]);
        assert_eq!(pty_ranks(&json!({"interactive": 1}), 3), [0]);
        assert_eq!(pty_ranks(&json!({"ranks": "1-5"}), 3), [1, 2]);
        assert_eq!(pty_ranks(&json!({"ranks": 2}), 3), [2]);
    }

    #[test]
    fn output_paths_are_rendered() {
        let spec = JobspecBuilder::new(["true"])
            .cwd("/w")
            .output("out.{{id}}")
            .build()
            .unwrap();
        let plan = plan(JobId(1 << 30), &spec, 1, "u").unwrap();
        let expected = format!("/w/out.{}", JobId(1 << 30).to_f58());
        assert_eq!(plan.stdout_path.as_deref(), Some(expected.as_str()));
        assert_eq!(plan.stderr_path, plan.stdout_path);
    }
}
