//! A child instance of several brokers, bootstrapped by PMI as a job shell will start it
//! (this test plays the job shell): each broker takes its node of the parent job's R.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use flux_integration::{Instance, bin_dir, stderr, stdout};
use flux_shell::pmi::{PmiServer, parse_request};

/// Start one fluxd per node of job `jobid` of the instance at `uri`, with PMI; rank 0
/// runs `script`.
fn launch_job_brokers(uri: &str, jobid: &str, size: u32, script: &str) -> Output {
    let server = Arc::new(Mutex::new(PmiServer::new(jobid, size, [])));
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
        let mut cmd = Command::new(bin_dir().join("fluxd"));
        cmd.env("PMI_FD", "3")
            .env("PMI_RANK", rank.to_string())
            .env("PMI_SIZE", size.to_string())
            .env("FLUX_URI", uri)
            .env("FLUX_JOB_ID", jobid)
            .env("FLUX_JOB_NNODES", size.to_string())
            .env("PATH", &path)
            .stdin(Stdio::null());
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

#[test]
fn each_broker_of_a_child_takes_its_node_of_the_parent_job() {
    let dir = tempfile::tempdir().unwrap();
    let r = Command::new(bin_dir().join("flux"))
        .args(["R", "encode", "-r", "0-1", "-c", "0-7", "-H", "node0,node1"])
        .output()
        .unwrap();
    let path = dir.path().join("R.json");
    std::fs::write(&path, &r.stdout).unwrap();
    let parent = Instance::start(&[
        "--test-size=2",
        &format!("-Sresource.path={}", path.display()),
    ]);
    // The job whose brokers we play: 2 nodes, 3 cores on each.
    let id = parent.ok(&["submit", "-N2", "-n2", "-c3", "sleep", "300"]);
    let id = id.trim();
    parent.ok(&["job", "wait-event", "-t", "60", id, "start"]);
    let out = launch_job_brokers(
        parent.uri(),
        id,
        2,
        "flux getattr size; flux getattr instance-level; flux getattr jobid; \
         flux resource info; flux resource list -no '{nodelist}' -s free; \
         flux exec -l flux getattr rank | sort",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "2",
            "1",
            id,
            "2 Nodes, 6 Cores, 0 GPUs",
            "node[0-1]",
            "0: 0",
            "1: 1"
        ],
        "{text}"
    );
    let log = parent.ok(&["job", "eventlog", id]);
    assert!(
        !log.contains("exception"),
        "the parent job still runs: {log}"
    );
    parent.ok(&["cancel", id]);
    assert_eq!(parent.shutdown(), 0);
}
