//! Hierarchical scheduling end to end: `flux batch` (nested, directives, `flux job wait
//! --all` inside), child instance attributes, resource confinement, `flux alloc`,
//! `flux proxy`, `flux pstree`, and a cancelled parent taking its subtree down.

use std::path::Path;
use std::process::Command;

use flux_integration::{
    Instance, bin_dir, eventually, output_with_stdin, stderr, stdout, write_script,
};

/// Wait for the job to be cleaned up.
fn wait_clean(inst: &Instance, id: &str) {
    inst.ok(&["job", "wait-event", "-t", "60", id, "clean"]);
}

fn read_output(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("flux-{id}.out")))
        .unwrap_or_else(|e| panic!("flux-{id}.out: {e}"))
}

#[test]
fn nested_batch_scripts_run_in_nested_instances() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&[]);
    // The seeds' sub_job1.sh / sub_job2.sh, with a short job instead of `sleep 30`.
    write_script(
        dir.path(),
        "sub_job1.sh",
        "#!/bin/bash\nflux batch -N1 ./sub_job2.sh\nflux queue drain\n",
    );
    write_script(
        dir.path(),
        "sub_job2.sh",
        "#!/bin/bash\nflux run -N1 sh -c 'echo level $(flux getattr instance-level)'\n",
    );
    let id = inst.ok_in(dir.path(), &["batch", "-N1", "./sub_job1.sh"]);
    let id = id.trim();
    assert!(id.starts_with('ƒ'), "{id}");
    wait_clean(&inst, id);
    // sub_job1's output is the id of sub_job2, submitted to the child instance.
    let inner = read_output(dir.path(), id);
    let inner = inner.trim();
    assert!(inner.starts_with('ƒ'), "{inner}");
    assert_eq!(read_output(dir.path(), inner), "level 2\n");
    // The parent knows only sub_job1.
    let names = inst.ok(&["jobs", "-a", "-no", "{name}:{status_abbrev}"]);
    assert_eq!(names, "sub_job1.sh:CD\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn directives_merge_under_the_command_line_and_wait_all_works_inside() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&[]);
    write_script(
        dir.path(),
        "waiter.sh",
        "#!/bin/sh\n#FLUX: --job-name=from-directive -t 10m\n# flux: --output=waiter.log\n\
         for i in 1 2 3; do flux submit --flags=waitable sh -c \"exit $i\" >/dev/null; done\n\
         flux submit --flags=waitable true >/dev/null\n\
         flux job wait --all\necho all waited: $?\necho args: \"$@\"\n",
    );
    let id = inst.ok_in(
        dir.path(),
        &["batch", "--job-name=from-cli", "waiter.sh", "a", "b"],
    );
    let id = id.trim();
    wait_clean(&inst, id);
    let out = std::fs::read_to_string(dir.path().join("waiter.log")).unwrap();
    assert!(out.contains("all waited: 1\n"), "{out}");
    assert!(out.contains("args: a b\n"), "{out}");
    let row = inst.ok(&["jobs", "-no", "{name} {duration}", id]);
    assert_eq!(row, "from-cli 600.0\n");
    let spec = inst.ok(&["job", "info", id, "jobspec"]);
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let script = spec["attributes"]["system"]["batch"]["script"]
        .as_str()
        .unwrap();
    assert!(script.starts_with("#!/bin/sh\n#FLUX: --job-name=from-directive"));

    // A script on stdin has its directives applied too.
    let out = output_with_stdin(
        inst.cmd(&["batch"]).current_dir(dir.path()),
        b"#!/bin/sh\n#FLUX: --job-name=piped\ntrue\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let piped = stdout(&out);
    wait_clean(&inst, piped.trim());
    assert_eq!(inst.ok(&["jobs", "-no", "{name}", piped.trim()]), "piped\n");
    // Bad input: no shebang, a bad directive.
    write_script(dir.path(), "plain.sh", "echo hi\n");
    let out = inst.flux_in(dir.path(), &["batch", "plain.sh"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with("flux-batch: ERROR: jobscript does not start with '#!'"),
        "{}",
        stderr(&out)
    );
    write_script(
        dir.path(),
        "bad.sh",
        "#!/bin/sh\n#FLUX: --nodes=zero\ntrue\n",
    );
    let out = inst.flux_in(dir.path(), &["batch", "bad.sh"]);
    assert!(
        stderr(&out).contains("in #FLUX: directives"),
        "{}",
        stderr(&out)
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_child_instance_knows_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&[]);
    let id = inst.ok_in(
        dir.path(),
        &[
            "batch",
            "--wrap",
            "sh",
            "-c",
            "flux getattr instance-level; flux getattr parent-uri; flux getattr jobid; \
             flux getattr parent-kvs-namespace",
        ],
    );
    let id = id.trim();
    wait_clean(&inst, id);
    let out = read_output(dir.path(), id);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["1", inst.uri(), id], "{out}");
    assert!(lines[3].starts_with("job-"), "{out}");
    // The attributes are fixed at start.
    assert_eq!(inst.ok(&["getattr", "instance-level"]), "0\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_child_schedules_only_its_parent_jobs_resources() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    // Cores 0-1 busy, so the batch job gets others.
    let sleeper = inst.ok(&["submit", "-c2", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "60", sleeper.trim(), "start"]);
    let id = inst.ok_in(
        dir.path(),
        &[
            "batch",
            "-n1",
            "-c3",
            "--wrap",
            "sh",
            "-c",
            "flux resource info; flux run -n3 true && echo three ok; \
             flux run -n4 true || echo four refused; flux kvs get resource.R",
        ],
    );
    let id = id.trim();
    wait_clean(&inst, id);
    let out = read_output(dir.path(), id);
    assert!(out.starts_with("1 Nodes, 3 Cores, 0 GPUs\n"), "{out}");
    assert!(out.contains("three ok\n"), "{out}");
    assert!(out.contains("four refused\n"), "{out}");
    // The child's R is the job's R: the same cores of the same node, as rank 0.
    let cores = |r: &str| {
        let r: serde_json::Value = serde_json::from_str(r).unwrap();
        let node = &r["execution"]["R_lite"][0];
        (node["rank"].clone(), node["children"]["core"].clone())
    };
    let child_r = out.lines().last().unwrap();
    let job_r = inst.ok(&["job", "info", id, "R"]);
    assert_eq!(cores(child_r), cores(&job_r));
    assert_eq!(cores(child_r).1, "2-4");
    inst.ok(&["cancel", sleeper.trim()]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn alloc_runs_a_command_in_a_new_instance() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let out = inst.flux_in(
        dir.path(),
        &[
            "alloc",
            "-n1",
            "-c2",
            "sh",
            "-c",
            "flux getattr instance-level; flux resource info; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1\n1 Nodes, 2 Cores, 0 GPUs\n");
    // The instance shut down and its job completed.
    assert_eq!(
        inst.ok(&["jobs", "-a", "-no", "{name}:{status_abbrev}"]),
        "flux:CD\n"
    );
    let out = inst.flux_in(dir.path(), &["alloc", "--bg", "true"]);
    assert!(stderr(&out).contains("flux-alloc: ERROR: --bg takes no command"));
    // A command that cannot run: the error, and the instance is not left running.
    let out = inst.flux_in(dir.path(), &["alloc", "-n1", "/nonexistent/cmd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("command not found"),
        "{}",
        stderr(&out)
    );
    let last = inst.ok(&["job", "last"]);
    inst.ok(&["job", "wait-event", "-t", "30", last.trim(), "clean"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn proxy_reaches_a_running_child_instance() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let id = inst.ok_in(dir.path(), &["alloc", "--bg", "-n1", "-c2"]);
    let id = id.trim();
    assert_eq!(
        inst.ok_in(dir.path(), &["proxy", id, "flux", "getattr", "jobid"]),
        format!("{id}\n")
    );
    let level = inst.ok_in(
        dir.path(),
        &[
            "proxy",
            id,
            "flux",
            "run",
            "flux",
            "getattr",
            "instance-level",
        ],
    );
    assert_eq!(level, "1\n");
    // A nested instance, reached by a path of ids.
    let inner = inst.ok_in(dir.path(), &["proxy", id, "flux", "alloc", "--bg", "-n1"]);
    let path = format!("{id}/{}", inner.trim());
    let level = inst.ok_in(
        dir.path(),
        &["proxy", &path, "flux", "getattr", "instance-level"],
    );
    assert_eq!(level, "2\n");
    // Just started, its broker perhaps not up yet: proxy waits for the instance.
    let batch = inst.ok_in(dir.path(), &["batch", "-n1", "--wrap", "sleep", "300"]);
    let batch = batch.trim();
    inst.ok(&["job", "wait-event", "-t", "60", batch, "start"]);
    assert_eq!(
        inst.ok_in(
            dir.path(),
            &["proxy", batch, "flux", "getattr", "instance-level"]
        ),
        "1\n"
    );
    inst.ok(&["cancel", batch]);
    // Errors: a job that is not an instance, one that is not running, an unknown one.
    let sleeper = inst.ok(&["submit", "sleep", "300"]);
    let sleeper = sleeper.trim();
    inst.ok(&["job", "wait-event", "-t", "60", sleeper, "start"]);
    let out = inst.flux(&["proxy", sleeper, "true"]);
    assert_eq!(
        stderr(&out),
        format!("flux-proxy: ERROR: job {sleeper} is not a Flux instance\n")
    );
    inst.ok_in(dir.path(), &["proxy", id, "flux", "shutdown", "--quiet"]);
    wait_clean(&inst, id);
    let out = inst.flux(&["proxy", id, "true"]);
    assert_eq!(
        stderr(&out),
        format!("flux-proxy: ERROR: job {id} is not running\n")
    );
    assert!(!inst.flux(&["proxy", "ƒ1111", "true"]).status.success());
    inst.ok(&["cancel", sleeper]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn pstree_draws_the_hierarchy() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let id = inst.ok_in(dir.path(), &["alloc", "--bg", "-n1", "-c4"]);
    let id = id.trim();
    inst.ok_in(
        dir.path(),
        &["proxy", id, "flux", "submit", "--cc=1-2", "sleep", "300"],
    );
    let inner = inst.ok_in(dir.path(), &["proxy", id, "flux", "alloc", "--bg", "-n1"]);
    let path = format!("{id}/{}", inner.trim());
    inst.ok_in(
        dir.path(),
        &["proxy", &path, "flux", "submit", "sleep", "300"],
    );
    inst.ok(&["submit", "sleep", "300"]);
    inst.ok(&["run", "true"]);
    // Wait until every sleep runs, at every level.
    eventually("all jobs running", || {
        inst.ok(&["pstree", "-X"]).matches("sleep").count() == 4
    });
    // Running jobs come latest started first, as job-list lists them.
    assert_eq!(
        inst.ok(&["pstree"]),
        ".\n├── sleep\n└── flux\n    ├── flux\n    │   └── sleep\n    └── 2*[sleep]\n"
    );
    assert_eq!(
        inst.ok(&["pstree", "-a"]),
        ".\n├── sleep:R\n├── flux\n│   ├── flux\n│   │   └── sleep:R\n│   └── 2*[sleep:R]\n└── true:CD\n"
    );
    assert_eq!(
        inst.ok(&["pstree", "-L0", "--ascii", "-p"]),
        format!(".\n|-- sleep\n`-- {id} flux\n")
    );
    let x = inst.ok(&["pstree", "-x"]);
    let lines: Vec<&str> = x.lines().collect();
    assert_eq!(lines[0], "       JOBID USER     ST NTASKS NNODES  RUNTIME");
    assert_eq!(lines.len(), 7, "{x}");
    assert!(lines[1].ends_with(" sleep"), "{x}");
    assert!(lines[2].starts_with(&format!("{id:>12} ")), "{x}");
    assert!(lines[2].ends_with(" flux"), "{x}");
    assert!(lines[3].ends_with(" ├── flux"), "{x}");
    let progress = inst.ok(&["pstree", "-d", "progress"]);
    assert!(
        progress.starts_with("       JOBID NTASKS  NJOBS  PROG CORE%  GPU%    RUNTIME\n"),
        "{progress}"
    );
    // The outer instance: 4 cores, 2 sleeps + 1 instance of one core each.
    let outer = progress.lines().nth(2).unwrap();
    assert!(outer.contains("      3    0%   75%"), "{progress}");
    inst.ok(&["cancel", "--all"]);
    assert_eq!(inst.shutdown(), 0);
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[test]
fn cancelling_a_parent_job_stops_its_subtree_and_frees_its_resources() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let pidfile = dir.path().join("leaf.pid");
    // Three levels: batch -> batch -> a job that records its pid and sleeps.
    write_script(
        dir.path(),
        "inner.sh",
        &format!(
            "#!/bin/sh\nflux run sh -c 'echo $$ > {}; exec sleep 300'\n",
            pidfile.display()
        ),
    );
    write_script(
        dir.path(),
        "outer.sh",
        "#!/bin/sh\nflux batch -n1 ./inner.sh\nflux queue drain\n",
    );
    let id = inst.ok_in(dir.path(), &["batch", "-n1", "-c2", "./outer.sh"]);
    let id = id.trim();
    eventually("the leaf job runs", || read_pid(&pidfile).is_some());
    let leaf = read_pid(&pidfile).unwrap();
    assert!(alive(leaf));
    assert_eq!(
        inst.ok(&["resource", "list", "-s", "allocated", "-no", "{ncores}"]),
        "2\n"
    );
    inst.ok(&["cancel", id]);
    wait_clean(&inst, id);
    eventually("the leaf job is gone", || !alive(leaf));
    assert_eq!(
        inst.ok(&["resource", "list", "-s", "allocated", "-no", "{ncores}"]),
        "0\n"
    );
    assert_eq!(inst.ok(&["jobs", "-a", "-no", "{status_abbrev}"]), "CA\n");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_time_limit_on_the_parent_stops_its_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let pidfile = dir.path().join("leaf.pid");
    let cmd = format!("echo $$ > {}; exec sleep 300", pidfile.display());
    let id = inst.ok_in(
        dir.path(),
        &[
            "batch", "-n1", "-t", "3s", "--wrap", "flux", "run", "sh", "-c", &cmd,
        ],
    );
    let id = id.trim();
    eventually("the leaf job runs", || read_pid(&pidfile).is_some());
    let leaf = read_pid(&pidfile).unwrap();
    wait_clean(&inst, id);
    eventually("the leaf job is gone", || !alive(leaf));
    assert_eq!(inst.ok(&["jobs", "-a", "-no", "{status_abbrev}"]), "TO\n");
    assert_eq!(
        inst.ok(&["resource", "list", "-s", "allocated", "-no", "{ncores}"]),
        "0\n"
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_multi_node_batch_job_is_one_instance_across_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&["--test-size=2"]);
    let id = inst.ok_in(
        dir.path(),
        &[
            "batch",
            "-N2",
            "--wrap",
            "sh",
            "-c",
            "flux getattr size; flux resource info; flux run -N2 flux getattr rank | sort",
        ],
    );
    let id = id.trim();
    wait_clean(&inst, id);
    let out = read_output(dir.path(), id);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "2", "{out}");
    assert!(lines[1].starts_with("2 Nodes,"), "{out}");
    assert_eq!(lines[2..], ["0", "1"], "{out}");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn tree_runs_jobs_over_a_hierarchy_with_a_policy_per_level() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(8, dir.path());
    let log = dir.path().join("jobs.log");
    let cmd = format!(
        "policy() {{ flux module stats sched-fluxion-qmanager | grep -o 'queue-policy=[a-z]*'; }}; \
         echo $(flux getattr instance-level) $(policy) \
         $(FLUX_URI=$(flux getattr parent-uri) policy) >> {}",
        log.display()
    );
    let perf = dir.path().join("tree.out");
    inst.ok_in(
        dir.path(),
        &[
            "tree",
            "-T2x2",
            "-J",
            "5",
            "-N",
            "1",
            "-c",
            "4",
            "-Q",
            "easy:fcfs",
            "-o",
            perf.to_str().unwrap(),
            "sh",
            "-c",
            &cmd,
        ],
    );
    // Every job ran in a leaf (level 2), under fluxion with the leaves' policy, below an
    // instance with the first level's.
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        lines.lines().collect::<Vec<_>>(),
        ["2 queue-policy=fcfs queue-policy=easy"; 5],
        "{lines}"
    );
    let perf = std::fs::read_to_string(&perf).unwrap();
    let ids: Vec<&str> = perf
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "TreeID", "tree", "tree.1", "tree.1.1", "tree.1.2", "tree.2", "tree.2.1", "tree.2.2"
        ]
    );
    let njobs: Vec<&str> = perf
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(4).unwrap())
        .collect();
    assert_eq!(njobs, ["5", "3", "2", "1", "2", "1", "1"]);
    // The tree is gone.
    assert_eq!(inst.ok(&["jobs", "-no", "{name}"]), "");
    let out = inst.flux_in(dir.path(), &["tree", "-T2", "-Q", "easy:fcfs", "true"]);
    assert!(
        stderr(&out).contains("flux-tree: ERROR: 2 queue policies for 1 level(s)"),
        "{}",
        stderr(&out)
    );
    let out = inst.flux_in(dir.path(), &["tree", "-T4", "-c", "2", "true"]);
    assert!(
        stderr(&out).contains("cannot split 2 core(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn alloc_without_a_command_gives_a_shell_on_the_terminal() {
    // `script` runs flux alloc on a pseudo-terminal, as a user at a terminal would.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` command");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&[]);
    let flux = bin_dir().join("flux");
    let mut alloc = Command::new("script");
    alloc
        .args([
            "-qec",
            &format!("{} alloc -n1", flux.display()),
            "/dev/null",
        ])
        .env("FLUX_URI", inst.uri())
        .env("SHELL", "/bin/sh")
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir().display()))
        .current_dir(dir.path());
    let out = output_with_stdin(
        &mut alloc,
        b"echo level=$(flux getattr instance-level)\nexit 5\n",
    );
    assert_eq!(out.status.code(), Some(5));
    assert!(stdout(&out).contains("level=1"), "{}", stdout(&out));
    assert_eq!(inst.shutdown(), 0);
}
