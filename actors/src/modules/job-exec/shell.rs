//! Jobs over several brokers: the job-exec of rank 0 (the leader) asks the job-exec of
//! every other rank in R to run that rank's tasks (`job-exec.shell`, a streaming rpc), and
//! turns their answers (`output`, `eof`, `exit`) into its own task events.

use std::collections::{BTreeMap, HashMap};

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::JobId;
use flux_proto::{Envelope, errno};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JobEvent, JobExec, Mode, Plan, tasks};

/// Tasks run on this rank for another rank's job.
pub(super) struct Shell {
    req: Envelope,
    tmpdir: Option<String>,
    pids: HashMap<u32, u32>,
    running: usize,
}

#[derive(Deserialize)]
struct ShellReq {
    id: u64,
    #[serde(default)]
    shell_rank: u32,
    tasks: Vec<u32>,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    stdout_path: Option<String>,
    stderr_path: Option<String>,
    #[serde(default)]
    stdin_path: Option<String>,
}

#[derive(Deserialize)]
struct ShellUpdate {
    #[serde(rename = "type")]
    kind: String,
    rank: u32,
    stream: Option<String>,
    data: Option<String>,
    status: Option<i32>,
}

fn stream_name(name: Option<&str>) -> &'static str {
    if name == Some("stderr") {
        "stderr"
    } else {
        "stdout"
    }
}

