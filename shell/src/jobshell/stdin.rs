//! Standard input of the tasks: what `flux run` forwards ([`Stdin`]) written to their
//! pipes, or typed into their pseudo-terminals.

use actix::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

use super::JobShell;

/// Standard input for the tasks `ranks` (all local ones when `None`); `eof` closes it.
#[derive(Message, Debug, Clone, Default)]
#[rtype(result = "()")]
pub struct Stdin {
    pub ranks: Option<Vec<u32>>,
    pub data: Vec<u8>,
    pub eof: bool,
}

/// A writer task for one task's stdin; at the end it closes it, or for a terminal types
/// `eof_byte` (Ctrl-D) instead and keeps it open until every sender is gone (the shell
/// holds one until it ends).
pub(super) fn feed(
    mut pipe: impl tokio::io::AsyncWrite + Unpin + 'static,
    eof_byte: Option<u8>,
) -> UnboundedSender<Option<Vec<u8>>> {
    use tokio::io::AsyncWriteExt;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<Vec<u8>>>();
    actix::spawn(async move {
        while let Some(Some(data)) = rx.recv().await {
            if pipe.write_all(&data).await.is_err() || pipe.flush().await.is_err() {
                return;
            }
        }
        if let Some(byte) = eof_byte {
            let _ = pipe.write_all(&[byte]).await;
            let _ = pipe.flush().await;
            // Keep the terminal open (closing it would hang up the task) until the shell
            // drops its last sender.
            while rx.recv().await.is_some() {}
        }
    });
    tx
}

/// Where a task's stdout is read from: its pipe, or its terminal.
pub(super) enum Pipe {
    Child(tokio::process::ChildStdout),
    Pty(tokio::fs::File),
}

impl tokio::io::AsyncRead for Pipe {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Pipe::Child(p) => std::pin::Pin::new(p).poll_read(cx, buf),
            Pipe::Pty(p) => std::pin::Pin::new(p).poll_read(cx, buf),
        }
    }
}

impl Handler<Stdin> for JobShell {
    type Result = ();

    fn handle(&mut self, msg: Stdin, _: &mut Context<Self>) {
        let ranks: Vec<u32> = match &msg.ranks {
            Some(ranks) => ranks.clone(),
            None => self.stdin.keys().copied().collect(),
        };
        for rank in ranks {
            if !msg.data.is_empty()
                && let Some(tx) = self.stdin.get(&rank)
            {
                let _ = tx.send(Some(msg.data.clone()));
            }
            if msg.eof
                && let Some(tx) = self.stdin.remove(&rank)
            {
                let _ = tx.send(None);
            }
        }
    }
}
