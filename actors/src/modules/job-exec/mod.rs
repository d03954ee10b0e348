//! `job-exec`: runs jobs on their allocated resources. A job either runs simulated (no
//! process, it finishes after `exec.test.run_duration`) or through one job shell
//! ([`flux_shell::JobShell`]) per broker rank of R: the leader (the rank that got
//! `job-exec.start`) starts its own and asks the job-exec of the other ranks to start
//! theirs (`job-exec.shell`). Output goes to the job's output eventlog in the KVS
//! (`job.<id>.guest.output`, RFC 24); the leader also joins the shells' PMI barriers
//! (`job-exec.pmi-barrier`). The job manager's `job-exec.start` streaming rpc gets
//! `start`, `finish {status}`, `release`, and `exception` updates; the time limit raises a
//! `timeout` exception.

mod barrier;
mod events;
mod node;
mod plan;
mod shell;
mod taskmap;

use std::collections::HashMap;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::eventlog::Entry;
use flux_proto::types::{JobId, Jobspec, ResourceSet};
use flux_proto::{Envelope, MsgType, errno, nodeid};
use flux_store::Txn;
use serde::Deserialize;
use serde_json::{Value, json};

use flux_shell::exit::ExitTally;
use flux_shell::jobshell::Signal;
use flux_shell::{JobShell, ShellSpec};

use super::{ModuleContext, ModuleHandle, RpcClient, handle_common, unknown_method};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;
use events::JobEvent;
pub use plan::{Mode, Plan, PlanError, plan};

/// Output waiting for the KVS beyond which the shells' output waits for a commit.
const OUTPUT_HWM: usize = 8 << 20;

/// Seconds between the polite signal and SIGKILL.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);

/// A job being executed.
struct ExecJob {
    /// The `job-exec.start` request: updates are its responses.
    req: Envelope,
    /// The shell running this rank's tasks, until it is done.
    shell: Option<Addr<JobShell>>,
    /// Other broker ranks running some of the tasks, with their tasks.
    remote: Vec<(u32, Vec<u32>)>,
    /// Tasks that have exited (a lost rank's tasks may be reported twice).
    exited: std::collections::HashSet<u32>,
    /// Tasks not yet exited, here and elsewhere.
    running: usize,
    simulated: bool,
    /// The job's wait status from its tasks'.
    tally: ExitTally,
    timer: Option<SpawnHandle>,
    /// Whether `guest.input` has its header yet.
    input_logged: bool,
    /// The tasks read what `job-exec.stdin` forwards (`input.stdin.type=service`).
    reads_stdin: bool,
    /// The PMI barrier of the job's shells (`None` answers the local shell).
    exchange: barrier::Exchange<Option<Envelope>>,
}

