//! A child instance of several brokers, bootstrapped by PMI as a job shell will start it
//! (this test plays the job shell): each broker takes its node of the parent job's R.

use std::process::{Command, Output};

use flux_integration::{Instance, bin_dir, pmi, stderr, stdout};

/// Start one fluxd per node of job `jobid` of the instance at `uri`, with PMI; rank 0
/// runs `script`.
fn launch_job_brokers(uri: &str, jobid: &str, size: u32, script: &str) -> Output {
    let job = |_: u32, cmd: &mut Command| {
        cmd.env("FLUX_URI", uri)
            .env("FLUX_JOB_ID", jobid)
            .env("FLUX_JOB_NNODES", size.to_string());
    };
    pmi::launch(&["fluxd"], jobid, size, job, script)
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
