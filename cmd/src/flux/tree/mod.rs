//! `flux tree [-T TOPOLOGY] [-J NJOBS] [-N NODES] [-c CORES] [-g GPUS] [-Q POLICY:...]
//! [-o FILE] [-S KEY=VAL] COMMAND...`: build a hierarchy of Flux instances of the given
//! shape under this one (`-T2x2`: two children, each with two children), run NJOBS copies
//! of COMMAND spread over the leaf instances, and write each instance's performance (one
//! line per instance) to FILE. `-Q` sets the scheduler policy of each level below this
//! one (fluxion's queue policies: fcfs, easy, hybrid, conservative).
//!
//! Each child is a job (an instance over its share of the resources) whose initial
//! program is `flux tree` itself with the rest of the topology; it writes its records to
//! a file its parent collects.

mod plan;

use anyhow::{Context as _, bail};
use flux_proto::Handle;
use serde_json::{Value, json};

use crate::batch::InstanceOpts;
use crate::jobopts::JobOpts;
use crate::{job, submit, util};
use plan::{Perf, Shape};

/// Run jobs over a hierarchy of instances.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Children per level, e.g. 2x2 (default: run the jobs here)
    #[arg(short = 'T', long, value_name = "TOPOLOGY")]
    topology: Option<String>,
    /// Number of jobs to run in all
    #[arg(short = 'J', long, default_value_t = 1)]
    njobs: u64,
    /// Nodes of the hierarchy
    #[arg(short = 'N', long, default_value_t = 1)]
    nnodes: u64,
    /// Cores per node of the hierarchy
    #[arg(short = 'c', long = "ncores-per-node", default_value_t = 1)]
    cores: u64,
    /// GPUs per node of the hierarchy
    #[arg(short = 'g', long = "ngpus-per-node", default_value_t = 0)]
    gpus: u64,
    /// Scheduler queue policy of each level below this one, e.g. easy:fcfs
    #[arg(short = 'Q', long = "queue-policy", value_name = "POLICY[:POLICY...]")]
    queue_policy: Option<String>,
    /// Write the instances' performance records to FILE
    #[arg(short = 'o', long = "perf-out", value_name = "FILE")]
    perf_out: Option<String>,
    /// Jobspec attribute KEY=VAL of the jobs (e.g. exec.test.run_duration=0)
    #[arg(short = 'S', long = "setattr", value_name = "KEY=VAL")]
    setattr: Vec<String>,
    /// (internal) this instance's id in the tree
    #[arg(long, hide = true, default_value = "tree")]
    prefix: String,
    /// (internal) the scheduler policy this instance runs
    #[arg(long = "sched-policy", hide = true)]
    sched_policy: Option<String>,
    /// The jobs' command
    #[arg(trailing_var_arg = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Replace this instance's scheduler by fluxion with queue policy `policy`.
async fn use_policy(h: &Handle, policy: &str) -> anyhow::Result<()> {
    let call = |topic: &'static str, body: Value| {
        let h = h.clone();
        async move {
            h.rpc_json::<_, Value>(topic, &body)
                .await
                .with_context(|| format!("{topic} {body}"))
        }
    };
    call("module.remove", json!({ "name": "sched-simple" })).await?;
    call(
        "module.load",
        json!({ "name": "sched-fluxion-resource", "args": [] }),
    )
    .await?;
    call(
        "module.load",
        json!({ "name": "sched-fluxion-qmanager", "args": [format!("queue-policy={policy}")] }),
    )
    .await?;
    Ok(())
}

/// Jobs of the instance at `h` that did not succeed, so far.
async fn unsuccessful(h: &Handle) -> anyhow::Result<u64> {
    let stats: Value = h.rpc_json("job-list.stats", &json!({})).await?;
    Ok(["failed", "canceled", "timeout"]
        .iter()
        .map(|k| stats[k].as_u64().unwrap_or(0))
        .sum())
}

/// Run the jobs here; whether all succeeded.
async fn run_leaf(h: &Handle, args: &Args, njobs: u64) -> anyhow::Result<bool> {
    let before = unsuccessful(h).await?;
    let opts = JobOpts {
        setattr: args.setattr.clone(),
        ..Default::default()
    };
    let spec = opts.jobspec(&args.command)?;
    let specs = vec![spec; njobs as usize];
    submit::submit_all(h, specs, 16, 0, true).await?;
    h.rpc_json::<_, Value>("job-manager.queue-drain", &json!({}))
        .await?;
    Ok(unsuccessful(h).await? == before)
}

