//! Jobs over several brokers: the job-exec of the rank that got `job-exec.start` (the
//! leader) asks the job-exec of every other rank in R to start that rank's job shell
//! (`job-exec.shell`, a streaming rpc answered with `output`, `eof`, `exit` and
//! `exception` updates), and joins the shells' PMI barriers (`job-exec.pmi-barrier`).

use actix::prelude::*;
use bytes::Bytes;
use flux_proto::types::IdSet;
use flux_proto::types::JobId;
use flux_proto::types::eventlog::Entry;
use flux_proto::{Envelope, errno};
use flux_shell::jobshell::{BarrierDone, Signal, Stdin};
use flux_shell::{JobShell, ShellEvent, ShellSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JobEvent, JobExec};

/// A shell run on this rank for another rank's job.
pub(super) struct Follower {
    /// The leader's `job-exec.shell` request: updates are its responses.
    req: Envelope,
    pub(super) shell: Addr<JobShell>,
    /// The leader's rank, where PMI barriers are joined.
    leader: u32,
}

#[derive(Deserialize)]
struct ShellReq {
    leader: u32,
    spec: ShellSpec,
}

#[derive(Deserialize)]
struct ShellUpdate {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    rank: u32,
    stream: Option<String>,
    data: Option<String>,
    status: Option<i32>,
    note: Option<String>,
}

/// Standard input for some tasks of a job (`job-exec.stdin`, `job-exec.shell-stdin`).
#[derive(Deserialize)]
struct StdinReq {
    id: u64,
    /// `all`, or an idset of task ranks.
    #[serde(default = "all")]
    ranks: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    eof: bool,
}

fn all() -> String {
    "all".into()
}

impl StdinReq {
    fn message(&self) -> Result<Stdin, String> {
        let ranks = match self.ranks.as_str() {
            "all" => None,
            text => Some(
                IdSet::parse(text)
                    .map_err(|e| format!("invalid ranks '{text}': {e}"))?
                    .iter()
                    .collect(),
            ),
        };
        Ok(Stdin {
            ranks,
            data: self.data.clone().into_bytes(),
            eof: self.eof,
        })
    }
}

#[derive(Deserialize)]
struct BarrierReq {
    id: u64,
    shell_rank: u32,
    puts: Vec<(String, String)>,
}

fn stream_name(name: Option<&str>) -> &'static str {
    if name == Some("stderr") {
        "stderr"
    } else {
        "stdout"
    }
}

