//! Brokers bootstrapped by a parent launcher through simple PMI (as `srun --mpi=pmi2` or a
//! Flux job shell would start them): this test plays the launcher.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use flux_integration::{bin_dir, stderr, stdout};
use flux_shell::pmi::{PmiServer, parse_request};

/// Start `size` fluxd processes with PMI_FD/PMI_RANK/PMI_SIZE; rank 0 runs `script`.
fn launch(size: u32, script: &str) -> std::process::Output {
    launch_as(&["fluxd"], "ƒpmitest", size, script)
}

/// Start `size` copies of `program` (a binary of this build and its arguments) as a
/// launcher would: PMI_FD/PMI_RANK/PMI_SIZE, kvsname `kvsname`, each rank with hostname
/// `nodeRANK`; rank 0 is given `sh -c script` as its initial program.
fn launch_as(program: &[&str], kvsname: &str, size: u32, script: &str) -> std::process::Output {
    let server = Arc::new(Mutex::new(PmiServer::new(kvsname, size, [])));
    let mut writers = Vec::new();
    let mut children = Vec::new();
    let mut leader = None;
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for rank in 0..size {
        let (ours, theirs) = UnixStream::pair().unwrap();
        writers.push(ours);
        let fd = theirs.as_raw_fd();
        let mut cmd = Command::new(bin_dir().join(program[0]));
        cmd.args(&program[1..])
            .env("FLUX_FAKE_HOSTNAME", format!("node{rank}"))
            .env("PMI_FD", "3")
            .env("PMI_RANK", rank.to_string())
            .env("PMI_SIZE", size.to_string())
            .env("PATH", &path)
            .env_remove("FLUX_URI")
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
    // One thread per broker reads its requests; replies go to whichever broker they are for.
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
fn brokers_boot_from_pmi_and_form_one_instance() {
    let out = launch(
        3,
        "flux getattr size; flux getattr jobid; flux exec -l flux getattr rank | sort; flux overlay status --summary",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "3");
    assert_eq!(lines[1], "ƒpmitest");
    assert_eq!(&lines[2..5], ["0: 0", "1: 1", "2: 2"]);
    assert!(lines[5].ends_with(": full"), "{text}");
}

/// What the seeds do under Slurm: `srun -N2 -n2 --mpi=pmi2 flux start flux run
/// --requires="hosts:..." -N2 -n2 hostname`. Slurm's pmi2 plugin speaks the PMI-1 wire
/// protocol on PMI_FD, with kvsname `JOBID.STEPID`; this test plays srun.
#[test]
fn flux_start_under_an_srun_like_launcher() {
    let out = launch_as(
        &["flux", "start"],
        "4242.0",
        2,
        "flux resource list -s free -no '{nnodes} {nodelist}'; \
         flux run --requires=hosts:node[0-1] -N2 -n2 --label-io flux getattr hostname; \
         flux run --requires=host:node1 flux getattr hostname",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "2 node[0-1]\n0: node0\n1: node1\nnode1\n",
        "{}",
        stderr(&out)
    );
}
