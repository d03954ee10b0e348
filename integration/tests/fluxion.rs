//! Fluxion end to end: swap `sched-simple` for `sched-fluxion-resource` +
//! `sched-fluxion-qmanager` with `flux module`, as the plumbing tutorial does, run jobs
//! through them, and swap back.

use flux_integration::{Instance, stderr, stdout};

fn data(name: &str) -> String {
    flux_integration::test_data(name)
}

#[test]
fn fluxion_replaces_sched_simple_and_runs_jobs() {
    let inst = Instance::start(&[]);
    inst.ok(&["module", "remove", "sched-simple"]);
    inst.ok(&[
        "module",
        "load",
        "sched-fluxion-resource",
        "load-allowlist=node,socket,core",
    ]);
    inst.ok(&[
        "module",
        "load",
        "sched-fluxion-qmanager",
        "queue-params=queue-depth=4",
    ]);
    let list = inst.ok(&["module", "list"]);
    let qmanager = list
        .lines()
        .find(|l| l.starts_with("sched-fluxion-qmanager"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(qmanager.trim_end().ends_with("sched"), "{list}");
    assert!(list.contains("sched-fluxion-resource"), "{list}");

    // Only one module may hold the sched service.
    let out = inst.flux(&["module", "load", "sched-simple"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("sched"), "{}", stderr(&out));

    assert_eq!(inst.ok(&["run", "echo", "hello"]), "hello\n");
    let out = inst.flux(&["run", "-n", "100000", "true"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("unsatisfiable"), "{}", stderr(&out));

    inst.ok(&["module", "remove", "sched-fluxion-qmanager"]);
    inst.ok(&["module", "remove", "sched-fluxion-resource"]);
    inst.ok(&["module", "load", "sched-simple"]);
    assert_eq!(inst.ok(&["run", "echo", "again"]), "again\n");
}

#[test]
fn fluxion_modules_refuse_bad_options() {
    let inst = Instance::start(&[]);
    for (args, expect) in [
        (
            &["sched-fluxion-qmanager", "queue-policy=lifo"][..],
            "unknown queue-policy 'lifo'",
        ),
        (
            &["sched-fluxion-qmanager", "queue-params=queue-depth=x"][..],
            "queue-depth=x",
        ),
        (
            &["sched-fluxion-resource", "policy=best"][..],
            "unknown match policy 'best'",
        ),
        (
            &["sched-fluxion-resource", "prune-filters=core"][..],
            "invalid prune-filters",
        ),
    ] {
        let mut cmd = vec!["module", "load"];
        cmd.extend_from_slice(args);
        let out = inst.flux(&cmd);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
}

/// `flux jobs` shows why a job waits, and when a reserved one should start, as Fluxion's
/// queue manager tells the job manager (`{sched.reason_pending}`, `{sched.t_estimate}`).
#[test]
fn pending_jobs_show_the_schedulers_reason_and_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let r = flux_integration::flux(&["R", "encode", "-r", "0", "-c", "0-1", "-H", "node0"]);
    let path = dir.path().join("R.json");
    std::fs::write(&path, &r.stdout).unwrap();
    let inst = Instance::start(&[&format!("-Sresource.path={}", path.display())]);
    inst.ok(&["module", "remove", "sched-simple"]);
    inst.ok(&["module", "load", "sched-fluxion-resource"]);
    inst.ok(&[
        "module",
        "load",
        "sched-fluxion-qmanager",
        "queue-policy=easy",
    ]);
    let running = inst.ok(&["submit", "-n2", "-t", "100s", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "10", running.trim(), "start"]);
    let reserved = inst.ok(&["submit", "-n2", "-t", "10s", "true"]);
    let blocked = inst.ok(&["submit", "-n2", "-t", "10s", "true"]);
    let format = "{id.f58} {sched.reason_pending} {sched.t_estimate}";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let listed = loop {
        let out = inst.ok(&["jobs", "-n", "-f", "pending", "-o", format]);
        if out.lines().count() == 2 && out.lines().all(|l| l.contains("insufficient")) {
            break out;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let line = |id: &str| listed.lines().find(|l| l.starts_with(id.trim())).unwrap();
    let fields: Vec<&str> = line(&reserved).split_whitespace().collect();
    assert_eq!(fields[1..3], ["insufficient", "resources"], "{listed}");
    assert!(
        fields.len() == 4 && !fields[3].is_empty(),
        "a start estimate: {listed}"
    );
    let fields: Vec<&str> = line(&blocked).split_whitespace().collect();
    assert_eq!(
        fields.len(),
        3,
        "no estimate without a reservation: {listed}"
    );
    inst.ok(&["cancel", running.trim()]);
    inst.ok(&["job", "wait-event", "-t", "10", reserved.trim(), "alloc"]);
    let out = inst.ok(&["jobs", "-n", "-a", "-o", format]);
    assert!(
        !line_of(&out, &reserved).contains("insufficient"),
        "an allocated job has no pending reason: {out}"
    );
    assert_eq!(inst.shutdown(), 0);
}

fn line_of<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(id.trim())).unwrap_or("")
}

/// Swap sched-simple for Fluxion at run time, as the plumbing tutorial does.
fn swap_to_fluxion(inst: &Instance, resource_args: &[&str]) {
    inst.ok(&["module", "remove", "sched-simple"]);
    let mut load = vec!["module", "load", "sched-fluxion-resource"];
    load.extend_from_slice(resource_args);
    inst.ok(&load);
    inst.ok(&["module", "load", "sched-fluxion-qmanager"]);
}

fn submit(inst: &Instance, args: &[&str]) -> String {
    let mut cmd = vec!["submit"];
    cmd.extend_from_slice(args);
    inst.ok(&cmd).trim().to_string()
}

/// Wait until Fluxion has looked at the first of `ids` and left it pending with a reason
/// (`{sched.reason_pending}`; with fcfs the jobs behind it are not even tried); panic if
/// one of them leaves the queue instead.
fn wait_pending_with_reason(inst: &Instance, ids: &[String]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = inst.ok(&[
            "jobs",
            "-n",
            "-a",
            "-o",
            "{id.f58} {state} {sched.reason_pending}",
        ]);
        let mut looked_at = false;
        for id in ids {
            let fields: Vec<&str> = line_of(&out, id).split_whitespace().collect();
            assert!(
                fields.get(1) == Some(&"SCHED"),
                "{id} was given cores that running jobs hold:\n{out}"
            );
            looked_at |= id == &ids[0] && fields.len() > 2;
        }
        if looked_at {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// RFC 27 hello: jobs that sched-simple started keep their cores when Fluxion is loaded
/// in its place; new jobs wait for them and run once they are cancelled.
#[test]
fn fluxion_loaded_at_run_time_learns_running_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(4, dir.path());
    let sleepers: Vec<String> = (0..3)
        .map(|_| submit(&inst, &["-n1", "sleep", "300"]))
        .collect();
    for id in &sleepers {
        inst.ok(&["job", "wait-event", "-t", "10", id, "start"]);
    }
    swap_to_fluxion(&inst, &[]);
    let first = submit(&inst, &["-n1", "sleep", "300"]);
    let waiting: Vec<String> = (0..2)
        .map(|_| submit(&inst, &["-n1", "sleep", "300"]))
        .collect();
    inst.ok(&["job", "wait-event", "-t", "10", &first, "start"]);
    wait_pending_with_reason(&inst, &waiting);

    // The sleepers' cores come back through sched.free like any Fluxion job's.
    let mut cancel = vec!["cancel"];
    cancel.extend(sleepers.iter().map(String::as_str));
    inst.ok(&cancel);
    for id in &waiting {
        inst.ok(&["job", "wait-event", "-t", "10", id, "start"]);
    }
    let mut cancel = vec!["cancel", &first];
    cancel.extend(waiting.iter().map(String::as_str));
    inst.ok(&cancel);
    assert_eq!(inst.ok(&["run", "-n4", "echo", "all"]), "all\n".repeat(4));
    assert_eq!(inst.shutdown(), 0);
}

/// A whole-node job started by sched-simple keeps its node under Fluxion.
#[test]
fn fluxion_loaded_at_run_time_keeps_an_exclusive_job_s_node() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(4, dir.path());
    let whole = submit(&inst, &["-N1", "--exclusive", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "10", &whole, "start"]);
    swap_to_fluxion(&inst, &[]);
    let small = submit(&inst, &["-n1", "sleep", "300"]);
    wait_pending_with_reason(&inst, std::slice::from_ref(&small));
    inst.ok(&["cancel", &whole]);
    inst.ok(&["job", "wait-event", "-t", "10", &small, "start"]);
    inst.ok(&["cancel", &small]);
    assert_eq!(inst.shutdown(), 0);
}

/// A running job whose R is not in Fluxion's graph cannot be booked: like flux-sched, the
/// scheduler logs it and raises a fatal `scheduler-restart` exception on the job.
#[test]
fn fluxion_raises_an_exception_on_a_running_job_it_cannot_book() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(4, dir.path());
    let big = submit(&inst, &["-n4", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "10", &big, "start"]);
    let host = inst.ok(&["getattr", "hostname"]);
    let small = flux_integration::flux(&["R", "encode", "-r", "0", "-c", "0-1", "-H", host.trim()]);
    let path = dir.path().join("small.json");
    std::fs::write(&path, &small.stdout).unwrap();
    swap_to_fluxion(&inst, &[&format!("load-file={}", path.display())]);
    inst.ok(&["job", "wait-event", "-t", "10", &big, "exception"]);
    let events = inst.ok(&["job", "eventlog", &big]);
    assert!(events.contains("scheduler-restart"), "{events}");
    inst.ok(&["job", "wait-event", "-t", "10", &big, "clean"]);
    let dmesg = inst.ok(&["dmesg"]);
    assert!(dmesg.contains(&big), "{dmesg}");
    // The graph stays usable for new jobs.
    assert_eq!(inst.ok(&["run", "-n2", "echo", "ok"]), "ok\n".repeat(2));
    assert_eq!(inst.shutdown(), 0);
}

/// `load-format=hwloc`: the graph is the machine's hwloc topology (here a simulated one,
/// 4 cores and 2 GPUs), so GPUs can be scheduled; a bad XML file refuses the load.
#[test]
fn fluxion_schedules_the_hwloc_topology() {
    let inst = Instance::start(&[&format!("-Sresource.hwloc-xml={}", data("gpu2-core4.xml"))]);
    inst.ok(&["module", "remove", "sched-simple"]);
    let bad = format!("load-file={}", data("../../../Cargo.toml"));
    let out = inst.flux(&[
        "module",
        "load",
        "sched-fluxion-resource",
        "load-format=hwloc",
        &bad,
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("hwloc: "), "{}", stderr(&out));
    inst.ok(&[
        "module",
        "load",
        "sched-fluxion-resource",
        "load-format=hwloc",
        "load-allowlist=node,core,gpu",
    ]);
    inst.ok(&["module", "load", "sched-fluxion-qmanager"]);
    assert_eq!(inst.ok(&["run", "-n2", "-g1", "echo", "gpu"]), "gpu\ngpu\n");
    let out = inst.flux(&["run", "-n3", "-g1", "true"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("unsatisfiable"), "{}", stderr(&out));
}
