//! What happens to running jobs, as the job-exec actor hears it: its own timers and the
//! remote shells' updates ([`JobEvent`]), and its local shells' events ([`ShellEvent`]),
//! which wait for room in the KVS when output piles up.

use actix::prelude::*;
use flux_proto::types::JobId;
use flux_shell::ShellEvent;
use serde_json::json;

use super::{JobExec, OUTPUT_HWM, output_entry};

/// Things that happen to running jobs.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) enum JobEvent {
    Output {
        id: JobId,
        rank: u32,
        stream: &'static str,
        data: String,
    },
    /// Something that ends the job (a shell's PMI error, a task's PMI abort).
    Exception {
        id: JobId,
        note: String,
    },
    Eof {
        id: JobId,
        rank: u32,
        stream: &'static str,
    },
    TaskExited {
        id: JobId,
        rank: u32,
        status: i32,
    },
    SimulatedDone {
        id: JobId,
    },
    /// Another rank could not run (or lost) its share of the tasks.
    RemoteFailed {
        id: JobId,
        rank: u32,
        tasks: Vec<u32>,
        note: String,
    },
    TimeLimit {
        id: JobId,
    },
    Committed,
}

impl Handler<JobEvent> for JobExec {
    type Result = ();

    fn handle(&mut self, event: JobEvent, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        self.on_event(event, ctx);
        self.flush(ctx);
    }
}

impl Handler<ShellEvent> for JobExec {
    type Result = ResponseFuture<()>;

    /// Answered once there is room for more output: a task's next read waits for it.
    fn handle(&mut self, event: ShellEvent, ctx: &mut Context<Self>) -> Self::Result {
        self.on_shell_event(event, ctx);
        if self.appended_bytes > OUTPUT_HWM {
            let mut commits = self.commits.subscribe();
            Box::pin(async move {
                let _ = commits.changed().await;
            })
        } else {
            Box::pin(std::future::ready(()))
        }
    }
}

impl JobExec {
    fn on_shell_event(&mut self, event: ShellEvent, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        let id = match &event {
            ShellEvent::Output { jobid, .. }
            | ShellEvent::Eof { jobid, .. }
            | ShellEvent::TaskExit { jobid, .. }
            | ShellEvent::Exchange { jobid, .. }
            | ShellEvent::Exception { jobid, .. }
            | ShellEvent::Done { jobid, .. } => JobId(*jobid),
        };
        if self.shells.contains_key(&id) {
            // A shell run here for another rank's job-exec: tell it.
            self.on_follower_event(id, event, ctx);
        } else {
            let event = match event {
                ShellEvent::Output {
                    rank, stream, data, ..
                } => JobEvent::Output {
                    id,
                    rank,
                    stream: stream.name(),
                    data,
                },
                ShellEvent::Eof { rank, stream, .. } => JobEvent::Eof {
                    id,
                    rank,
                    stream: stream.name(),
                },
                ShellEvent::TaskExit { rank, status, .. } => {
                    JobEvent::TaskExited { id, rank, status }
                }
                ShellEvent::Exception { note, .. } => JobEvent::Exception { id, note },
                ShellEvent::Exchange {
                    shell_rank, puts, ..
                } => return self.on_exchange(id, shell_rank, None, puts),
                ShellEvent::Done { .. } => {
                    if let Some(job) = self.jobs.get_mut(&id) {
                        job.shell = None;
                    }
                    return;
                }
            };
            self.on_event(event, ctx);
        }
        self.flush(ctx);
    }
}

impl JobExec {
    fn on_event(&mut self, event: JobEvent, ctx: &mut Context<Self>) {
        match event {
            JobEvent::Output {
                id,
                rank,
                stream,
                data,
            } => {
                self.log(id, "output", output_entry(rank, stream, Some(&data)));
            }
            JobEvent::Eof { id, rank, stream } => {
                self.log(id, "output", output_entry(rank, stream, None))
            }
            JobEvent::TaskExited { id, rank, status } => {
                if let Some(job) = self.jobs.get_mut(&id)
                    && job.exited.insert(rank)
                {
                    job.running = job.running.saturating_sub(1);
                    job.tally.add(status);
                    if job.running == 0 {
                        self.finish(id);
                    }
                }
            }
            JobEvent::RemoteFailed {
                id,
                rank,
                tasks,
                note,
            } => {
                let exc = json!({ "type": "exception", "exc_type": "exec", "severity": 0, "note": format!("rank {rank}: {note}") });
                self.update(id, exc);
                for task in tasks {
                    for stream in ["stdout", "stderr"] {
                        self.log(id, "output", output_entry(task, stream, None));
                    }
                    ctx.notify(JobEvent::TaskExited {
                        id,
                        rank: task,
                        status: 1 << 8,
                    });
                }
            }
            JobEvent::Exception { id, note } => {
                let exc =
                    json!({ "type": "exception", "exc_type": "exec", "severity": 0, "note": note });
                self.update(id, exc);
            }
            JobEvent::SimulatedDone { id } => self.finish(id),
            JobEvent::TimeLimit { id } => {
                if let Some(job) = self.jobs.get(&id) {
                    let simulated = job.simulated;
                    let exc = json!({ "type": "exception", "exc_type": "timeout", "severity": 0, "note": "resource allocation expired" });
                    self.update(id, exc);
                    // Real tasks: each shell sends SIGALRM, then SIGKILL, on its own.
                    if simulated {
                        self.kill(id, libc::SIGALRM, ctx);
                    }
                }
            }
            JobEvent::Committed => {
                self.commit_in_flight = false;
                self.commits.send_modify(|n| *n += 1);
            }
        }
    }
}
