//! What the job shell puts around a task: CPU affinity, GPU variables, the per-node
//! temporary directory, pseudo-terminals, and shell options checked at submit.

use flux_integration::{Instance, bin_dir, output_with_stdin, stderr, stdout};

/// The CPUs this test (and the broker it starts) may run on.
fn my_cpus() -> Vec<usize> {
    flux_shell::jobshell::options::usable_cpus()
}

/// `Cpus_allowed_list` of each task, by task rank.
fn task_cpus(inst: &Instance, args: &[&str]) -> Vec<String> {
    let mut cmd = vec!["run", "-l"];
    cmd.extend_from_slice(args);
    cmd.extend_from_slice(&["grep", "Cpus_allowed_list", "/proc/self/status"]);
    let mut lines: Vec<String> = inst
        .ok(&cmd)
        .lines()
        .map(|l| l.split_whitespace().last().unwrap().to_string())
        .collect();
    lines.sort();
    lines
}

#[test]
fn tasks_are_bound_to_the_cores_of_the_job() {
    let cpus = my_cpus();
    if cpus.len() < 2 || cpus[1] != cpus[0] + 1 {
        eprintln!("skipped: needs two consecutive usable CPUs");
        return;
    }
    let inst = Instance::start(&[]);
    let first_two = format!("{}-{}", cpus[0], cpus[1]);
    let (a, b) = (cpus[0].to_string(), cpus[1].to_string());
    // per-task: each of two tasks gets one of the job's two cores.
    assert_eq!(
        task_cpus(&inst, &["-n2", "-o", "cpu-affinity=per-task"]),
        [a.clone(), b.clone()]
    );
    // on (the default): every task may use all the job's cores.
    assert_eq!(
        task_cpus(&inst, &["-n2"]),
        [first_two.clone(), first_two.clone()]
    );
    assert_eq!(task_cpus(&inst, &["-n1"]), [a]);
    // off: the broker's CPUs, whatever the job got.
    let off = task_cpus(&inst, &["-n1", "-o", "cpu-affinity=off"]);
    assert_ne!(off, [cpus[0].to_string()]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn tasks_see_gpus_and_a_tmpdir_on_every_rank() {
    let inst = Instance::start(&["--test-size=2"]);
    let out = inst.ok(&[
        "run",
        "-N2",
        "-n2",
        "-l",
        "sh",
        "-c",
        "test -d $FLUX_JOB_TMPDIR && echo $CUDA_VISIBLE_DEVICES $ROCR_VISIBLE_DEVICES $FLUX_JOB_TMPDIR",
    ]);
    let mut dirs = Vec::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&fields[1..3], ["-1", "-1"], "no GPUs allocated: {out}");
        let rank = fields[0].trim_end_matches(':');
        assert!(fields[3].contains(&format!("/jobtmp-{rank}-ƒ")), "{out}");
        dirs.push(fields[3].to_string());
    }
    assert_eq!(dirs.len(), 2);
    for dir in dirs {
        assert!(!std::path::Path::new(&dir).exists(), "{dir} removed");
    }
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_pty_is_the_tasks_terminal() {
    let inst = Instance::start(&[]);
    let out = inst.ok(&[
        "run",
        "-o",
        "pty",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && echo tty",
    ]);
    assert_eq!(out, "tty\r\n");
    // Only task 1 gets one.
    let out = inst.ok(&[
        "run",
        "-n2",
        "-l",
        "-o",
        "pty.ranks=1",
        "sh",
        "-c",
        "if test -t 1; then echo tty; else echo pipe; fi",
    ]);
    let mut lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    lines.sort();
    assert_eq!(lines, ["0: pipe", "1: tty"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn pty_interactive_attaches_the_terminal_of_flux_run() {
    let inst = Instance::start(&[]);
    // `script` gives flux run a terminal; what is typed there reaches task 0's pty.
    let run = format!(
        "{} run -o pty.interactive sh -c 'read x; echo got $x'",
        bin_dir().join("flux").display()
    );
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &run, "/dev/null"])
        .env("FLUX_URI", inst.uri());
    let out = output_with_stdin(&mut script, b"typed\n\x04");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("got typed"), "{}", stdout(&out));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn unknown_shell_options_are_refused_at_submit() {
    let inst = Instance::start(&[]);
    let out = inst.flux(&["run", "-o", "nosuch=1", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("flux-run: ERROR: unknown shell option 'nosuch'"),
        "{}",
        stderr(&out)
    );
    let out = inst.flux(&["submit", "-o", "cpu-affinity=sometimes", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("flux-submit: ERROR: invalid value for shell option cpu-affinity"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        inst.ok(&["jobs", "-a", "-n", "-o", "{id}"]),
        "",
        "nothing submitted"
    );
    assert_eq!(inst.shutdown(), 0);
}
