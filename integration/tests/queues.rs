//! Named queues end to end (RFC 33, flux-config-queues(5)): queues from the instance
//! configuration, each confined to the nodes with its `requires` properties, with its own
//! defaults and limits; `flux queue list|status|enable|disable|start|stop` per queue;
//! `flux jobs -q`; the same with Fluxion; and the anonymous queue's older command forms.

use std::path::Path;

use flux_integration::{Instance, flux, flux_cmd, stderr, stdout};

/// Two 2-core nodes: rank 0 has property `debug`, rank 1 `batch`; `extra` appended to
/// the configuration. Returns the config path.
fn site_conf(dir: &Path, extra: &str) -> String {
    let r = flux(&[
        "R",
        "encode",
        "-r",
        "0-1",
        "-c",
        "0-1",
        "-H",
        "node[0-1]",
        "-p",
        "debug:0",
        "-p",
        "batch:1",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let r_path = dir.join("R.json");
    std::fs::write(&r_path, &r.stdout).unwrap();
    let conf = format!(
        "[resource]\npath = \"{}\"\n\n\
         [queues.debug]\nrequires = [\"debug\"]\n\
         policy.limits.duration = \"30m\"\n\
         policy.jobspec.defaults.system.duration = \"10m\"\n\n\
         [queues.batch]\nrequires = [\"batch\"]\n\n\
         [policy.jobspec.defaults.system]\nqueue = \"batch\"\nduration = \"1h\"\n\n\
         [policy.limits]\njob-size.max.nnodes = 1\n{extra}",
        r_path.display()
    );
    let path = dir.join("queues.toml");
    std::fs::write(&path, conf).unwrap();
    format!("--config-path={}", path.display())
}

fn failure(inst: &Instance, args: &[&str]) -> String {
    let out = inst.flux(args);
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        stdout(&out)
    );
    stderr(&out)
}

fn status_of(inst: &Instance, id: &str) -> String {
    inst.ok(&["jobs", "-n", "-o", "{status}", id.trim()])
        .trim()
        .to_string()
}

/// The rank a job ran on.
fn rank_of(inst: &Instance, args: &[&str]) -> String {
    let mut submit = vec!["submit", "--wait"];
    submit.extend_from_slice(args);
    submit.push("true");
    let id = inst.ok(&submit);
    inst.ok(&["jobs", "-n", "-o", "{ranks}", id.trim()])
        .trim()
        .to_string()
}

/// The checks both schedulers must pass.
fn queues_confine_and_switch(inst: &Instance) {
    assert_eq!(
        inst.ok(&["queue", "list"]),
        "QUEUE  EN ST TDEFAULT   TLIMIT     NNODES     NCORES      NGPUS\n\
         batch*  ✔  ✔       1h      inf        0-1      0-inf      0-inf\n\
         debug   ✔  ✔      10m      30m        0-1      0-inf      0-inf\n"
    );
    // `flux resource list` shows each queue's nodes.
    assert_eq!(
        inst.ok(&["resource", "list", "-n", "-o", "{state} {queue} {nodelist}"]),
        "free batch node1\nfree debug node0\nallocated\ndown\n"
    );
    assert_eq!(
        inst.ok(&[
            "resource",
            "list",
            "-n",
            "-q",
            "debug",
            "-s",
            "free",
            "-o",
            "{nodelist}"
        ]),
        "node0\n"
    );
    assert_eq!(
        inst.ok(&["resource", "info", "-q", "debug"]),
        "1 Nodes, 2 Cores, 0 GPUs\n"
    );
    // Each queue runs on its own node; no queue means the default one.
    assert_eq!(rank_of(inst, &[]), "1");
    assert_eq!(rank_of(inst, &["-q", "debug"]), "0");
    let rows = inst.ok(&["jobs", "-a", "-n", "-o", "{queue} {duration}"]);
    let mut rows: Vec<&str> = rows.lines().collect();
    rows.sort();
    assert_eq!(rows, ["batch 3600.0", "debug 600.0"]);
    assert_eq!(
        inst.ok(&["jobs", "-a", "-n", "-q", "debug", "-o", "{queue}"]),
        "debug\n"
    );

    // Bad requests name the queue and the limit.
    let err = failure(inst, &["submit", "-q", "gpu", "true"]);
    assert_eq!(err, "flux-submit: ERROR: queue 'gpu' does not exist\n");
    let err = failure(inst, &["submit", "-q", "debug", "-t", "1h", "true"]);
    assert!(
        err.contains("duration 1h exceeds the limit of 30m for queue debug"),
        "{err}"
    );
    let err = failure(inst, &["submit", "-N2", "-n2", "true"]);
    assert!(
        err.contains("requested nnodes (2) exceeds the limit of 1"),
        "{err}"
    );

    // Stopping one queue holds its jobs, not the other queue's.
    assert_eq!(
        inst.ok(&["queue", "stop", "debug", "for", "tests"]),
        "debug: Scheduling is stopped: for tests\n"
    );
    assert_eq!(
        inst.ok(&["queue", "status"]),
        "batch: Job submission is enabled\nbatch: Scheduling is started\n\
         debug: Job submission is enabled\ndebug: Scheduling is stopped: for tests\n"
    );
    let held = inst.ok(&["submit", "-q", "debug", "true"]);
    assert_eq!(inst.ok(&["run", "echo", "batch runs"]), "batch runs\n");
    assert_eq!(status_of(inst, &held), "SCHED");
    let err = failure(inst, &["queue", "start"]);
    assert!(err.contains("name a queue or use --all"), "{err}");
    inst.ok(&["queue", "start", "--all"]);
    inst.ok(&["job", "wait-event", "-t", "30", held.trim(), "clean"]);
    assert_eq!(status_of(inst, &held), "COMPLETED");

    // Disabling one queue refuses its submissions, with the reason.
    inst.ok(&["queue", "disable", "-q", "batch", "-m", "maintenance"]);
    let err = failure(inst, &["submit", "true"]);
    assert_eq!(
        err,
        "flux-submit: ERROR: job submission to queue batch is disabled: maintenance\n"
    );
    assert_eq!(inst.ok(&["run", "-q", "debug", "echo", "ok"]), "ok\n");
    let list = inst.ok(&[
        "queue",
        "list",
        "-n",
        "-q",
        "batch",
        "-o",
        "{queue} {enabled}",
    ]);
    assert_eq!(list, "batch ✗\n");
    inst.ok(&["queue", "enable", "batch"]);
    assert_eq!(inst.ok(&["run", "echo", "back"]), "back\n");
}

#[test]
fn named_queues_with_sched_simple() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&["--test-size=2", &site_conf(dir.path(), "")]);
    assert!(inst.ok(&["module", "list"]).contains("sched-simple"));
    queues_confine_and_switch(&inst);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn named_queues_with_fluxion() {
    let dir = tempfile::tempdir().unwrap();
    // debug is fcfs: its blocked head must not hold up batch, as one shared fcfs queue would.
    let conf = site_conf(
        dir.path(),
        "\n[sched-fluxion-qmanager]\nqueue-policy-per-queue = \"batch:easy\"\n",
    );
    let inst = Instance::start(&["--test-size=2", &conf]);
    assert!(
        inst.ok(&["module", "list"])
            .contains("sched-fluxion-qmanager")
    );
    queues_confine_and_switch(&inst);
    // A debug job waiting for node 0 does not hold up the batch queue.
    let sleeper = inst.ok(&["submit", "-q", "debug", "-n2", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "30", sleeper.trim(), "start"]);
    let waiting = inst.ok(&["submit", "-q", "debug", "-n2", "true"]);
    assert_eq!(inst.ok(&["run", "-n2", "echo", "batch"]), "batch\nbatch\n");
    assert_eq!(status_of(&inst, &waiting), "SCHED");
    inst.ok(&["cancel", sleeper.trim()]);
    inst.ok(&["job", "wait-event", "-t", "30", waiting.trim(), "clean"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_bad_queue_configuration_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[queues.debug]\n[policy.jobspec.defaults.system]\nqueue = \"batch\"\n",
    )
    .unwrap();
    let out = flux_cmd()
        .args(["start", "-c", &path.display().to_string(), "true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the default queue 'batch' is not a configured queue"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_anonymous_queue_takes_the_older_command_forms() {
    let inst = Instance::start(&[]);
    assert_eq!(
        inst.ok(&["queue", "list"]),
        " EN ST TDEFAULT   TLIMIT     NNODES     NCORES      NGPUS\n  \
         ✔  ✔      inf      inf      0-inf      0-inf      0-inf\n"
    );
    // As in the Slurm-migration seed: the words are the reason.
    inst.ok(&["queue", "disable", "system maintenance"]);
    assert_eq!(
        failure(&inst, &["submit", "true"]),
        "flux-submit: ERROR: job submission is disabled: system maintenance\n"
    );
    assert_eq!(
        inst.ok(&["queue", "status"]),
        "Job submission is disabled: system maintenance\nScheduling is started\n"
    );
    let err = failure(&inst, &["queue", "stop", "-q", "batch"]);
    assert!(err.contains("no queues are configured"), "{err}");
    assert_eq!(inst.ok(&["queue", "enable", "--quiet"]), "");
    assert_eq!(inst.ok(&["run", "echo", "hi"]), "hi\n");
}
