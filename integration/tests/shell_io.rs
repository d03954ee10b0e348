//! The job shell's standard I/O end to end: files with `{{id}}` templates and labels,
//! stdin forwarded by `flux run` to chosen ranks, line buffering and `--unbuffered`, the
//! output of 1,000 tasks, and a task flooding stdout.

use flux_integration::{Instance, output_with_stdin, stderr, stdout};

/// `flux run ARGS` with `input` on its stdin.
fn run_with_stdin(inst: &Instance, args: &[&str], input: &str) -> String {
    let out = output_with_stdin(&mut inst.cmd(args), input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn output_files_take_templates_and_labels() {
    let inst = Instance::start(&["--test-size=2"]);
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/out.{{{{id}}}}", dir.path().display());
    let id = inst.ok(&[
        "submit",
        "-N2",
        "-n2",
        "--label-io",
        &format!("--output={template}"),
        "sh",
        "-c",
        "printf 'part '; sleep 0.2; echo whole; echo oops >&2",
    ]);
    inst.ok(&["job", "wait-event", "-t", "30", id.trim(), "clean"]);
    let path = template.replace("{{id}}", id.trim());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        sorted(&text),
        ["0: oops", "0: part whole", "1: oops", "1: part whole"]
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn flux_run_forwards_stdin_to_chosen_ranks() {
    let inst = Instance::start(&["--test-size=2"]);
    let out = run_with_stdin(
        &inst,
        &["run", "-N2", "-n4", "--label-io", "cat"],
        "one\ntwo\n",
    );
    let mut expected: Vec<String> = (0..4)
        .flat_map(|r| [format!("{r}: one"), format!("{r}: two")])
        .collect();
    expected.sort();
    assert_eq!(sorted(&out), expected);
    // What was forwarded is on record in the job's input eventlog.
    let last = inst.ok(&["job", "last"]);
    let log = inst.ok(&["job", "info", last.trim(), "guest.input"]);
    let names: Vec<&str> = log
        .lines()
        .map(|l| {
            l.split("\"name\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["header", "data", "data"], "{log}");
    assert!(log.contains(r#""rank":"all","data":"one\ntwo\n""#), "{log}");
    // Only ranks 1 and 3 get the data; every task gets the end of input.
    let out = run_with_stdin(
        &inst,
        &[
            "run",
            "-N2",
            "-n4",
            "--input=1,3",
            "-l",
            "sh",
            "-c",
            "cat; echo end",
        ],
        "x\n",
    );
    assert_eq!(
        sorted(&out),
        ["0: end", "1: end", "1: x", "2: end", "3: end", "3: x"]
    );
    // `--input=all` is the default spelled out, not a file named `all`.
    let out = run_with_stdin(&inst, &["run", "-n2", "--input=all", "-l", "cat"], "y\n");
    assert_eq!(sorted(&out), ["0: y", "1: y"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn labels_wait_for_whole_lines_unless_unbuffered() {
    let inst = Instance::start(&[]);
    let script = "printf 'a'; sleep 0.3; echo b";
    assert_eq!(inst.ok(&["run", "-l", "sh", "-c", script]), "0: ab\n");
    // Unbuffered, the pieces go out as they come: each is labeled.
    assert_eq!(
        inst.ok(&["run", "-u", "-l", "sh", "-c", script]),
        "0: a0: b\n"
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn output_of_a_thousand_tasks_stays_attributed_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::with_cores(1000, dir.path());
    let out = inst.ok(&[
        "run",
        "-n1000",
        "-o",
        "pmi=off",
        "--label-io",
        "sh",
        "-c",
        "for i in 1 2 3; do echo $FLUX_TASK_RANK.$i; done",
    ]);
    let mut seen = vec![0u32; 1000];
    for line in out.lines() {
        let (label, text) = line.split_once(": ").unwrap();
        let rank: usize = label.parse().unwrap();
        let (from, i) = text.split_once('.').unwrap();
        assert_eq!(from, label, "attributed to its task: {line}");
        seen[rank] += 1;
        assert_eq!(i.parse::<u32>().unwrap(), seen[rank], "in order: {line}");
    }
    assert!(seen.iter().all(|n| *n == 3));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn a_task_flooding_stdout_does_not_stall_the_broker() {
    let inst = Instance::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let script = format!(
        "touch {}; head -c 20000000 /dev/zero | tr '\\0' x; echo",
        ready.display()
    );
    let id = inst.ok(&["submit", "sh", "-c", &script]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(inst.ok(&["run", "echo", "still here"]), "still here\n");
    let out = inst.cmd(&["job", "attach", id.trim()]).output().unwrap();
    assert_eq!(out.stdout.len(), 20_000_001);
    assert!(out.stdout[..20_000_000].iter().all(|b| *b == b'x'));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn flux_job_attach_forwards_stdin_to_jobs_that_read_it() {
    let inst = Instance::start(&[]);
    let id = inst.ok(&["submit", "-o", "input.stdin.type=service", "cat"]);
    let out = run_with_stdin(&inst, &["job", "attach", id.trim()], "typed in\n");
    assert_eq!(out, "typed in\n");
    assert_eq!(inst.shutdown(), 0);
}