/// Start the children, wait for them, collect their records; whether all succeeded.
async fn run_children(
    h: &Handle,
    args: &Args,
    children: Vec<(Shape, Option<String>)>,
    records: &mut Vec<String>,
) -> anyhow::Result<bool> {
    let dir = tempfile_dir()?;
    let flux = std::env::current_exe()?.display().to_string();
    let mut specs = Vec::new();
    let mut outs = Vec::new();
    for (i, (shape, policy)) in children.iter().enumerate() {
        let id = format!("{}.{}", args.prefix, i + 1);
        let out = dir.join(&id);
        let topology: Vec<String> = shape.topology.iter().map(u32::to_string).collect();
        let mut argv = vec![
            "--".to_string(),
            flux.clone(),
            "tree".into(),
            format!("--prefix={id}"),
            format!("--njobs={}", shape.njobs),
            format!("--nnodes={}", shape.nnodes),
            format!("--ncores-per-node={}", shape.cores),
            format!("--ngpus-per-node={}", shape.gpus),
            format!("--perf-out={}", out.display()),
        ];
        if !topology.is_empty() {
            argv.push(format!("--topology={}", topology.join("x")));
        }
        if !shape.policies.is_empty() {
            argv.push(format!("--queue-policy={}", shape.policies.join(":")));
        }
        if let Some(p) = policy {
            argv.push(format!("--sched-policy={p}"));
        }
        argv.extend(args.setattr.iter().map(|kv| format!("--setattr={kv}")));
        argv.push("--".into());
        argv.extend(args.command.iter().cloned());
        let inst = InstanceOpts {
            opts: JobOpts {
                nodes: Some(shape.nnodes),
                ntasks: Some(shape.nnodes),
                cores_per_task: Some(shape.cores),
                gpus_per_task: (shape.gpus > 0).then_some(shape.gpus),
                job_name: Some(id),
                ..Default::default()
            },
            ..Default::default()
        };
        specs.push(inst.jobspec(&argv)?);
        outs.push(out);
    }
    let ids = submit::submit_all(h, specs, 16, 0, true).await?;
    let mut ok = true;
    for id in ids {
        ok &= job::wait_exit_code(h, id).await? == 0;
    }
    for out in &outs {
        match std::fs::read_to_string(out) {
            Ok(text) => records.extend(text.lines().map(str::to_string)),
            Err(_) => ok = false,
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ok)
}

/// A private directory for the children's records.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let base = std::env::var("FLUX_JOB_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = base.join(format!("flux-tree-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let topology = match &args.topology {
        Some(t) => plan::parse_topology(t)?,
        None => Vec::new(),
    };
    let policies: Vec<String> = match &args.queue_policy {
        Some(q) => q.split(':').map(str::to_string).collect(),
        None => Vec::new(),
    };
    if policies.len() > topology.len() {
        bail!(
            "{} queue policies for {} level(s) of topology",
            policies.len(),
            topology.len()
        );
    }
    if args.nnodes == 0 || args.cores == 0 {
        bail!("--nnodes and --ncores-per-node must be positive");
    }
    let shape = Shape {
        topology,
        njobs: args.njobs,
        nnodes: args.nnodes,
        cores: args.cores,
        gpus: args.gpus,
        policies,
    };
    let children = shape.children()?;
    let h = util::connect().await?;
    if let Some(policy) = &args.sched_policy {
        use_policy(&h, policy)
            .await
            .with_context(|| format!("cannot use queue policy {policy}"))?;
    }
    let begin = flux_actors::broker::config::now();
    let mut records = Vec::new();
    let ok = if children.is_empty() {
        run_leaf(&h, &args, shape.njobs).await?
    } else {
        run_children(&h, &args, children, &mut records).await?
    };
    let me = Perf {
        id: args.prefix.clone(),
        begin,
        end: flux_actors::broker::config::now(),
        njobs: shape.njobs,
        nnodes: shape.nnodes,
        cores: shape.cores,
        gpus: shape.gpus,
    };
    records.insert(0, me.line());
    if let Some(path) = &args.perf_out {
        let mut text = String::new();
        if args.prefix == "tree" {
            text.push_str(&plan::header());
            text.push('\n');
        }
        for line in &records {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {path}"))?;
    }
    Ok(if ok { 0 } else { 1 })
}
