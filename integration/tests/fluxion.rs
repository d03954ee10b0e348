//! Fluxion end to end: swap `sched-simple` for `sched-fluxion-resource` +
//! `sched-fluxion-qmanager` with `flux module`, as the plumbing tutorial does, run jobs
//! through them, and swap back.

use flux_integration::{Instance, stderr, stdout};

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