/// The job-exec module's actor.
pub struct JobExec {
    name: String,
    probe: Probe,
    rpc: RpcClient,
    uri: String,
    /// Where per-job temporary directories go.
    rundir: String,
    /// The `instance-level` attribute: a job that is itself an instance is one deeper.
    instance_level: u32,
    rank: u32,
    jobs: HashMap<JobId, ExecJob>,
    /// Shells run here for jobs led by another rank's job-exec.
    shells: HashMap<JobId, shell::Follower>,
    /// Eventlog lines waiting for the next KVS commit: (key, line).
    appends: Vec<(String, String)>,
    /// Bytes in `appends`: above [`OUTPUT_HWM`], shells wait for a commit (backpressure).
    appended_bytes: usize,
    commit_in_flight: bool,
    /// Counts finished commits; output senders waiting for room watch it.
    commits: tokio::sync::watch::Sender<u64>,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("job-exec")?;
    let addr = JobExec {
        rpc: ctx.rpc(),
        name: ctx.name,
        probe: ctx.probe,
        uri: ctx.attrs.get("local-uri").unwrap_or_default().to_string(),
        rundir: ctx.attrs.get("rundir").unwrap_or("/tmp").to_string(),
        instance_level: ctx
            .attrs
            .get("instance-level")
            .ok()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0),
        rank: ctx.rank,
        jobs: HashMap::new(),
        shells: HashMap::new(),
        appends: Vec::new(),
        appended_bytes: 0,
        commit_in_flight: false,
        commits: tokio::sync::watch::channel(0).0,
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

#[derive(Deserialize)]
struct StartReq {
    id: u64,
    jobspec: Value,
    #[serde(rename = "R", default)]
    r: Value,
}

#[derive(Deserialize)]
struct KillReq {
    id: u64,
    #[serde(default = "sigterm")]
    signum: i32,
}

fn sigterm() -> i32 {
    libc::SIGTERM
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl JobExec {
    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.rpc.respond(msg);
    }

    fn update(&self, id: JobId, body: Value) {
        if let Some(job) = self.jobs.get(&id) {
            self.reply(job.req.response_json(&body));
        }
    }

    fn log(&mut self, id: JobId, log: &str, entry: Entry) {
        let line = entry.to_line();
        self.appended_bytes += line.len();
        self.appends
            .push((format!("{}.guest.{log}", id.to_kvs()), line));
    }

    fn start_job(&mut self, req: Envelope, ctx: &mut Context<Self>) {
        let body: StartReq = match req.json() {
            Ok(body) => body,
            Err(e) => {
                return self
                    .reply(req.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let id = JobId(body.id);
        let r = ResourceSet::from_value(body.r).ok();
        let nnodes = r.as_ref().map(|r| r.nnodes() as u64).unwrap_or(1);
        let spec = Jobspec::from_validated_value(body.jobspec).map_err(|e| e.to_string());
        let planned = spec
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|spec| plan(id, spec, nnodes, &self.uri).map_err(|e| e.to_string()));
        let (plan, cores_per_slot) = match (planned, spec) {
            (Ok(plan), Ok(spec)) => (plan, spec.cores_per_slot() as u32),
            (Err(text), _) | (_, Err(text)) => {
                return self.reply(req.error_response(errno::EINVAL, text));
            }
        };
        let t = now();
        self.log(id, "exec.eventlog", Entry::new(t, "init"));
        self.log(id, "exec.eventlog", Entry::new(t, "starting"));
        let mut job = ExecJob {
            req,
            shell: None,
            remote: Vec::new(),
            exited: Default::default(),
            running: 0,
            simulated: matches!(plan.mode, Mode::Simulated(_)),
            tally: ExitTally::default(),
            timer: None,
            exchange: barrier::Exchange::new(1),
            input_logged: false,
            reads_stdin: plan.stdin_service,
        };
        match &plan.mode {
            Mode::Simulated(d) => {
                job.timer = Some(
                    ctx.run_later(*d, move |_, ctx| ctx.notify(JobEvent::SimulatedDone { id })),
                );
            }
            Mode::Tasks { argv, ntasks } => {
                let header = Entry::new(t, "header")
                    .with("version", 1)
                    .with("encoding", json!({ "stdout": "UTF-8", "stderr": "UTF-8" }))
                    .with("count", json!({ "stdout": ntasks, "stderr": ntasks }))
                    .with("options", json!({}));
                self.log(id, "output", header);
                let map = taskmap::block(r.as_ref(), *ntasks, cores_per_slot, self.rank);
                let per_node: Vec<u32> = map.iter().map(|(_, t)| t.len() as u32).collect();
                job.exchange = barrier::Exchange::new(map.len());
                for (shell_rank, (rank, tasks)) in map.iter().enumerate() {
                    let node = r.as_ref().and_then(|r| r.node(*rank));
                    let gpus = node.map(|n| n.gpus.clone());
                    let cores: Vec<u32> =
                        node.map(|n| n.cores.iter().collect()).unwrap_or_default();
                    let mut node_plan = plan.clone();
                    node::gpu_env(&mut node_plan, gpus.as_ref());
                    let spec = ShellSpec {
                        jobid: id.0,
                        name: id.to_f58(),
                        shell_rank: shell_rank as u32,
                        nshells: map.len() as u32,
                        size: *ntasks,
                        tasks: tasks.clone(),
                        argv: argv.clone(),
                        env: node_plan.env,
                        cwd: node_plan.cwd,
                        stdout_path: node_plan.stdout_path,
                        stderr_path: node_plan.stderr_path,
                        stdout_label: node_plan.stdout_label,
                        stderr_label: node_plan.stderr_label,
                        unbuffered: node_plan.unbuffered,
                        stdin_path: node_plan.stdin_path,
                        stdin_service: node_plan.stdin_service,
                        rundir: Some(self.rundir.clone()),
                        pmi: node_plan.pmi,
                        cores,
                        cpu_affinity: node_plan.cpu_affinity,
                        pty_tasks: node_plan
                            .pty
                            .iter()
                            .copied()
                            .filter(|t| tasks.contains(t))
                            .collect(),
                        pmi_preset: node::pmi_preset(&per_node, self.instance_level),
                        rlimits: node_plan.rlimits,
                        warning: node_plan.warning,
                        expiration: plan.limit.map(|l| t + l.as_secs_f64()),
                    };
                    job.running += tasks.len();
                    if *rank == self.rank {
                        let owner = ctx.address().recipient();
                        job.shell = Some(JobShell::new(spec, owner).start());
                    } else {
                        self.start_remote(id, *rank, &spec, ctx);
                        job.remote.push((*rank, tasks.clone()));
                    }
                }
            }
        }
        if let Some(limit) = plan.limit {
            ctx.run_later(limit, move |_, ctx| ctx.notify(JobEvent::TimeLimit { id }));
        }
        let running = job.running;
        let simulated = matches!(plan.mode, Mode::Simulated(_));
        self.jobs.insert(id, job);
        self.update(id, json!({ "type": "start" }));
        if !simulated && running == 0 {
            self.finish(id);
        }
        self.flush(ctx);
    }

    /// All tasks are done: report, then end the stream.
    fn finish(&mut self, id: JobId) {
        let Some(job) = self.jobs.remove(&id) else {
            return;
        };
        let status = job.tally.status();
        let t = now();
        self.log(
            id,
            "exec.eventlog",
            Entry::new(t, "complete").with("status", status),
        );
        self.log(id, "exec.eventlog", Entry::new(t, "done"));
        self.reply(
            job.req
                .response_json(&json!({ "type": "finish", "status": status })),
        );
        self.reply(
            job.req
                .response_json(&json!({ "type": "release", "final": true })),
        );
        self.reply(job.req.error_response(errno::ENODATA, ""));
    }

    fn kill(&mut self, id: JobId, signum: i32, ctx: &mut Context<Self>) -> bool {
        let Some(job) = self.jobs.get_mut(&id) else {
            return false;
        };
        for (rank, _) in &job.remote {
            let body = json!({ "id": id.0, "signum": signum });
            self.rpc
                .notify("job-exec.shell-kill", *rank, Bytes::from(body.to_string()));
        }
        if job.simulated {
            // Simulated: it ends now, as if killed by the signal.
            if let Some(timer) = job.timer.take() {
                ctx.cancel_future(timer);
            }
            job.tally.add(signum & 0x7f);
            self.finish(id);
            return true;
        }
        if let Some(shell) = &job.shell {
            shell.do_send(Signal(signum));
        }
        // Ending a job (cancel, time limit) is SIGTERM or SIGALRM, then SIGKILL after a
        // grace period; other signals (`flux job kill -s USR1`) are only delivered.
        if matches!(signum, libc::SIGTERM | libc::SIGALRM) {
            ctx.run_later(KILL_TIMEOUT, move |act, ctx| {
                act.kill(id, libc::SIGKILL, ctx);
            });
        }
        true
    }

    /// Commit waiting eventlog lines (one commit for all), unless one is in flight.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.commit_in_flight || self.appends.is_empty() {
            return;
        }
        let mut txn = Txn::new();
        self.appended_bytes = 0;
        for (key, line) in self.appends.drain(..) {
            txn.append(key, line.into_bytes());
        }
        let Ok(ops) = txn.to_json() else { return };
        self.commit_in_flight = true;
        let body = json!({ "namespace": "primary", "flags": 0, "ops": ops });
        let call = self
            .rpc
            .call("kvs.commit", nodeid::ANY, Bytes::from(body.to_string()));
        let me = ctx.address();
        actix::spawn(async move {
            let _ = call.await;
            me.do_send(JobEvent::Committed);
        });
    }
}

/// An output eventlog `data` event: some text of a task's stream, or its end.
fn output_entry(task: u32, stream: &str, data: Option<&str>) -> Entry {
    let entry = Entry::new(now(), "data")
        .with("stream", stream)
        .with("rank", task.to_string());
    match data {
        Some(data) => entry.with("data", data),
        None => entry.with("eof", true),
    }
}

impl Actor for JobExec {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        // The leader hears of lost brokers, whose tasks can no longer report.
        let body = Bytes::from_static(br#"{"topic":"overlay.lost"}"#);
        self.rpc.notify("event.subscribe", self.rank, body);
    }
}

impl JobExec {
    /// Brokers were lost: their share of every job has failed.
    fn on_ranks_lost(&mut self, msg: &Envelope, ctx: &mut Context<Self>) {
        let Some(lost) = msg.json::<Value>().ok().and_then(|v| {
            v.get("ranks")?
                .as_str()
                .and_then(|r| flux_proto::types::IdSet::parse(r).ok())
        }) else {
            return;
        };
        for (id, job) in &self.jobs {
            for (rank, tasks) in job.remote.iter().filter(|(rank, _)| lost.contains(*rank)) {
                let tasks: Vec<u32> = tasks
                    .iter()
                    .copied()
                    .filter(|t| !job.exited.contains(t))
                    .collect();
                if !tasks.is_empty() {
                    ctx.notify(JobEvent::RemoteFailed {
                        id: *id,
                        rank: *rank,
                        tasks,
                        note: "broker lost".into(),
                    });
                }
            }
        }
    }
}

impl Handler<Deliver> for JobExec {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        if msg.kind() == MsgType::Response {
            self.rpc.on_response(msg);
            return;
        }
        if msg.kind() == MsgType::Event {
            if msg.topic == "overlay.lost" {
                self.on_ranks_lost(&msg, ctx);
            }
            return;
        }
        match msg.topic.as_str() {
            "job-exec.start" => self.start_job(msg, ctx),
            "job-exec.shell" => self.start_shell(msg, ctx),
            "job-exec.shell-kill" => self.kill_shell(&msg),
            "job-exec.pmi-barrier" => self.pmi_barrier(msg),
            "job-exec.stdin" => self.stdin(msg),
            "job-exec.shell-stdin" => self.shell_stdin(&msg),
            "job-exec.kill" => {
                let rsp = match msg.json::<KillReq>() {
                    Ok(k) if self.kill(JobId(k.id), k.signum, ctx) => msg.response_json(&json!({})),
                    Ok(_) => msg.error_response(errno::ENOENT, "job is not running"),
                    Err(e) => msg.error_response(errno::EPROTO, format!("malformed request: {e}")),
                };
                if !msg.is_noresponse() {
                    self.reply(rsp);
                }
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .unwrap_or_else(|| unknown_method(&msg));
                self.reply(rsp);
            }
        }
        self.flush(ctx);
    }
}

impl Handler<Stop> for JobExec {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        let ids: Vec<JobId> = self.jobs.keys().copied().collect();
        for id in ids {
            self.kill(id, libc::SIGKILL, ctx);
        }
        for follower in self.shells.values() {
            follower.shell.do_send(Signal(libc::SIGKILL));
        }
        self.rpc.cancel_all();
        ctx.stop();
    }
}
