//! Task output on its way out of the shell: whole UTF-8 characters, whole lines unless
//! unbuffered, to the owner (for the KVS) or, labeled, to a file.

use std::io::Write;
use std::sync::Arc;

use actix::Recipient;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{ShellEvent, Stream};

/// Where one stream of a task goes.
#[derive(Clone)]
pub(super) enum Dest {
    /// To the owner, as [`ShellEvent::Output`].
    Owner(Recipient<ShellEvent>),
    /// To a file, each line prefixed with `RANK: ` (`--label-io` with `--output`).
    LabeledFile(Arc<std::fs::File>),
}

/// Output held back until its line is complete (unless unbuffered).
#[derive(Debug, Default)]
pub struct LineBuffer {
    tail: String,
    unbuffered: bool,
}

/// A partial line longer than this goes out anyway.
const LINE_MAX: usize = 64 << 10;

impl LineBuffer {
    /// A buffer that holds partial lines, or passes everything at once when `unbuffered`.
    pub fn new(unbuffered: bool) -> Self {
        LineBuffer {
            tail: String::new(),
            unbuffered,
        }
    }

    /// What of `text` (read after the earlier text) can go out now.
    pub fn push(&mut self, text: &str) -> String {
        if self.unbuffered {
            return text.to_string();
        }
        self.tail.push_str(text);
        match self.tail.rfind('\n') {
            Some(end) => {
                let rest = self.tail.split_off(end + 1);
                std::mem::replace(&mut self.tail, rest)
            }
            None if self.tail.len() > LINE_MAX => std::mem::take(&mut self.tail),
            None => String::new(),
        }
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.tail)
    }
}

/// Each line of `text` prefixed with `rank: `.
pub fn label(rank: u32, text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| format!("{rank}: {line}"))
        .collect()
}

/// Copy a task's pipe to `dest`. Each piece waits for the owner to take the previous one,
/// which bounds what a flooding task can pile up.
pub(super) async fn pump(
    pipe: Option<impl AsyncRead + Unpin>,
    jobid: u64,
    rank: u32,
    stream: Stream,
    dest: Dest,
    unbuffered: bool,
    owner: Recipient<ShellEvent>,
) {
    if let Some(mut pipe) = pipe {
        let mut buf = vec![0u8; 16 << 10];
        let mut chars = Utf8Chunks::default();
        let mut lines = LineBuffer::new(unbuffered);
        loop {
            let n = pipe.read(&mut buf).await.unwrap_or(0);
            let data = if n == 0 {
                let rest = chars.finish();
                let mut data = lines.push(&rest);
                data.push_str(&lines.finish());
                data
            } else {
                lines.push(&chars.push(&buf[..n]))
            };
            if !data.is_empty() {
                let sent = match &dest {
                    Dest::Owner(owner) => owner
                        .send(ShellEvent::Output {
                            jobid,
                            rank,
                            stream,
                            data,
                        })
                        .await
                        .is_ok(),
                    Dest::LabeledFile(file) => {
                        (&**file).write_all(label(rank, &data).as_bytes()).is_ok()
                    }
                };
                if !sent {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
    }
    let _ = owner
        .send(ShellEvent::Eof {
            jobid,
            rank,
            stream,
        })
        .await;
}

/// Text from a byte stream, never splitting a UTF-8 sequence between two reads (invalid
/// bytes become U+FFFD).
#[derive(Debug, Default)]
pub struct Utf8Chunks {
    tail: Vec<u8>,
}

impl Utf8Chunks {
    /// The text of `bytes` read after the earlier ones; an unfinished sequence waits.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.tail.extend_from_slice(bytes);
        let keep = match std::str::from_utf8(&self.tail) {
            Ok(_) => 0,
            // `error_len() == None`: the end is a sequence cut short, not an invalid one.
            Err(e) if e.error_len().is_none() => self.tail.len() - e.valid_up_to(),
            Err(_) => incomplete_suffix(&self.tail),
        };
        let rest = self.tail.split_off(self.tail.len() - keep);
        let text = String::from_utf8_lossy(&self.tail).into_owned();
        self.tail = rest;
        text
    }

    /// Whatever is left at the end of the stream.
    pub fn finish(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.tail)).into_owned()
    }
}

/// The length of a UTF-8 sequence started but not finished at the end of `b` (0-3).
fn incomplete_suffix(b: &[u8]) -> usize {
    for back in 1..=3.min(b.len()) {
        let byte = b[b.len() - back];
        if byte & 0xC0 != 0x80 {
            let need = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 0,
            };
            return if need > back { back } else { 0 };
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_split_between_reads_are_kept_whole() {
        let mut c = Utf8Chunks::default();
        let e = "é".as_bytes();
        assert_eq!(c.push(&[b'a', e[0]]), "a");
        assert_eq!(c.push(&[e[1], b'b']), "éb");
        assert_eq!(c.push(&[0xff, b'c', e[0]]), "\u{fffd}c");
        assert_eq!(c.finish(), "\u{fffd}");
    }

    #[test]
    fn lines_go_out_whole() {
        let mut b = LineBuffer::new(false);
        assert_eq!(b.push("hel"), "");
        assert_eq!(b.push("lo\nwor"), "hello\n");
        assert_eq!(b.push("ld\n"), "world\n");
        assert_eq!(b.push("tail"), "");
        assert_eq!(b.finish(), "tail");
        let mut u = LineBuffer::new(true);
        assert_eq!(u.push("no newline"), "no newline");
        assert_eq!(label(3, "a\nb"), "3: a\n3: b");
    }
}
