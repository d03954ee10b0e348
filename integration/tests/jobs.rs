//! Jobs end to end on one broker: submit, run, attach, cancel, wait, dependencies, urgency,
//! time limits, simulated execution, and bad input.

use std::time::Duration;

use flux_integration::{Instance, stderr, stdout};

fn instance() -> Instance {
    Instance::start(&[])
}

#[test]
fn run_copies_output_and_exit_codes() {
    let inst = instance();
    assert_eq!(inst.ok(&["run", "echo", "hello"]), "hello\n");
    let out = inst.ok(&[
        "run",
        "-n2",
        "--label-io",
        "sh",
        "-c",
        "echo rank $FLUX_TASK_RANK of $FLUX_JOB_SIZE",
    ]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines, ["0: rank 0 of 2", "1: rank 1 of 2"]);

    let out = inst.flux(&["run", "sh", "-c", "echo oops >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("oops\n"));
    assert!(
        stderr(&out).contains("flux-job: task(s) exited with exit code 3"),
        "{}",
        stderr(&out)
    );

    let out = inst.flux(&["run", "nosuchcommand"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("nosuchcommand: command not found"),
        "{}",
        stderr(&out)
    );

    let out = inst.flux(&["run", "sh", "-c", "kill -9 $$"]);
    assert_eq!(out.status.code(), Some(137));
    let env = inst.ok(&[
        "run",
        "sh",
        "-c",
        "echo $FLUX_JOB_ID $FLUX_JOB_NNODES $FLUX_URI",
    ]);
    let fields: Vec<&str> = env.split_whitespace().collect();
    assert!(fields[0].starts_with('ƒ'), "{env}");
    assert_eq!(&fields[1..], ["1", inst.uri()]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn submit_then_attach_and_inspect() {
    let inst = instance();
    let id = inst
        .ok(&["submit", "sh", "-c", "echo out; echo err >&2"])
        .trim()
        .to_string();
    assert!(id.starts_with('ƒ'), "{id}");
    let out = inst.flux(&["job", "attach", &id]);
    assert!(out.status.success());
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("out\n", "err\n")
    );
    let log = inst.ok(&["job", "eventlog", &id]);
    let names: Vec<&str> = log
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "submit", "validate", "depend", "priority", "alloc", "start", "finish", "release",
            "free", "clean"
        ]
    );
    assert!(
        log.lines()
            .next()
            .unwrap()
            .contains("urgency=16 flags=0 version=1"),
        "{log}"
    );
    let jobspec: serde_json::Value =
        serde_json::from_str(&inst.ok(&["job", "info", &id, "jobspec"])).unwrap();
    assert_eq!(jobspec["version"], 1);
    let r: serde_json::Value = serde_json::from_str(&inst.ok(&["job", "info", &id, "R"])).unwrap();
    assert_eq!(r["version"], 1);
    assert_eq!(inst.ok(&["job", "last"]).trim(), id);
    assert!(
        inst.ok(&["job", "wait-event", &id, "clean"])
            .contains(" clean")
    );
    let decimal = inst.ok(&["job", "id", &id]);
    assert_eq!(
        inst.ok(&["job", "id", "--to=f58", decimal.trim()]).trim(),
        id
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn dry_run_then_job_submit() {
    let inst = instance();
    let spec = inst.ok(&["submit", "--dry-run", "echo", "from-file"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.json");
    std::fs::write(&path, spec).unwrap();
    let id = inst.ok(&["job", "submit", path.to_str().unwrap()]);
    let last = inst.ok(&["job", "last"]);
    assert_eq!(id, last);
    assert_eq!(inst.ok(&["job", "attach", last.trim()]), "from-file\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn simulated_jobs_run_no_process() {
    let inst = instance();
    let out = inst.ok(&[
        "submit",
        "--cc=1-5",
        "-S",
        "exec.test.run_duration=0.05s",
        "--wait",
        "nosuchcommand",
    ]);
    assert_eq!(out.lines().count(), 5);
    for id in out.lines() {
        let log = inst.ok(&["job", "eventlog", id]);
        assert!(log.contains(" finish status=0"), "{log}");
    }
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn cancel_time_limit_and_wait() {
    let inst = instance();
    let id = inst
        .ok(&["submit", "--flags=waitable", "sleep", "30"])
        .trim()
        .to_string();
    inst.ok(&["job", "wait-event", "-t", "10", &id, "start"]);
    inst.ok(&["cancel", &id]);
    inst.ok(&["job", "wait-event", "-t", "10", &id, "clean"]);
    assert!(
        inst.ok(&["job", "eventlog", &id])
            .contains("exception type=\"cancel\" severity=0")
    );
    let out = inst.flux(&["job", "wait", &id]);
    assert_eq!(out.status.code(), Some(1), "a canceled job failed");

    let out = inst.flux(&["run", "-t", "0.5s", "sleep", "30"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("type=timeout"), "{}", stderr(&out));

    let ok = inst.ok(&["submit", "--flags=waitable", "true"]);
    assert_eq!(
        inst.flux(&["job", "wait", ok.trim()]).status.code(),
        Some(0)
    );
    let out = inst.flux(&["job", "wait", ok.trim()]);
    assert_eq!(out.status.code(), Some(2), "waited once only");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn dependencies_and_urgency() {
    let inst = instance();
    let first = inst.ok(&["submit", "sleep", "0.3"]).trim().to_string();
    let after = inst
        .ok(&["submit", &format!("--dependency=afterok:{first}"), "true"])
        .trim()
        .to_string();
    let never = inst
        .ok(&[
            "submit",
            &format!("--dependency=afternotok:{first}"),
            "true",
        ])
        .trim()
        .to_string();
    inst.ok(&["job", "wait-event", "-t", "10", &after, "clean"]);
    inst.ok(&["job", "wait-event", "-t", "10", &never, "clean"]);
    assert!(
        inst.ok(&["job", "eventlog", &after])
            .contains(" finish status=0")
    );
    assert!(
        inst.ok(&["job", "eventlog", &never])
            .contains("type=\"dependency\"")
    );

    let held = inst
        .ok(&["submit", "--urgency=hold", "true"])
        .trim()
        .to_string();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!inst.ok(&["job", "eventlog", &held]).contains(" alloc"));
    inst.ok(&["job", "urgency", &held, "default"]);
    inst.ok(&["job", "wait-event", "-t", "10", &held, "clean"]);

    let out = inst.flux(&["submit", "--dependency=afterok:ƒ2", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn queue_controls_submission() {
    let inst = instance();
    inst.ok(&["queue", "disable", "maintenance", "window"]);
    assert_eq!(
        inst.ok(&["queue", "status"]),
        "Job submission is disabled: maintenance window\nScheduling is started\n"
    );
    let out = inst.flux(&["submit", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("job submission is disabled: maintenance window"),
        "{}",
        stderr(&out)
    );
    inst.ok(&["queue", "enable"]);
    inst.ok(&["queue", "stop", "-m", "paused"]);
    let id = inst.ok(&["submit", "true"]).trim().to_string();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!inst.ok(&["job", "eventlog", &id]).contains(" alloc"));
    inst.ok(&["queue", "start"]);
    inst.ok(&["job", "wait-event", "-t", "10", &id, "clean"]);
    inst.ok(&["queue", "drain", "--timeout", "10s"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn bad_input_is_refused_clearly() {
    let inst = instance();
    let cases: &[(&[&str], &str)] = &[
        (
            &["submit", "-n", "0", "true"],
            "--ntasks must be a positive integer",
        ),
        (
            &["submit", "--time-limit=soon", "true"],
            "invalid --time-limit 'soon'",
        ),
        (&["submit", "--urgency=99", "true"], "invalid --urgency"),
        (&["submit", "--flags=bogus", "true"], "unknown flag 'bogus'"),
        (&["submit"], "job command and arguments are missing"),
        (&["job", "attach", "notanid"], "invalid job id 'notanid'"),
        (&["job", "eventlog", "ƒ2"], "not found"),
        (&["cancel", "ƒ2"], "unknown job id"),
        (&["job", "kill", "--signal=NOPE", "ƒ2"], "invalid signal"),
        (
            &["submit", "--requires=host:elsewhere", "true"],
            "no resources satisfy the constraints",
        ),
        (&["submit", "-N", "5", "true"], "unsatisfiable request"),
        (
            &["submit", "--queue=debug", "true"],
            "queue 'debug' does not exist",
        ),
    ];
    for (args, text) in cases {
        let out = inst.flux(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(text), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(&format!("flux-{}: ERROR: ", args[0])),
            "{}",
            stderr(&out)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, r#"{"version": 9, "resources": [], "tasks": []}"#).unwrap();
    let out = inst.flux(&["job", "submit", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(inst.is_running_after(&["run", "true"]));
    assert_eq!(inst.shutdown(), 0);
}

trait Alive {
    fn is_running_after(&self, args: &[&str]) -> bool;
}

impl Alive for Instance {
    fn is_running_after(&self, args: &[&str]) -> bool {
        self.flux(args).status.success()
    }
}

#[test]
fn bulksubmit_watch_and_mini_aliases() {
    let inst = instance();
    let out = inst.ok(&[
        "bulksubmit",
        "--watch",
        "--quiet",
        "echo",
        "{}",
        "{seq}",
        ":::",
        "a",
        "b",
    ]);
    assert_eq!(out, "a 0\nb 1\n");
    let out = inst.ok(&[
        "bulksubmit",
        "--dry-run",
        "echo",
        "{0}-{1}",
        ":::",
        "x",
        "y",
        ":::+",
        "1",
        "2",
    ]);
    assert_eq!(
        out,
        "bulksubmit: submit echo x-1\nbulksubmit: submit echo y-2\n"
    );
    assert_eq!(
        inst.ok(&["mini", "run", "echo", "old-style"]),
        "old-style\n"
    );
    let id = inst.ok(&["mini", "submit", "sh", "-c", "echo watched; exit 4"]);
    let out = inst.flux(&["watch", id.trim()]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stdout(&out), "watched\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_restarted_instance_knows_its_jobs() {
    let state = tempfile::tempdir().unwrap();
    let statedir = format!("-Sstatedir={}", state.path().display());
    let first = Instance::start(&[&statedir]);
    let done = first.ok(&["submit", "echo", "before"]).trim().to_string();
    first.ok(&["job", "wait-event", "-t", "10", &done, "clean"]);
    first.ok(&["queue", "stop"]);
    let pending = first.ok(&["submit", "echo", "after"]).trim().to_string();
    first.ok(&["queue", "start"]);
    let running = first.ok(&["submit", "sleep", "300"]).trim().to_string();
    first.ok(&["job", "wait-event", "-t", "10", &running, "start"]);
    first.ok(&["queue", "stop"]);
    let queued = first.ok(&["submit", "echo", "queued"]).trim().to_string();
    assert_eq!(first.shutdown(), 0);

    let second = Instance::start(&[&statedir]);
    assert_eq!(second.ok(&["job", "attach", &done]), "before\n");
    let log = second.ok(&["job", "eventlog", &running]);
    assert!(log.contains("running when the instance restarted"), "{log}");
    second.ok(&["job", "wait-event", "-t", "10", &queued, "clean"]);
    assert_eq!(second.ok(&["job", "attach", &queued]), "queued\n");
    second.ok(&["job", "wait-event", "-t", "10", &pending, "clean"]);
    let newer = second.ok(&["submit", "true"]).trim().to_string();
    second.ok(&["job", "wait-event", "-t", "10", &newer, "clean"]);
    let listed = second.ok(&["jobs", "-a", "-n", "-o", "{id.f58} {status}"]);
    for (id, status) in [
        (&done, "COMPLETED"),
        (&pending, "COMPLETED"),
        (&running, "FAILED"),
        (&queued, "COMPLETED"),
        (&newer, "COMPLETED"),
    ] {
        assert!(
            listed.contains(&format!("{id} {status}\n")),
            "{id} {status}: {listed}"
        );
    }
    let stats = second.ok(&["jobs", "--stats", "-n"]);
    assert!(stats.contains("4 completed, 1 failed"), "{stats}");
    let dec = |id: &str| second.ok(&["job", "id", id]).trim().parse::<u64>().unwrap();
    assert!(
        dec(&newer) > dec(&queued),
        "new ids come after the old ones"
    );
    assert_eq!(second.shutdown(), 0);
}

#[test]
fn the_scheduling_tutorial_commands() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let host = inst.ok(&["getattr", "hostname"]).trim().to_string();
    let out = inst.ok(&[
        "run",
        "-n",
        "4",
        "--label-io",
        "--time-limit=5s",
        "--env-remove=LD_LIBRARY_PATH",
        "hostname",
    ]);
    let mut lines: Vec<String> = out.lines().map(String::from).collect();
    lines.sort();
    let expected: Vec<String> = (0..4).map(|r| format!("{r}: {host}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(inst.flux(&["run", "/bin/false"]).status.code(), Some(1));
    let out = inst.ok(&[
        "bulksubmit",
        "--watch",
        "--wait",
        "echo",
        "{}",
        ":::",
        "foo",
        "bar",
        "baz",
    ]);
    let words: Vec<&str> = out.lines().filter(|l| !l.starts_with('ƒ')).collect();
    assert_eq!(words, ["foo", "bar", "baz"]);
    let out = inst.ok(&["submit", "--cc=1-10", "--watch", "hostname"]);
    assert_eq!(out.lines().filter(|l| *l == host).count(), 10, "{out}");
    let sleeper = inst
        .ok(&["submit", "-N1", "-n2", "sleep", "inf"])
        .trim()
        .to_string();
    inst.ok(&["job", "wait-event", "-t", "10", &sleeper, "start"]);
    inst.ok(&["cancel", &sleeper]);
    inst.ok(&["submit", "-N1", "-n2", "sleep", "inf"]);
    let out = inst.flux(&["cancel", "--all"]);
    assert!(
        stderr(&out).contains("flux-cancel: Canceled 1 jobs (0 errors)"),
        "{}",
        stderr(&out)
    );
    inst.ok(&["queue", "drain", "--timeout=10s"]);
    let out = inst.ok(&["resource", "list"]);
    assert!(out.contains("free      1      8"), "{out}");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn input_comes_from_a_file() {
    let inst = instance();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "from the file\n").unwrap();
    let arg = format!("--input={}", input.display());
    assert_eq!(inst.ok(&["run", &arg, "cat"]), "from the file\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn tasks_get_a_private_tmpdir_and_their_gpus() {
    let inst = instance();
    let out = inst.ok(&[
        "run",
        "sh",
        "-c",
        "test -d $FLUX_JOB_TMPDIR && echo $FLUX_JOB_TMPDIR $CUDA_VISIBLE_DEVICES",
    ]);
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert!(fields[0].contains("/jobtmp-0-ƒ"), "{out}");
    assert_eq!(fields[1], "-1", "no GPUs allocated");
    assert!(
        !std::path::Path::new(fields[0]).exists(),
        "removed after the job"
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn swapping_the_scheduler_keeps_running_and_pending_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(2, dir.path());
    let running = inst.ok(&["submit", "-n2", "sleep", "1"]).trim().to_string();
    inst.ok(&["job", "wait-event", "-t", "10", &running, "start"]);
    let pending = inst.ok(&["submit", "-n1", "true"]).trim().to_string();
    inst.ok(&["module", "remove", "sched-simple"]);
    inst.ok(&["module", "load", "sched-simple"]);
    inst.ok(&["job", "wait-event", "-t", "15", &pending, "clean"]);
    let stamp = |id: &str, event: &str| -> f64 {
        let log = inst.ok(&["job", "eventlog", id]);
        let line = log
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(event))
            .unwrap()
            .to_string();
        line.split_whitespace().next().unwrap().parse().unwrap()
    };
    assert!(
        stamp(&pending, "alloc") >= stamp(&running, "free"),
        "the new scheduler knew the running job's cores were taken"
    );
    assert_eq!(inst.shutdown(), 0);
}
