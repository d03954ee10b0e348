//! A blocking simple-PMI client: what a broker started by a launcher (a job shell, `srun
//! --mpi=pmi2`, a test harness) uses to learn its rank and find its peers.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;

use super::wire::{fields, rc};

/// Why PMI failed.
#[derive(Debug, thiserror::Error)]
pub enum PmiError {
    #[error("PMI: {0}")]
    Io(#[from] std::io::Error),
    #[error("PMI: invalid {0} in the environment")]
    Env(&'static str),
    #[error("PMI: unexpected response '{0}'")]
    Protocol(String),
    #[error("PMI: {cmd} failed with rc={rc}")]
    Failed { cmd: String, rc: i32 },
}

/// A connection to the launcher's PMI server.
pub struct PmiClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    pub rank: u32,
    pub size: u32,
    pub kvsname: String,
}

impl PmiClient {
    /// Connect through `PMI_FD`/`PMI_RANK`/`PMI_SIZE`; `None` when not launched with PMI.
    pub fn from_env() -> Result<Option<PmiClient>, PmiError> {
        let Ok(fd) = std::env::var("PMI_FD") else {
            return Ok(None);
        };
        let fd: i32 = fd.parse().map_err(|_| PmiError::Env("PMI_FD"))?;
        let rank = std::env::var("PMI_RANK")
            .ok()
            .and_then(|r| r.parse().ok())
            .ok_or(PmiError::Env("PMI_RANK"))?;
        let size = std::env::var("PMI_SIZE")
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(PmiError::Env("PMI_SIZE"))?;
        // SAFETY: the launcher gave us this descriptor for PMI and nothing else uses it.
        let stream = unsafe { UnixStream::from_raw_fd(fd) };
        PmiClient::connect(stream, rank, size).map(Some)
    }

    /// Initialize over an established connection.
    pub fn connect(stream: UnixStream, rank: u32, size: u32) -> Result<PmiClient, PmiError> {
        let writer = stream.try_clone()?;
        let mut client = PmiClient {
            reader: BufReader::new(stream),
            writer,
            rank,
            size,
            kvsname: String::new(),
        };
        client.call(
            "cmd=init pmi_version=1 pmi_subversion=1",
            "response_to_init",
        )?;
        let rsp = client.call("cmd=get_my_kvsname", "my_kvsname")?;
        client.kvsname = rsp
            .get("kvsname")
            .cloned()
            .ok_or_else(|| PmiError::Protocol("no kvsname".into()))?;
        Ok(client)
    }

    fn call(
        &mut self,
        line: &str,
        expect: &str,
    ) -> Result<std::collections::HashMap<String, String>, PmiError> {
        self.writer.write_all(format!("{line}\n").as_bytes())?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(PmiError::Protocol("connection closed".into()));
        }
        let f = fields(&answer).map_err(|_| PmiError::Protocol(answer.trim().to_string()))?;
        if f.get("cmd").map(String::as_str) != Some(expect) {
            return Err(PmiError::Protocol(answer.trim().to_string()));
        }
        let code = f
            .get("rc")
            .and_then(|r| r.parse::<i32>().ok())
            .unwrap_or(rc::FAIL);
        if code != rc::SUCCESS && expect != "get_result" {
            return Err(PmiError::Failed {
                cmd: expect.to_string(),
                rc: code,
            });
        }
        Ok(f)
    }

    /// Store `key=value` for the others (visible after the next barrier).
    pub fn put(&mut self, key: &str, value: &str) -> Result<(), PmiError> {
        let line = format!("cmd=put kvsname={} key={key} value={value}", self.kvsname);
        self.call(&line, "put_result").map(|_| ())
    }

    /// Wait until every client entered the barrier.
    pub fn barrier(&mut self) -> Result<(), PmiError> {
        self.call("cmd=barrier_in", "barrier_out").map(|_| ())
    }

    /// A value put by someone before the last barrier (or preset by the launcher).
    pub fn get(&mut self, key: &str) -> Result<Option<String>, PmiError> {
        let line = format!("cmd=get kvsname={} key={key}", self.kvsname);
        let f = self.call(&line, "get_result")?;
        match f.get("rc").map(String::as_str) {
            Some("0") => Ok(f.get("value").cloned()),
            _ => Ok(None),
        }
    }

    /// Say goodbye.
    pub fn finalize(mut self) -> Result<(), PmiError> {
        self.call("cmd=finalize", "finalize_ack").map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pmi::server::PmiServer;
    use crate::pmi::wire::parse_request;
    use std::io::{BufRead, BufReader, Write};

    /// A PMI server for `size` clients over socketpairs, on threads.
    fn serve(size: u32) -> Vec<UnixStream> {
        let server = std::sync::Arc::new(std::sync::Mutex::new(PmiServer::new("fjob", size, [])));
        let mut clients = Vec::new();
        let mut writers = Vec::new();
        let mut readers = Vec::new();
        for _ in 0..size {
            let (a, b) = UnixStream::pair().unwrap();
            clients.push(a);
            writers.push(b.try_clone().unwrap());
            readers.push(b);
        }
        let writers = std::sync::Arc::new(std::sync::Mutex::new(writers));
        for (rank, reader) in readers.into_iter().enumerate() {
            let (server, writers) = (server.clone(), writers.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    let (replies, _) = server
                        .lock()
                        .unwrap()
                        .handle(rank as u32, parse_request(&line).unwrap());
                    for (to, text) in replies {
                        let _ = writers.lock().unwrap()[to as usize]
                            .write_all(format!("{text}\n").as_bytes());
                    }
                }
            });
        }
        clients
    }

    #[test]
    fn clients_exchange_cards_through_a_barrier() {
        let handles: Vec<_> = serve(3)
            .into_iter()
            .enumerate()
            .map(|(rank, stream)| {
                std::thread::spawn(move || {
                    let mut c = PmiClient::connect(stream, rank as u32, 3).unwrap();
                    assert_eq!(c.kvsname, "fjob");
                    c.put(&rank.to_string(), &format!("card-{rank}")).unwrap();
                    c.barrier().unwrap();
                    let next = (rank + 1) % 3;
                    let card = c.get(&next.to_string()).unwrap();
                    assert_eq!(c.get("nosuch").unwrap(), None);
                    c.finalize().unwrap();
                    card
                })
            })
            .collect();
        let cards: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            cards,
            [
                Some("card-1".into()),
                Some("card-2".into()),
                Some("card-0".into())
            ]
        );
    }
}
