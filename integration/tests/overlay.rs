//! Instances of several brokers (`--test-size`): the tree, routing by rank, events reaching
//! every rank, and `flux overlay status`.

use std::process::Stdio;

use flux_integration::{Instance, flux, stderr, stdout};

/// Run a shell script as the initial program of a `size`-broker instance.
fn start(size: u32, extra: &[&str], script: &str) -> std::process::Output {
    let size = format!("--test-size={size}");
    let mut args = vec!["start", size.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["sh", "-c", script]);
    flux(&args)
}

#[test]
fn every_rank_answers_through_the_tree() {
    let out = start(
        7,
        &["-Stbon.topo=kary:2"],
        r#"set -e
        flux getattr size
        flux getattr tbon.maxlevel
        for r in 0 1 2 3 4 5 6; do flux ping --count 1 $r; done
        flux ping --count 1 6!heartbeat
        dir=$(dirname ${FLUX_URI#local://})
        for r in 1 6; do FLUX_URI=local://$dir/local-$r flux getattr rank; done
        FLUX_URI=local://$dir/local-6 flux getattr tbon.level
        FLUX_URI=local://$dir/local-6 flux getattr tbon.parent-endpoint
        FLUX_URI=local://$dir/local-6 flux ping --count 1 0
        "#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..2], ["7", "2"]);
    for r in 0..7 {
        assert!(
            lines[2 + r].starts_with(&format!("{r}!broker.ping pad=0 seq=0")),
            "{text}"
        );
    }
    // Rank 6 is two hops down: 0 -> 2 -> 6, so its reply carries two overlay hops.
    assert!(
        lines[9].starts_with("6!heartbeat.ping") && lines[9].ends_with("!r0!r2)"),
        "{text}"
    );
    assert_eq!(&lines[10..13], ["1", "6", "2"]);
    assert!(lines[13].starts_with("tcp://127.0.0.1:"), "{text}");
    assert!(
        lines[14].starts_with("0!broker.ping") && lines[14].ends_with("!r6!r2)"),
        "{text}"
    );
}

#[test]
fn unknown_ranks_and_topologies_are_errors() {
    let out = start(3, &[], "flux ping --count 1 5");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no route to rank 5"),
        "{}",
        stderr(&out)
    );
    let out = start(3, &["-Stbon.topo=binomial"], "true");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid tbon.topo 'binomial'"),
        "{}",
        stderr(&out)
    );
    let out = flux(&["start", "--test-size=0", "true"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn events_reach_subscribers_on_every_rank_in_order() {
    let inst = Instance::start(&["--test-size=5", "-Stbon.topo=kary:2"]);
    let rank_uri = |r: u32| format!("local://{}/local-{r}", inst.rundir().display());
    let subs: Vec<_> = [0, 3, 4]
        .iter()
        .map(|&r| {
            inst.cmd(&["event", "sub", "--count", "3", "t."])
                .env("FLUX_URI", rank_uri(r))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(400));
    inst.ok(&["event", "pub", "t.a", "1"]);
    // Published on a leaf: it goes up to rank 0 to be sequenced, then down to everyone.
    let out = inst
        .cmd(&["event", "pub", "t.b", "2"])
        .env("FLUX_URI", rank_uri(4))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    inst.ok(&["event", "pub", "t.c", "3"]);
    for sub in subs {
        let out = sub.wait_with_output().unwrap();
        assert_eq!(stdout(&out), "t.a\t1\nt.b\t2\nt.c\t3\n");
    }
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn overlay_status_draws_the_tree() {
    let out = start(
        5,
        &["-Stbon.topo=kary:2"],
        "flux overlay status; flux overlay status --summary -r 1",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let host = flux_integration::stdout(&flux(&["start", "flux", "getattr", "hostname"]));
    let host = host.trim();
    let expected = format!(
        "0 {host}: full\n├─ 1 {host}: full\n│  ├─ 3 {host}: full\n│  └─ 4 {host}: full\n└─ 2 {host}: full\n1 {host}: full\n"
    );
    assert_eq!(stdout(&out), expected);
}

#[test]
fn a_thousand_brokers_start_and_stop() {
    let out = start(1024, &[], "flux getattr size; flux ping --count 1 1023");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("1024\n1023!broker.ping"), "{text}");
}

#[test]
fn exec_runs_on_the_chosen_ranks_and_reports_failures() {
    let out = start(
        4,
        &[],
        r#"flux exec --label-io flux getattr rank | sort
        flux exec -r 1-2 sh -c 'exit 3'; echo "rc=$?"
        flux exec -r 3 nosuchcommand; echo "rc=$?"
        flux exec -x 0-2 -d / pwd
        "#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0: 0\n1: 1\n2: 2\n3: 3\nrc=3\nrc=127\n/\n");
    let err = stderr(&out);
    assert!(err.contains("1-2: Exit 3\n"), "{err}");
    assert!(
        err.contains("3: nosuchcommand: command not found\n"),
        "{err}"
    );
    let out = start(2, &[], "flux exec -r 5 true");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("rank 5 is not in this instance of size 2"));
}

#[test]
fn jobs_run_their_tasks_on_the_ranks_of_their_allocation() {
    let out = start(
        4,
        &[],
        r#"flux resource info
        flux run -N4 -n4 --label-io sh -c 'echo $FLUX_TASK_LOCAL_ID $(flux getattr rank)' | sort
        flux run -N2 -n4 sh -c 'exit $FLUX_TASK_RANK'; echo "rc=$?"
        id=$(flux submit -N4 -n4 sleep 60)
        flux job wait-event -t 10 $id start >/dev/null
        flux cancel $id
        flux job wait-event -t 10 $id clean >/dev/null && echo canceled
        "#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("4 Nodes"), "{text}");
    assert_eq!(&lines[1..5], ["0: 0 0", "1: 0 1", "2: 0 2", "3: 0 3"]);
    assert_eq!(&lines[5..], ["rc=3", "canceled"]);
}
