//! Playing a parent launcher (`srun --mpi=pmi2`, a Flux job shell): start copies of a
//! program with simple PMI and serve their PMI-1 requests from this process.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use flux_shell::pmi::{PmiServer, parse_request};

use crate::bin_dir;

/// Start `size` copies of `program` (a binary of this build, then its arguments) with
/// PMI_FD/PMI_RANK/PMI_SIZE and kvsname `kvsname`; `env` adds each rank's environment.
/// Rank 0 is given `sh -c script` as its initial program; its output is returned once it
/// exits, after the other ranks have.
pub fn launch(
    program: &[&str],
    kvsname: &str,
    size: u32,
    env: impl Fn(u32, &mut Command),
    script: &str,
) -> Output {
    let server = Arc::new(Mutex::new(PmiServer::new(kvsname, size, [])));
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut writers = Vec::new();
    let mut children = Vec::new();
    let mut leader = None;
    for rank in 0..size {
        let (ours, theirs) = UnixStream::pair().unwrap();
        writers.push(ours);
        let fd = theirs.as_raw_fd();
        let mut cmd = Command::new(bin_dir().join(program[0]));
        cmd.args(&program[1..])
            .env("PMI_FD", "3")
            .env("PMI_RANK", rank.to_string())
            .env("PMI_SIZE", size.to_string())
            .env("PATH", &path)
            .env_remove("FLUX_URI")
            .stdin(Stdio::null());
        env(rank, &mut cmd);
        // SAFETY: between fork and exec we only call dup2, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        if rank == 0 {
            cmd.args(["sh", "-c", script])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            leader = Some(cmd.spawn().unwrap());
        } else {
            cmd.stdout(Stdio::null());
            children.push(cmd.spawn().unwrap());
        }
        drop(theirs);
    }
    // One thread per rank reads its requests; replies go to whichever rank they are for.
    let writers = Arc::new(Mutex::new(writers));
    let readers: Vec<UnixStream> = writers
        .lock()
        .unwrap()
        .iter()
        .map(|w| w.try_clone().unwrap())
        .collect();
    for (rank, reader) in readers.into_iter().enumerate() {
        let (server, writers) = (server.clone(), writers.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                let Ok(req) = parse_request(&line) else { break };
                let (replies, _) = server.lock().unwrap().handle(rank as u32, req);
                for (to, text) in replies {
                    let _ = writers.lock().unwrap()[to as usize]
                        .write_all(format!("{text}\n").as_bytes());
                }
            }
        });
    }
    let out = leader.unwrap().wait_with_output().unwrap();
    for mut child in children {
        let _ = child.wait();
    }
    out
}