impl JobExec {
    /// Leader: have `rank` run `tasks` of job `id`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_remote(
        &mut self,
        id: JobId,
        rank: u32,
        shell_rank: u32,
        tasks: &[u32],
        argv: &[String],
        plan: &Plan,
        ctx: &mut Context<Self>,
    ) {
        let body = json!({
            "id": id.0,
            "shell_rank": shell_rank,
            "tasks": tasks,
            "argv": argv,
            "env": plan.env,
            "cwd": plan.cwd,
            "stdout_path": plan.stdout_path,
            "stderr_path": plan.stderr_path,
            "stdin_path": plan.stdin_path,
        });
        let mut stream = self
            .rpc
            .stream("job-exec.shell", rank, Bytes::from(body.to_string()));
        let (me, tasks) = (ctx.address(), tasks.to_vec());
        actix::spawn(async move {
            let mut exited = Vec::new();
            while let Some(rsp) = stream.recv().await {
                if rsp.errnum != 0 {
                    if rsp.errnum != errno::ENODATA {
                        let left: Vec<u32> = tasks
                            .iter()
                            .copied()
                            .filter(|t| !exited.contains(t))
                            .collect();
                        me.do_send(JobEvent::RemoteFailed {
                            id,
                            rank,
                            tasks: left,
                            note: rsp.error_text(),
                        });
                    }
                    return;
                }
                let Ok(update) = rsp.json::<ShellUpdate>() else {
                    continue;
                };
                let stream = stream_name(update.stream.as_deref());
                match update.kind.as_str() {
                    "output" => me.do_send(JobEvent::Output {
                        id,
                        rank: update.rank,
                        stream,
                        data: update.data.unwrap_or_default(),
                    }),
                    "eof" => me.do_send(JobEvent::Eof {
                        id,
                        rank: update.rank,
                        stream,
                    }),
                    "exit" => {
                        exited.push(update.rank);
                        me.do_send(JobEvent::TaskExited {
                            id,
                            rank: update.rank,
                            status: update.status.unwrap_or(1 << 8),
                        });
                    }
                    _ => {}
                }
            }
            // The stream ended without its final word: the rank went away.
            let left: Vec<u32> = tasks
                .iter()
                .copied()
                .filter(|t| !exited.contains(t))
                .collect();
            if !left.is_empty() {
                me.do_send(JobEvent::RemoteFailed {
                    id,
                    rank,
                    tasks: left,
                    note: "lost contact".into(),
                });
            }
        });
    }

    /// Follower: run the tasks the leader gave this rank.
    pub(super) fn start_shell(&mut self, req: Envelope, ctx: &mut Context<Self>) {
        let body: ShellReq = match req.json() {
            Ok(body) => body,
            Err(e) => {
                return self
                    .reply(req.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let id = JobId(body.id);
        let mut env = body.env;
        env.insert("FLUX_URI".into(), self.uri.clone());
        let tmpdir = super::node::make_tmpdir(&self.rundir, body.shell_rank, id).ok();
        if let Some(dir) = &tmpdir {
            env.insert("FLUX_JOB_TMPDIR".into(), dir.clone());
        }
        let plan = Plan {
            mode: Mode::Tasks {
                argv: body.argv.clone(),
                ntasks: body.tasks.len() as u32,
            },
            limit: None,
            env,
            cwd: body.cwd,
            stdout_path: body.stdout_path,
            stderr_path: body.stderr_path,
            stdin_path: body.stdin_path,
        };
        let mut shell = Shell {
            req,
            tmpdir,
            pids: HashMap::new(),
            running: 0,
        };
        let mut failed = Vec::new();
        for (local, task) in body.tasks.iter().enumerate() {
            match tasks::spawn(id, *task, local as u32, &body.argv, &plan, ctx.address()) {
                Ok(pid) => {
                    shell.pids.insert(*task, pid);
                    shell.running += 1;
                }
                Err(e) => failed.push((*task, e)),
            }
        }
        for (task, e) in &failed {
            let text = format!(
                "{}\n",
                flux_shell::exit::spawn_error_message(&body.argv[0], e)
            );
            let status = flux_shell::exit::spawn_error_code(e) << 8;
            for msg in [
                json!({ "type": "output", "rank": task, "stream": "stderr", "data": text }),
                json!({ "type": "eof", "rank": task, "stream": "stdout" }),
                json!({ "type": "eof", "rank": task, "stream": "stderr" }),
                json!({ "type": "exit", "rank": task, "status": status }),
            ] {
                self.reply(shell.req.response_json(&msg));
            }
        }
        if shell.running == 0 {
            if let Some(dir) = &shell.tmpdir {
                let _ = std::fs::remove_dir_all(dir);
            }
            self.reply(shell.req.error_response(errno::ENODATA, ""));
        } else {
            self.shells.insert(id, shell);
        }
    }

    /// Follower: signal this rank's tasks of a job.
    pub(super) fn kill_shell(&mut self, msg: &Envelope) {
        let Ok(body) = msg.json::<Value>() else {
            return;
        };
        let id = JobId(body.get("id").and_then(Value::as_u64).unwrap_or(0));
        let signum = body
            .get("signum")
            .and_then(Value::as_i64)
            .unwrap_or(i64::from(libc::SIGTERM)) as i32;
        if let Some(shell) = self.shells.get(&id) {
            for pid in shell.pids.values() {
                // SAFETY: kill has no memory preconditions; each task leads its own process group.
                unsafe { libc::kill(-(*pid as libc::pid_t), signum) };
            }
        }
    }

    /// Follower: pass a task event of a shell job to the leader.
    pub(super) fn on_shell_event(&mut self, event: JobEvent) {
        let (id, update) = match event {
            JobEvent::Output {
                id,
                rank,
                stream,
                data,
            } => (
                id,
                json!({ "type": "output", "rank": rank, "stream": stream, "data": data }),
            ),
            JobEvent::Eof { id, rank, stream } => {
                (id, json!({ "type": "eof", "rank": rank, "stream": stream }))
            }
            JobEvent::TaskExited { id, rank, status } => (
                id,
                json!({ "type": "exit", "rank": rank, "status": status }),
            ),
            _ => return,
        };
        let Some(shell) = self.shells.get_mut(&id) else {
            return;
        };
        let done = if let Some(rank) = update.get("rank").and_then(Value::as_u64)
            && update["type"] == "exit"
        {
            shell.pids.remove(&(rank as u32));
            shell.running -= 1;
            shell.running == 0
        } else {
            false
        };
        let rsp = shell.req.response_json(&update);
        self.reply(rsp);
        if done && let Some(shell) = self.shells.remove(&id) {
            if let Some(dir) = &shell.tmpdir {
                let _ = std::fs::remove_dir_all(dir);
            }
            self.reply(shell.req.error_response(errno::ENODATA, ""));
        }
    }
}
