//! The shell's side of each task's PMI socket: read request lines, hand them to the job's
//! [`PmiServer`](crate::pmi::PmiServer), write the replies. A line that is not PMI ends
//! the conversation with an error and raises an exception on the job.

use actix::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::{JobShell, ShellEvent};
use crate::pmi::server::{Outcome, Replies};
use crate::pmi::wire::parse_request;

/// Longest request line accepted (a `put` of the largest value fits).
const LINE_MAX: u64 = 4096;

/// A request line from task `rank` (or why it is not one).
#[derive(Message)]
#[rtype(result = "bool")]
pub(super) struct PmiLine {
    rank: u32,
    line: Result<String, String>,
}

/// Serve PMI on `sock` for task `rank`; returns where replies to it go.
pub(super) fn serve(
    sock: std::os::unix::net::UnixStream,
    rank: u32,
    shell: Addr<JobShell>,
) -> std::io::Result<UnboundedSender<String>> {
    sock.set_nonblocking(true)?;
    let sock = tokio::net::UnixStream::from_std(sock)?;
    let (read, mut write) = sock.into_split();
    let (tx, mut rx) = unbounded_channel::<String>();
    actix::spawn(async move {
        while let Some(line) = rx.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    actix::spawn(async move {
        let mut reader = BufReader::new(read);
        loop {
            let mut buf = Vec::new();
            let n = match (&mut reader)
                .take(LINE_MAX)
                .read_until(b'\n', &mut buf)
                .await
            {
                Ok(n) => n,
                Err(_) => break,
            };
            if n == 0 {
                break;
            }
            let line = if buf.last() != Some(&b'\n') && n as u64 == LINE_MAX {
                Err(format!("PMI: request longer than {LINE_MAX} bytes"))
            } else {
                String::from_utf8(buf)
                    .map(|l| l.trim_end().to_string())
                    .map_err(|_| "PMI: request is not text".to_string())
            };
            match shell.send(PmiLine { rank, line }).await {
                Ok(true) => {}
                _ => break,
            }
        }
    });
    Ok(tx)
}

impl JobShell {
    /// Write replies to the tasks they are for.
    pub(super) fn send_pmi(&mut self, replies: Replies) {
        for (rank, text) in replies {
            if let Some(tx) = self.pmi_out.get(&rank) {
                let _ = tx.send(format!("{text}\n"));
            }
        }
    }

    fn pmi_failed(&mut self, rank: u32, why: String) {
        if let Some(tx) = self.pmi_out.remove(&rank) {
            let _ = tx.send(format!("cmd=error rc=-1 msg={why}\n"));
        }
        self.owner.do_send(ShellEvent::Exception {
            jobid: self.jobid(),
            note: format!("task {rank}: {why}"),
        });
    }
}

impl Handler<PmiLine> for JobShell {
    type Result = bool;

    /// Returns whether to keep reading from this task.
    fn handle(&mut self, msg: PmiLine, _: &mut Context<Self>) -> bool {
        let rank = msg.rank;
        let request = msg
            .line
            .and_then(|line| parse_request(&line).map_err(|e| e.to_string()));
        let request = match request {
            Ok(r) => r,
            Err(why) => {
                self.pmi_failed(rank, why);
                return false;
            }
        };
        let Some(server) = &mut self.pmi else {
            return false;
        };
        let (replies, outcome) = server.handle(rank, request);
        self.send_pmi(replies);
        match outcome {
            Outcome::Continue | Outcome::Finalized => true,
            Outcome::Exchange(puts) => {
                self.owner.do_send(ShellEvent::Exchange {
                    jobid: self.jobid(),
                    shell_rank: self.spec.shell_rank,
                    puts,
                });
                true
            }
            Outcome::Aborted { code, msg } => {
                self.owner.do_send(ShellEvent::Exception {
                    jobid: self.jobid(),
                    note: format!("task {rank}: PMI abort (exit code {code}): {msg}"),
                });
                false
            }
        }
    }
}
