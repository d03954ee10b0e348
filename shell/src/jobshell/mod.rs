//! The job shell actor: one per job per broker rank. It starts this rank's tasks, streams
//! their output and exits to its owner (job-exec), serves them simple PMI, and signals
//! them on demand. It stops once every task has ended, after removing `FLUX_JOB_TMPDIR`.

pub mod options;
pub mod output;
mod pmi_io;
pub mod spec;
mod stdin;
mod task;

use std::collections::HashMap;

use actix::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

use crate::exit::{ExitTally, spawn_error_code, spawn_error_message};
use crate::pmi::PmiServer;
use output::Dest;
pub use spec::ShellSpec;
pub use stdin::Stdin;
use stdin::{Pipe, feed};

/// How long tasks have between SIGALRM at the time limit and SIGKILL.
const KILL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A task's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name RFC 24 uses.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What a shell tells its owner; `jobid` says which job.
#[derive(Message, Debug, Clone, PartialEq)]
#[rtype(result = "()")]
pub enum ShellEvent {
    /// Some output of task `rank`.
    Output {
        jobid: u64,
        rank: u32,
        stream: Stream,
        data: String,
    },
    /// The end of one stream of task `rank`.
    Eof {
        jobid: u64,
        rank: u32,
        stream: Stream,
    },
    /// Task `rank` ended with this wait status (a task that could not start: 127 or 126).
    TaskExit { jobid: u64, rank: u32, status: i32 },
    /// Every local task entered a PMI barrier: exchange these puts with the job's other
    /// shells, then answer with [`BarrierDone`].
    Exchange {
        jobid: u64,
        shell_rank: u32,
        puts: Vec<(String, String)>,
    },
    /// Something that should end the job (a PMI protocol error or abort).
    Exception { jobid: u64, note: String },
    /// All local tasks ended; `status` is the worst wait status among them.
    Done { jobid: u64, status: i32 },
}

/// Send a signal to every local task (its process group).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Signal(pub i32);

/// The PMI barrier ended across shells: everyone's puts.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct BarrierDone(pub Vec<(String, String)>);

/// A task ended.
#[derive(Message)]
#[rtype(result = "()")]
struct Exited {
    rank: u32,
    status: i32,
}

/// The job shell of one job on one broker rank.
pub struct JobShell {
    spec: ShellSpec,
    owner: Recipient<ShellEvent>,
    /// Process ids of the tasks still running, by task rank.
    pids: HashMap<u32, u32>,
    tally: ExitTally,
    tmpdir: Option<String>,
    pmi: Option<PmiServer>,
    /// Lines to each task's PMI socket.
    pmi_out: HashMap<u32, UnboundedSender<String>>,
    /// Where the tasks' stdout and stderr go.
    dests: [Dest; 2],
    /// The first task that could not start, and why.
    failed_to_start: Option<(u32, String)>,
    /// The CPUs of each local task (`cpu-affinity`), in local-id order.
    affinity: Vec<Option<Vec<usize>>>,
    /// Writers to the tasks' stdin pipes (`None` closes one).
    stdin: HashMap<u32, UnboundedSender<Option<Vec<u8>>>>,
    /// A writer per terminal, held so that each stays open (after its Ctrl-D) until the
    /// shell ends: dropping these closes them.
    ptys: Vec<UnboundedSender<Option<Vec<u8>>>>,
}

impl JobShell {
    /// A shell for `spec`, reporting to `owner`; start it with `Actor::start`.
    pub fn new(spec: ShellSpec, owner: Recipient<ShellEvent>) -> Self {
        JobShell {
            spec,
            pids: HashMap::new(),
            tally: ExitTally::default(),
            tmpdir: None,
            pmi: None,
            pmi_out: HashMap::new(),
            dests: [Dest::Owner(owner.clone()), Dest::Owner(owner.clone())],
            stdin: HashMap::new(),
            ptys: Vec::new(),
            affinity: Vec::new(),
            failed_to_start: None,
            owner,
        }
    }

    fn jobid(&self) -> u64 {
        self.spec.jobid
    }

