//! `flux jobs` end to end: the job-list module follows jobs through their states and the
//! command prints them as Flux does (default listing, filters, named and custom formats,
//! JSON, stats, bad input).

use flux_integration::{Instance, stderr, stdout};

const HEADER: &str = "       JOBID USER     NAME       ST NTASKS NNODES     TIME INFO";

fn this_host() -> String {
    let out = std::process::Command::new("hostname")
        .output()
        .expect("run hostname");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait(inst: &Instance, id: &str, event: &str) {
    inst.ok(&["job", "wait-event", "-t", "20", id, event]);
}

fn submit(inst: &Instance, args: &[&str]) -> String {
    let mut all = vec!["submit"];
    all.extend_from_slice(args);
    inst.ok(&all).trim().to_string()
}

/// The whitespace-separated columns of the row of job `id`.
fn row(listing: &str, id: &str) -> Vec<String> {
    listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("{id} not listed in:\n{listing}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn ids(listing: &str) -> Vec<String> {
    listing
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Jobs of every kind: completed, failed, canceled while pending, running, held.
struct Jobs {
    done: String,
    failed: String,
    canceled: String,
    running: String,
    held: String,
}

fn setup(inst: &Instance) -> Jobs {
    let done = submit(inst, &["hostname"]);
    wait(inst, &done, "clean");
    let failed = submit(inst, &["/bin/false"]);
    wait(inst, &failed, "clean");
    let canceled = submit(inst, &["--urgency=hold", "true"]);
    inst.ok(&["cancel", &canceled]);
    wait(inst, &canceled, "clean");
    let running = submit(inst, &["-N1", "-n1", "sleep", "300"]);
    wait(inst, &running, "start");
    let held = submit(inst, &["--urgency=hold", "-n2", "--time-limit=5m", "true"]);
    wait(inst, &held, "priority");
    Jobs {
        done,
        failed,
        canceled,
        running,
        held,
    }
}

#[test]
fn default_listing_and_filters() {
    let inst = Instance::start(&[]);
    let jobs = setup(&inst);
    let me = flux_integration::stdout(
        &std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un"),
    )
    .trim()
    .to_string();

    let out = inst.ok(&["jobs"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], HEADER, "{out}");
    assert_eq!(
        ids(&out),
        [jobs.held.clone(), jobs.running.clone()],
        "{out}"
    );
    assert_eq!(
        row(&out, &jobs.held),
        [&jobs.held, &me, "true", "S", "2", "-", "5m", "held"]
    );
    let r = row(&out, &jobs.running);
    assert_eq!(r[..6], [&jobs.running, &me, "sleep", "R", "1", "1"]);
    assert!(r[6].ends_with('s'), "runtime {}", r[6]);
    assert_eq!(r[7], this_host());
    let user_width = me.chars().count().max(8);
    assert_eq!(
        lines[1],
        format!(
            "{:>12} {me:<user_width$} true        S      2      -       5m held",
            jobs.held
        )
    );
    // Columns line up under the header (in characters: ƒ is two bytes).
    let col = |line: &str, i: usize| line[..i].chars().count();
    for line in &lines[1..] {
        let st = line.find(" S ").or(line.find(" R ")).unwrap() + 1;
        assert_eq!(
            col(line, st),
            col(HEADER, HEADER.find("ST").unwrap()) + 1,
            "{line}"
        );
    }

    let all = inst.ok(&["jobs", "-a"]);
    assert_eq!(
        ids(&all),
        [
            jobs.held.as_str(),
            &jobs.running,
            &jobs.canceled,
            &jobs.failed,
            &jobs.done
        ],
        "pending, running, then most recently finished first:\n{all}"
    );
    assert_eq!(row(&all, &jobs.done)[3], "CD");
    assert_eq!(row(&all, &jobs.done)[7], this_host());
    assert_eq!(row(&all, &jobs.failed)[3], "F");
    let ca = row(&all, &jobs.canceled);
    assert_eq!(
        ca[3..],
        ["CA", "1", "-", "-"],
        "never ran: no nodes, no time"
    );

    let failed = inst.ok(&["jobs", "-f", "failed"]);
    assert_eq!(ids(&failed), [jobs.failed.as_str()]);
    let some = inst.ok(&["jobs", "--filter=completed,canceled", "-n"]);
    assert_eq!(some.lines().count(), 2, "{some}");
    assert!(!some.contains("JOBID"));
    assert_eq!(
        ids(&format!(
            "h\n{}",
            inst.ok(&["jobs", "-f", "pending,run", "-n"])
        )),
        [jobs.held.as_str(), &jobs.running]
    );
    assert_eq!(inst.ok(&["jobs", "-a", "-c", "1", "-n"]).lines().count(), 1);
    assert_eq!(
        ids(&inst.ok(&["jobs", "-a", "--name", "sleep"])),
        [jobs.running.as_str()]
    );
    assert_eq!(ids(&inst.ok(&["jobs", "-A"])).len(), 2);
    assert_eq!(ids(&inst.ok(&["jobs", "-u", &me])).len(), 2);
    assert_eq!(ids(&inst.ok(&["jobs", "--since=-1h"])).len(), 5);

    let listed = inst.ok(&["jobs", &jobs.done, &jobs.held]);
    assert_eq!(ids(&listed), [jobs.done.as_str(), &jobs.held]);

    let stats = inst.ok(&["jobs", "--stats-only"]);
    assert_eq!(
        stats,
        "1 running, 1 completed, 2 failed, 1 pending, 0 inactive purged\n"
    );
    let with = inst.ok(&["jobs", "--stats"]);
    assert_eq!(with.lines().nth(1), Some(HEADER));

    inst.ok(&["job", "urgency", &jobs.held, "default"]);
    inst.ok(&["cancel", &jobs.running]);
    wait(&inst, &jobs.held, "clean");
    let out = inst.ok(&["jobs"]);
    assert_eq!(out, format!("{HEADER}\n"), "nothing active");
    let out = inst.flux(&["jobs", "--stats-only"]);
    assert_eq!(out.status.code(), Some(1), "no active jobs");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn json_and_custom_formats() {
    let inst = Instance::start(&[]);
    let jobs = setup(&inst);

    let one: serde_json::Value =
        serde_json::from_str(&inst.ok(&["jobs", "--json", &jobs.failed])).unwrap();
    assert_eq!(one["state"], "INACTIVE");
    assert_eq!(one["result"], "FAILED");
    assert_eq!(one["returncode"], 1);
    assert_eq!(one["name"], "false");
    assert_eq!(one["ntasks"], 1);
    assert_eq!(one["exception"]["occurred"], false);
    let all: serde_json::Value = serde_json::from_str(&inst.ok(&["jobs", "-a", "--json"])).unwrap();
    let states: Vec<&str> = all["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["SCHED", "RUN", "INACTIVE", "INACTIVE", "INACTIVE"]);

    let dec = inst.ok(&["job", "id", &jobs.done]).trim().to_string();
    let out = inst.ok(&[
        "jobs",
        "-n",
        "-o",
        "{id.dec} {name:>6} {status} {returncode} {result_abbrev:h}",
        &jobs.done,
    ]);
    assert_eq!(out, format!("{dec} hostname COMPLETED 0 CD\n"));
    let out = inst.ok(&[
        "jobs",
        "-a",
        "-o",
        "{id.f58:>12} ?:{queue} {status_abbrev:>2} +:{exception.type} {inactive_reason}",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "       JOBID ST EXCEPTION-TYPE INACTIVE-REASON",
        "queue dropped, exception column widened to its heading"
    );
    assert_eq!(row(&out, &jobs.canceled)[1..], ["CA", "cancel", "Canceled"]);
    assert_eq!(row(&out, &jobs.failed)[1..], ["F", "Exit", "1"]);

    let long = inst.ok(&["jobs", "-o", "long"]);
    assert!(
        long.starts_with(
            "       JOBID USER     NAME          STATUS NTASKS NNODES     T_SUBMIT  T_REMAINING     TIME INFO"
        ),
        "{long}"
    );
    assert_eq!(row(&long, &jobs.held)[3], "SCHED");
    let endreason = inst.ok(&["jobs", "-a", "-o", "endreason"]);
    assert!(
        endreason
            .lines()
            .next()
            .unwrap()
            .ends_with("ST   T_INACTIVE INACTIVE-REASON")
    );
    let deps = inst.ok(&["jobs", "-o", "deps"]);
    assert!(deps.lines().next().unwrap().contains("DEPENDENCIES"));
    inst.ok(&["cancel", &jobs.running, &jobs.held]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn bad_input_is_refused_clearly() {
    let inst = Instance::start(&[]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["jobs", "-o", "{id} {bogus}"],
            "Unknown format field: bogus",
        ),
        (&["jobs", "-o", "{id"], "unbalanced braces"),
        (&["jobs", "-f", "bogus"], "invalid filter specified: bogus"),
        (&["jobs", "--sort", "nope"], "Invalid sort key: nope"),
        (
            &["jobs", "-u", "no-such-user-xyz"],
            "invalid user no-such-user-xyz",
        ),
        (
            &["jobs", "--since", "whenever"],
            "invalid --since 'whenever'",
        ),
        (&["jobs", "notanid"], "invalid job id 'notanid'"),
        (&["jobs", "ƒ2"], "unknown job id"),
    ];
    for (args, text) in cases {
        let out = inst.flux(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).starts_with("flux-jobs: ERROR: ") && stderr(&out).contains(text),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stdout(&out).contains("ƒ"), "{args:?}");
    }
    assert!(inst.ok(&["jobs", "-a"]).starts_with("       JOBID"));
    assert_eq!(inst.shutdown(), 0);
}
