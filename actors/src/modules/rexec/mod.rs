//! `rexec`: run processes on this broker's rank for `flux exec`. One streaming rpc per
//! process: `rexec.exec {cmd, cwd?}` answers `{type:"started",pid}`, then
//! `{type:"output",stream,data}` chunks, then `{type:"finished",status}`, then ENODATA.
//! `rexec.kill {pid, signum}` signals a process; a client that goes away has its processes
//! killed.

use std::collections::HashMap;
use std::process::Stdio;

use actix::prelude::*;
use flux_proto::{Envelope, errno};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ModuleContext, ModuleHandle, handle_common, unknown_method};
use crate::broker::Broker;
use crate::msg::{Deliver, Route, Stop};
use crate::tracer::Probe;

/// The rexec module's actor.
pub struct Rexec {
    name: String,
    broker: Addr<Broker>,
    probe: Probe,
    /// The instance URI processes get as `FLUX_URI`.
    uri: String,
    /// Running processes: pid -> the client (route id) that started it.
    procs: HashMap<u32, String>,
}

/// Start the module (no arguments).
pub fn start(ctx: ModuleContext) -> Result<ModuleHandle, String> {
    ctx.args.finish("rexec")?;
    let addr = Rexec {
        name: ctx.name,
        broker: ctx.broker,
        probe: ctx.probe,
        uri: ctx.attrs.get("local-uri").unwrap_or_default().to_string(),
        procs: HashMap::new(),
    }
    .start();
    Ok(ModuleHandle::of(addr))
}

#[derive(Deserialize)]
struct ExecReq {
    cmd: Vec<String>,
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct KillReq {
    pid: u32,
    signum: i32,
}

/// A process finished: forget it.
#[derive(Message)]
#[rtype(result = "()")]
struct Exited(u32);

impl Rexec {
    fn reply(&self, msg: Envelope) {
        self.probe.sent();
        self.broker.do_send(Route {
            from: self.name.clone(),
            msg,
        });
    }

    fn exec(&mut self, req: Envelope, ctx: &mut Context<Self>) {
        if !req.is_streaming() {
            return self.reply(req.error_response(errno::EPROTO, "rexec.exec is a streaming rpc"));
        }
        let body: ExecReq = match req.json() {
            Ok(body) => body,
            Err(e) => {
                return self
                    .reply(req.error_response(errno::EPROTO, format!("malformed request: {e}")));
            }
        };
        let Some((program, args)) = body.cmd.split_first() else {
            return self.reply(req.error_response(errno::EINVAL, "empty command"));
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .env("FLUX_URI", &self.uri)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(cwd) = &body.cwd {
            command.current_dir(cwd);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let text = flux_shell::exit::spawn_error_message(program, &e);
                return self
                    .reply(req.error_response(e.raw_os_error().unwrap_or(errno::EIO), text));
            }
        };
        let pid = child.id().unwrap_or(0);
        if let Some(client) = req.route.last() {
            self.procs.insert(pid, client.clone());
        }
        self.reply(req.response_json(&json!({ "type": "started", "pid": pid })));
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (broker, name, me) = (self.broker.clone(), self.name.clone(), ctx.address());
        actix::spawn(async move {
            let send = |msg: Envelope| {
                broker.do_send(Route {
                    from: name.clone(),
                    msg,
                })
            };
            let (_, _, status) = tokio::join!(
                pump(stdout, "stdout", &req, &send),
                pump(stderr, "stderr", &req, &send),
                child.wait()
            );
            let status = status.map(flux_shell::exit::exit_code).unwrap_or(1);
            send(req.response_json(&json!({ "type": "finished", "pid": pid, "status": status })));
            send(req.error_response(errno::ENODATA, ""));
            me.do_send(Exited(pid));
        });
    }

    fn kill(&mut self, req: &Envelope) -> Envelope {
        match req.json::<KillReq>() {
            Ok(body) if self.procs.contains_key(&body.pid) => {
                // SAFETY: kill has no memory preconditions; the pid is a live child of ours.
                unsafe { libc::kill(body.pid as libc::pid_t, body.signum) };
                req.response_json(&json!({}))
            }
            Ok(body) => req.error_response(errno::ESRCH, format!("no process {}", body.pid)),
            Err(e) => req.error_response(errno::EPROTO, format!("malformed request: {e}")),
        }
    }

    /// A client went away: its processes go too.
    fn disconnect(&mut self, client: &str) {
        for (pid, owner) in &self.procs {
            if owner == client {
                // SAFETY: as in `kill`.
                unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }
}

/// Forward a process's output as `output` responses, in chunks as they come.
async fn pump(
    pipe: Option<impl AsyncRead + Unpin>,
    stream: &str,
    req: &Envelope,
    send: &impl Fn(Envelope),
) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = vec![0u8; 64 << 10];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let data = String::from_utf8_lossy(&buf[..n]);
        send(req.response_json(&json!({ "type": "output", "stream": stream, "data": data })));
    }
}

impl Actor for Rexec {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Rexec {
    type Result = ();

    fn handle(&mut self, Deliver(msg): Deliver, ctx: &mut Context<Self>) {
        let _timing = self.probe.handling();
        match msg.topic.as_str() {
            "rexec.exec" => self.exec(msg, ctx),
            "rexec.kill" => {
                let rsp = self.kill(&msg);
                self.reply(rsp);
            }
            "rexec.disconnect" => {
                if let Some(client) = msg.route.last() {
                    self.disconnect(client);
                }
            }
            _ if msg.is_noresponse() => {}
            _ => {
                let rsp = handle_common(&self.name, &self.probe, &msg)
                    .unwrap_or_else(|| unknown_method(&msg));
                self.reply(rsp);
            }
        }
    }
}

impl Handler<Exited> for Rexec {
    type Result = ();

    fn handle(&mut self, Exited(pid): Exited, _: &mut Context<Self>) {
        self.procs.remove(&pid);
    }
}

impl Handler<Stop> for Rexec {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        let clients: Vec<String> = self.procs.values().cloned().collect();
        for client in clients {
            self.disconnect(&client);
        }
        ctx.stop();
    }
}
