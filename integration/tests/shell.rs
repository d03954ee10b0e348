//! The job shell end to end: tasks over several brokers, exit codes, PMI (a child
//! instance booting from it, a client sending garbage), commands that cannot start.

use flux_integration::{Instance, bin_dir, stderr, stdout};

#[test]
fn a_job_of_brokers_forms_one_instance_through_pmi() {
    let inst = Instance::start(&["--test-size=2"]);
    // Each task is a broker; they find each other through the puts exchanged at the PMI
    // barrier, across the two ranks of this instance.
    let path = format!("--env=PATH={}:$PATH", bin_dir().display());
    let out = inst.ok(&[
        "run",
        "-N2",
        "-n2",
        &path,
        "fluxd",
        "sh",
        "-c",
        "flux getattr size; flux getattr instance-level; flux exec -l flux getattr rank | sort",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], "2", "{out}");
    assert_eq!(&lines[2..], ["0: 0", "1: 1"], "{out}");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn tasks_learn_their_place_across_ranks() {
    let inst = Instance::start(&["--test-size=2"]);
    let out = inst.ok(&[
        "run",
        "-N2",
        "-n4",
        "--label-io",
        "sh",
        "-c",
        "echo $FLUX_TASK_LOCAL_ID $PMI_RANK $PMI_SIZE; test -n \"$PMI_FD\"",
    ]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines, ["0: 0 0 4", "1: 1 1 4", "2: 0 2 4", "3: 1 3 4"]);
    let out = inst.ok(&["run", "-o", "pmi=off", "sh", "-c", "echo ${PMI_FD:-none}"]);
    assert_eq!(out, "none\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn the_job_exits_with_the_highest_task_exit_code() {
    let inst = Instance::start(&["--test-size=2"]);
    let out = inst.flux(&["run", "-N2", "-n4", "sh", "-c", "exit $FLUX_TASK_RANK"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // A task killed by signal 9 counts as 137, above exit code 100.
    let out = inst.flux(&[
        "run",
        "-N2",
        "-n2",
        "sh",
        "-c",
        "if [ $FLUX_TASK_RANK = 1 ]; then kill -9 $$; fi; exit 100",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_pmi_client_sending_garbage_fails_the_job() {
    let inst = Instance::start(&[]);
    let out = inst.flux(&[
        "run",
        "bash",
        "-c",
        "echo 'this is not pmi' >&$PMI_FD; read answer <&$PMI_FD; echo \"$answer\"; sleep 60",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("rc=-1"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("type=exec severity=0 task 0: PMI: malformed line 'this is not pmi'"),
        "{}",
        stderr(&out)
    );
    // The broker is fine.
    assert_eq!(inst.ok(&["run", "echo", "ok"]), "ok\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn commands_that_cannot_start_exit_as_a_shell_would() {
    let inst = Instance::start(&["--test-size=2"]);
    let out = inst.flux(&["run", "-N2", "-n2", "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("nosuchcmd: command not found"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let out = inst.flux(&["run", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
    assert_eq!(inst.shutdown(), 0);
}