impl JobExec {
    /// Leader: have `rank` run the shell of `spec`.
    pub(super) fn start_remote(
        &mut self,
        id: JobId,
        rank: u32,
        spec: &ShellSpec,
        ctx: &mut Context<Self>,
    ) {
        let body = json!({ "leader": self.rank, "spec": spec });
        let mut stream = self
            .rpc
            .stream("job-exec.shell", rank, Bytes::from(body.to_string()));
        let (me, tasks) = (ctx.address(), spec.tasks.clone());
        actix::spawn(async move {
            let mut exited = Vec::new();
            let left = |exited: &Vec<u32>| -> Vec<u32> {
                tasks
                    .iter()
                    .copied()
                    .filter(|t| !exited.contains(t))
                    .collect()
            };
            while let Some(rsp) = stream.recv().await {
                if rsp.errnum != 0 {
                    if rsp.errnum != errno::ENODATA {
                        me.do_send(JobEvent::RemoteFailed {
                            id,
                            rank,
                            tasks: left(&exited),
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
                    "exception" => me.do_send(JobEvent::Exception {
                        id,
                        note: update.note.unwrap_or_default(),
                    }),
                    _ => {}
                }
            }
            // The stream ended without its final word: the rank went away.
            let left = left(&exited);
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

    /// Follower: start the shell the leader asked for.
    pub(super) fn start_shell(&mut self, req: Envelope, ctx: &mut Context<Self>) {
        let body: ShellReq = match req.json() {
            Ok(body) => body,
            Err(e) => {
                return self
                    .reply(req.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let mut spec = body.spec;
        let id = JobId(spec.jobid);
        if self.shells.contains_key(&id) {
            return self.reply(req.error_response(errno::EEXIST, "job shell already running"));
        }
        spec.env.insert("FLUX_URI".into(), self.uri.clone());
        spec.rundir = Some(self.rundir.clone());
        // The shell's first events are handled after this handler: it is registered by then.
        let shell = JobShell::new(spec, ctx.address().recipient()).start();
        self.shells.insert(
            id,
            Follower {
                req,
                shell,
                leader: body.leader,
            },
        );
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
        if let Some(follower) = self.shells.get(&id) {
            follower.shell.do_send(Signal(signum));
        }
    }

    /// Follower: pass an event of a shell run here to the leader.
    pub(super) fn on_follower_event(
        &mut self,
        id: JobId,
        event: ShellEvent,
        ctx: &mut Context<Self>,
    ) {
        let Some(follower) = self.shells.get(&id) else {
            return;
        };
        let update = match event {
            ShellEvent::Output {
                rank, stream, data, ..
            } => json!({ "type": "output", "rank": rank, "stream": stream.name(), "data": data }),
            ShellEvent::Eof { rank, stream, .. } => {
                json!({ "type": "eof", "rank": rank, "stream": stream.name() })
            }
            ShellEvent::TaskExit { rank, status, .. } => {
                json!({ "type": "exit", "rank": rank, "status": status })
            }
            ShellEvent::Exception { note, .. } => json!({ "type": "exception", "note": note }),
            ShellEvent::Exchange {
                shell_rank, puts, ..
            } => {
                let body = json!({ "id": id.0, "shell_rank": shell_rank, "puts": puts });
                let call = self.rpc.call(
                    "job-exec.pmi-barrier",
                    follower.leader,
                    Bytes::from(body.to_string()),
                );
                let shell = follower.shell.clone();
                let me = ctx.address();
                actix::spawn(async move {
                    let puts = call.await.map_err(|e| e.to_string()).and_then(|rsp| {
                        rsp.json::<Value>()
                            .ok()
                            .and_then(|v| serde_json::from_value(v["puts"].clone()).ok())
                            .ok_or_else(|| "malformed barrier response".to_string())
                    });
                    match puts {
                        Ok(puts) => shell.do_send(BarrierDone(puts)),
                        Err(note) => me.do_send(ShellEvent::Exception {
                            jobid: id.0,
                            note: format!("PMI barrier: {note}"),
                        }),
                    }
                });
                return;
            }
            ShellEvent::Done { .. } => {
                if let Some(follower) = self.shells.remove(&id) {
                    self.reply(follower.req.error_response(errno::ENODATA, ""));
                }
                return;
            }
        };
        let rsp = follower.req.response_json(&update);
        self.reply(rsp);
    }

    /// Leader: a shell of job `id` entered a PMI barrier (`waiter` answers it; `None` is the
    /// local shell). The last one releases them all.
    pub(super) fn on_exchange(
        &mut self,
        id: JobId,
        shell_rank: u32,
        waiter: Option<Envelope>,
        puts: Vec<(String, String)>,
    ) {
        let Some(job) = self.jobs.get_mut(&id) else {
            if let Some(req) = waiter {
                self.reply(req.error_response(errno::ENOENT, "job is not running"));
            }
            return;
        };
        let Some((waiters, puts)) = job.exchange.arrive(shell_rank, waiter, puts) else {
            return;
        };
        let local = job.shell.clone();
        let body = json!({ "puts": puts });
        for waiter in waiters {
            match waiter {
                Some(req) => self.reply(req.response_json(&body)),
                None => {
                    if let Some(shell) = &local {
                        shell.do_send(BarrierDone(puts.clone()));
                    }
                }
            }
        }
    }

    /// Leader: `job-exec.stdin` from `flux run`: to the local shell and the other ranks'.
    pub(super) fn stdin(&mut self, req: Envelope) {
        let parsed = req
            .json::<StdinReq>()
            .map_err(|e| format!("malformed request: {e}"))
            .and_then(|r| Ok((r.id, r.message()?, r)));
        let (id, msg, body) = match parsed {
            Ok(ok) => ok,
            Err(e) => return self.reply(req.error_response(errno::EPROTO, e)),
        };
        let Some(job) = self.jobs.get(&JobId(id)) else {
            return self.reply(req.error_response(errno::ENOENT, "job is not running"));
        };
        if !job.reads_stdin {
            // Its tasks read a file, or nothing: the data would be dropped (and logged).
            let text = "the job does not read forwarded stdin (input.stdin.type is not service)";
            return self.reply(req.error_response(errno::EINVAL, text));
        }
        for (rank, _) in &job.remote {
            self.rpc.notify(
                "job-exec.shell-stdin",
                *rank,
                Bytes::copy_from_slice(&req.payload),
            );
        }
        if let Some(shell) = &job.shell {
            shell.do_send(msg);
        }
        self.log_input(JobId(id), &body);
        self.reply(req.response_json(&json!({})));
    }

    /// Record forwarded stdin in the job's `guest.input` eventlog (RFC 24).
    fn log_input(&mut self, id: JobId, body: &StdinReq) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let t = super::now();
        if !std::mem::replace(&mut job.input_logged, true) {
            let header = Entry::new(t, "header")
                .with("version", 1)
                .with("encoding", json!({ "stdin": "UTF-8" }))
                .with("count", json!({ "stdin": 1 }))
                .with("options", json!({}));
            self.log(id, "input", header);
        }
        let entry = Entry::new(t, "data")
            .with("stream", "stdin")
            .with("rank", body.ranks.as_str());
        if !body.data.is_empty() {
            self.log(id, "input", entry.clone().with("data", body.data.as_str()));
        }
        if body.eof {
            self.log(id, "input", entry.with("eof", true));
        }
    }

    /// Follower: stdin for this rank's tasks of a job.
    pub(super) fn shell_stdin(&mut self, req: &Envelope) {
        if let Ok(body) = req.json::<StdinReq>()
            && let Ok(msg) = body.message()
            && let Some(follower) = self.shells.get(&JobId(body.id))
        {
            follower.shell.do_send(msg);
        }
    }

    /// Leader: `job-exec.pmi-barrier` from another rank's shell.
    pub(super) fn pmi_barrier(&mut self, req: Envelope) {
        match req.json::<BarrierReq>() {
            Ok(b) => self.on_exchange(JobId(b.id), b.shell_rank, Some(req), b.puts),
            Err(e) => {
                self.reply(req.error_response(errno::EPROTO, format!("malformed request: {e}")))
            }
        }
    }
}
