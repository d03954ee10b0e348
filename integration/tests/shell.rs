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
        // TERM ignored: the job's failure races with the echo of the answer.
        "trap '' TERM; echo 'this is not pmi' >&$PMI_FD; read answer <&$PMI_FD; echo \"$answer\"",
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

/// Wait until a task has created `path` (it is ready for a signal).
fn wait_for(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{path:?} never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A task that reports `sig` then exits 0, after touching `ready`.
fn trap_script(sig: &str, ready: &std::path::Path) -> String {
    format!(
        "trap 'echo got {sig}; exit 0' {sig}; touch {}; while :; do sleep 0.1; done",
        ready.display()
    )
}

#[test]
fn flux_job_kill_delivers_a_signal() {
    let inst = Instance::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let id = inst.ok(&["submit", "bash", "-c", &trap_script("USR1", &ready)]);
    let id = id.trim();
    wait_for(&ready);
    inst.ok(&["job", "kill", "-s", "USR1", id]);
    let out = inst.flux(&["job", "attach", id]);
    assert_eq!(stdout(&out), "got USR1\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn cancel_sends_sigterm_then_sigkill() {
    let inst = Instance::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'echo term' TERM; touch {}; while :; do sleep 0.1; done",
        ready.display()
    );
    let id = inst.ok(&["submit", "bash", "-c", &script]);
    let id = id.trim();
    wait_for(&ready);
    inst.ok(&["cancel", id]);
    let out = inst.flux(&["job", "attach", id]);
    // The task ignored SIGTERM (it only printed), so SIGKILL ended it.
    assert!(stdout(&out).starts_with("term\n"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    assert!(stderr(&out).contains("type=cancel"), "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn the_time_limit_warns_with_the_chosen_signal() {
    let inst = Instance::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let out = inst.ok(&[
        "run",
        "-t",
        "1m",
        "--signal=USR2@55s",
        "bash",
        "-c",
        &trap_script("USR2", &ready),
    ]);
    assert_eq!(out, "got USR2\n");
    let out = inst.flux(&["run", "--signal=USR1@soon", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("flux-run: ERROR: invalid --signal 'USR1@soon'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn ctrl_c_of_flux_run_cancels_the_job() {
    let inst = Instance::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let script = format!("touch {}; sleep 300", ready.display());
    let child = inst
        .cmd(&["run", "bash", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&ready);
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(stderr(&out).contains("flux-run: interrupted: canceling job"));
    assert!(stderr(&out).contains("type=cancel severity=0 interrupted by Ctrl-C"));
    let jobs = inst.ok(&["jobs", "-a", "-n", "-o", "{result}"]);
    assert_eq!(jobs.trim(), "CANCELED");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn tasks_get_the_submitters_soft_limits() {
    let inst = Instance::start(&[]);
    let flux = bin_dir().join("flux");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -S -n 200; exec {} run sh -c 'ulimit -n'",
            flux.display()
        ))
        .env("FLUX_URI", inst.uri())
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "200\n", "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn the_time_limit_sends_sigalrm_then_sigkill() {
    let inst = Instance::start(&["--test-size=2"]);
    // Tasks on both ranks shrug off SIGALRM (and the SIGTERM of the timeout exception).
    let out = inst.flux(&[
        "run",
        "-N2",
        "-n2",
        "-t",
        "1s",
        "-l",
        "bash",
        "-c",
        "trap 'echo alarm' ALRM; trap '' TERM; while :; do sleep 0.1; done",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("0: alarm") && text.contains("1: alarm"),
        "{text}"
    );
    assert!(stderr(&out).contains("type=timeout"), "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}