    fn make_tmpdir(&mut self) {
        use std::os::unix::fs::DirBuilderExt;
        let Some(dir) = self.spec.tmpdir() else {
            return;
        };
        let made = std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&dir);
        if made.is_ok() {
            self.tmpdir = Some(dir);
        }
    }

    fn start_task(&mut self, local: usize, rank: u32, ctx: &mut Context<Self>) {
        let jobid = self.jobid();
        let cpus = self.affinity.get(local).cloned().flatten();
        match task::spawn(
            &self.spec,
            local,
            rank,
            self.tmpdir.as_deref(),
            cpus.as_deref(),
        ) {
            Ok(mut started) => {
                self.pids.insert(rank, started.pid);
                if let Some(sock) = started.pmi.take() {
                    match pmi_io::serve(sock, rank, ctx.address()) {
                        Ok(tx) => {
                            self.pmi_out.insert(rank, tx);
                        }
                        Err(e) => self.owner.do_send(ShellEvent::Exception {
                            jobid,
                            note: format!("PMI for task {rank}: {e}"),
                        }),
                    }
                }
                let owner = self.owner.clone();
                let me = ctx.address();
                let mut child = started.child;
                let (mut stdout, stderr) =
                    (child.stdout.take().map(Pipe::Child), child.stderr.take());
                if let Some(pipe) = child.stdin.take() {
                    self.stdin.insert(rank, feed(pipe, None));
                }
                if let Some(master) = started.pty.take() {
                    // The terminal is the task's stdin and stdout; Ctrl-D ends its input.
                    if let Ok(input) = master.try_clone() {
                        let tx = feed(tokio::fs::File::from_std(input), Some(4));
                        self.ptys.push(tx.clone());
                        self.stdin.insert(rank, tx);
                    }
                    stdout = Some(Pipe::Pty(tokio::fs::File::from_std(master)));
                }
                let [out, err] = self.dests.clone();
                let unbuffered = self.spec.unbuffered;
                actix::spawn(async move {
                    let (_, _, status) = tokio::join!(
                        output::pump(
                            stdout,
                            jobid,
                            rank,
                            Stream::Stdout,
                            out,
                            unbuffered,
                            owner.clone()
                        ),
                        output::pump(stderr, jobid, rank, Stream::Stderr, err, unbuffered, owner),
                        child.wait()
                    );
                    use std::os::unix::process::ExitStatusExt;
                    let status = status.map(|s| s.into_raw()).unwrap_or(1 << 8);
                    me.do_send(Exited { rank, status });
                });
            }
            Err(e) => {
                let text = format!("{}\n", spawn_error_message(&self.spec.argv[0], &e));
                let status = spawn_error_code(&e) << 8;
                self.tally.add(status);
                self.failed_to_start
                    .get_or_insert((rank, text.trim_end().to_string()));
                for event in [
                    ShellEvent::Output {
                        jobid,
                        rank,
                        stream: Stream::Stderr,
                        data: text,
                    },
                    ShellEvent::Eof {
                        jobid,
                        rank,
                        stream: Stream::Stdout,
                    },
                    ShellEvent::Eof {
                        jobid,
                        rank,
                        stream: Stream::Stderr,
                    },
                    ShellEvent::TaskExit {
                        jobid,
                        rank,
                        status,
                    },
                ] {
                    self.owner.do_send(event);
                }
            }
        }
    }

    /// The last task ended.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if let Some(dir) = self.tmpdir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        self.owner.do_send(ShellEvent::Done {
            jobid: self.jobid(),
            status: self.tally.status(),
        });
        ctx.stop();
    }

    /// At `expiration` the tasks get SIGALRM, then SIGKILL after a grace period; with
    /// `--signal=SIG@TIME`, SIG comes TIME earlier as a warning.
    fn arm_time_limit(&mut self, expiration: f64, ctx: &mut Context<Self>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let after = |secs: f64| std::time::Duration::from_secs_f64(secs.max(0.0));
        if let Some((signum, timeleft)) = self.spec.warning {
            ctx.run_later(after(expiration - timeleft - now), move |act, _| {
                act.signal(signum)
            });
        }
        ctx.run_later(after(expiration - now), |act, _| act.signal(libc::SIGALRM));
        ctx.run_later(after(expiration - now) + KILL_TIMEOUT, |act, _| {
            act.signal(libc::SIGKILL)
        });
    }

    fn signal(&self, signum: i32) {
        for pid in self.pids.values() {
            // SAFETY: kill has no memory preconditions; each task leads its own process group.
            unsafe { libc::kill(-(*pid as libc::pid_t), signum) };
        }
    }
}

impl Actor for JobShell {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.make_tmpdir();
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            if let Some(path) = self.spec.labeled_file(stream) {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path);
                match file {
                    Ok(file) => self.dests[i] = Dest::LabeledFile(std::sync::Arc::new(file)),
                    Err(e) => self.owner.do_send(ShellEvent::Exception {
                        jobid: self.jobid(),
                        note: format!("{path}: {e}"),
                    }),
                }
            }
        }
        if self.spec.pmi {
            let server = PmiServer::new(
                self.spec.name.clone(),
                self.spec.size,
                self.spec.pmi_preset.clone(),
            );
            self.pmi = Some(if self.spec.nshells > 1 {
                server.with_local_clients(self.spec.tasks.len() as u32)
            } else {
                server
            });
        }
        let usable = options::usable_cpus();
        let cpus = options::cores_to_cpus(&self.spec.cores, &usable, usable.len());
        self.affinity = options::CpuAffinity::parse(&self.spec.cpu_affinity)
            .unwrap_or_default()
            .assign(&cpus, self.spec.tasks.len());
        let tasks = self.spec.tasks.clone();
        for (local, rank) in tasks.into_iter().enumerate() {
            self.start_task(local, rank, ctx);
        }
        // Some tasks run (here or in other shells), others could not start: the running
        // ones would wait for them (at a PMI barrier, say) forever. The job ends.
        let others_run = !self.pids.is_empty() || self.spec.nshells > 1;
        if let Some((rank, why)) = self.failed_to_start.take().filter(|_| others_run) {
            self.owner.do_send(ShellEvent::Exception {
                jobid: self.jobid(),
                note: format!("task {rank}: start failed: {why}"),
            });
        }
        if self.pids.is_empty() {
            return self.finish(ctx);
        }
        if let Some(expiration) = self.spec.expiration {
            self.arm_time_limit(expiration, ctx);
        }
    }
}

impl Handler<Exited> for JobShell {
    type Result = ();

    fn handle(&mut self, msg: Exited, ctx: &mut Context<Self>) {
        if self.pids.remove(&msg.rank).is_none() {
            return;
        }
        self.tally.add(msg.status);
        self.owner.do_send(ShellEvent::TaskExit {
            jobid: self.jobid(),
            rank: msg.rank,
            status: msg.status,
        });
        if self.pids.is_empty() {
            self.finish(ctx);
        }
    }
}

impl Handler<Signal> for JobShell {
    type Result = ();

    fn handle(&mut self, Signal(signum): Signal, _: &mut Context<Self>) {
        self.signal(signum);
    }
}

impl Handler<BarrierDone> for JobShell {
    type Result = ();

    fn handle(&mut self, BarrierDone(puts): BarrierDone, _: &mut Context<Self>) {
        if let Some(server) = &mut self.pmi {
            let replies = server.barrier_complete(puts);
            self.send_pmi(replies);
        }
    }
}
