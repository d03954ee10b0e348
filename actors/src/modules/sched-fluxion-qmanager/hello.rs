//! RFC 27 hello for Fluxion: before its first scheduling loop (and again whenever the
//! resource module comes back), the qmanager asks the job manager which jobs hold
//! resources and has `sched-fluxion-resource.update` book each one's R for it, so that
//! their cores are not handed out again and a later `sched.free` releases them. A job
//! whose R cannot be booked is logged and gets a fatal `scheduler-restart` exception, as
//! flux-sched does through libschedutil.

use actix::prelude::*;
use flux_proto::errno;
use flux_proto::types::JobId;
use serde_json::{Value, json};

use super::{FluxionQmanager, RETRY};
use crate::modules::sched_protocol::{HELLO_EXCEPTION, hello, raise_unbookable};
use crate::msg::Log;

const LOG_ERR: u8 = 3;

/// Where the hello stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hello {
    /// Not asked yet (or the resource module went away since).
    #[default]
    Needed,
    /// Asked; running jobs are being booked.
    InProgress,
    /// Every running job is booked (or was refused): scheduling may start.
    Done,
}

/// The job manager's answer for hello `round`: the running jobs and their R.
#[derive(Message)]
#[rtype(result = "()")]
struct Running {
    round: u64,
    jobs: Result<Vec<(u64, Value)>, String>,
}

/// The bookings of hello `round` are over.
#[derive(Message)]
#[rtype(result = "()")]
struct Booked {
    round: u64,
    /// The jobs whose R the graph refused, with why.
    refused: Vec<(u64, String)>,
    /// The resource module did not answer (gone, or not ready): ask again.
    lost: bool,
}

/// Whether an `update` error means the graph refused R (not that the module is away).
fn refused(errnum: i32) -> bool {
    [errno::ENOENT, errno::EEXIST, errno::EINVAL, errno::EPROTO].contains(&errnum)
}

impl FluxionQmanager {
    /// Ask the job manager for the running jobs (once per resource module).
    pub(super) fn say_hello(&mut self, ctx: &mut Context<Self>) {
        if self.hello != Hello::Needed {
            return;
        }
        self.hello = Hello::InProgress;
        self.hello_round += 1;
        let round = self.hello_round;
        let jobs = hello(&self.rpc);
        let me = ctx.address();
        actix::spawn(async move {
            let jobs = jobs.await;
            me.do_send(Running { round, jobs })
        });
    }

    /// Ask again a moment later (while the graph is still there).
    fn retry_hello(&mut self, ctx: &mut Context<Self>) {
        self.hello = Hello::Needed;
        ctx.run_later(RETRY, |act, ctx| {
            if act.ready {
                act.say_hello(ctx);
            }
        });
    }

    /// A job freed while the hello runs may be booked after its free: free it again.
    pub(super) fn freed_during_hello(&mut self, id: i64) {
        if self.hello == Hello::InProgress {
            self.freed_in_hello.push(id);
        }
    }

    fn log_err(&self, msg: String) {
        self.broker.do_send(Log {
            severity: LOG_ERR,
            appname: self.name.clone(),
            msg,
        });
    }
}

impl Handler<Running> for FluxionQmanager {
    type Result = ();

    fn handle(&mut self, Running { round, jobs }: Running, ctx: &mut Context<Self>) {
        if self.hello != Hello::InProgress || round != self.hello_round {
            return; // a round the resource module's departure abandoned
        }
        let jobs = match jobs {
            Ok(jobs) => jobs,
            Err(why) => {
                self.log_err(format!("hello: {why}; asking again"));
                return self.retry_hello(ctx);
            }
        };
        // All requests go out now and the resource module answers them in order.
        let calls: Vec<_> = jobs
            .into_iter()
            .map(|(id, r)| {
                let body = json!({ "jobid": id as i64, "R": r });
                (id, self.resource_call("update", body))
            })
            .collect();
        let me = ctx.address();
        actix::spawn(async move {
            let mut booked = Booked {
                round,
                refused: Vec::new(),
                lost: false,
            };
            for (id, call) in calls {
                match call.await {
                    Ok(_) => {}
                    Err(e) if refused(e.errnum()) => booked.refused.push((id, e.to_string())),
                    Err(_) => booked.lost = true,
                }
            }
            me.do_send(booked);
        });
    }
}

impl Handler<Booked> for FluxionQmanager {
    type Result = ();

    fn handle(&mut self, booked: Booked, ctx: &mut Context<Self>) {
        if self.hello != Hello::InProgress || booked.round != self.hello_round {
            return;
        }
        if booked.lost {
            // What was booked stays booked (bookings are idempotent): ask again later,
            // by rpc should the module's in-process endpoint be the one that is gone.
            self.local = None;
            return self.retry_hello(ctx);
        }
        for (id, why) in booked.refused {
            let job = JobId(id);
            self.log_err(format!(
                "hello: cannot book R of running job {job}: {why}; raising a fatal {HELLO_EXCEPTION} exception"
            ));
            raise_unbookable(&self.rpc, id);
        }
        for id in std::mem::take(&mut self.freed_in_hello) {
            self.resource_notify("cancel", json!({ "jobid": id }));
        }
        self.hello = Hello::Done;
        self.kick(ctx);
    }
}
