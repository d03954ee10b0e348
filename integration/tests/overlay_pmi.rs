//! Brokers bootstrapped by a parent launcher through simple PMI (as `srun --mpi=pmi2` or a
//! Flux job shell would start them): this test plays the launcher.

use flux_integration::{pmi, stderr, stdout};

/// Start `size` fluxd processes with PMI_FD/PMI_RANK/PMI_SIZE; rank 0 runs `script`.
fn launch(size: u32, script: &str) -> std::process::Output {
    launch_as(&["fluxd"], "ƒpmitest", size, script)
}

/// Start `size` copies of `program` as a launcher would, each rank with hostname `nodeRANK`.
fn launch_as(program: &[&str], kvsname: &str, size: u32, script: &str) -> std::process::Output {
    let hostname = |rank: u32, cmd: &mut std::process::Command| {
        cmd.env("FLUX_FAKE_HOSTNAME", format!("node{rank}"));
    };
    pmi::launch(program, kvsname, size, hostname, script)
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
         flux run --requires=hosts:node[0-1] -N2 -n2 --label-io flux getattr hostname | sort; \
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
