//! The instance configuration end to end: `fluxd -c`/`flux start -c` with TOML tables,
//! `flux config get`, Fluxion chosen and tuned by its tables (or by
//! `FLUXION_QMANAGER_OPTIONS`), `flux batch --conf` configuring a child instance, and bad
//! configurations refused with the file's name.

use std::path::Path;

use flux_integration::{Instance, eventually, flux, flux_cmd, stderr, stdout};

/// A 2-core node's R in `dir`, for `-Sresource.path`.
fn two_core_r(dir: &Path) -> String {
    let r = flux(&["R", "encode", "-r", "0", "-c", "0-1", "-H", "node0"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let path = dir.join("R.json");
    std::fs::write(&path, &r.stdout).unwrap();
    format!("-Sresource.path={}", path.display())
}

/// Whether `job` (pending) shows a start estimate: only backfilling policies reserve.
fn has_estimate(inst: &Instance, job: &str) -> bool {
    let out = inst.ok(&["jobs", "-n", "-o", "{sched.t_estimate}", job.trim()]);
    !out.trim().is_empty()
}

#[test]
fn config_tables_select_and_tune_fluxion() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf.d");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(
        conf.join("sched.toml"),
        "[sched-fluxion-qmanager]\nqueue-policy = \"easy\"\n\
         [sched-fluxion-resource]\nmatch-policy = \"lonode\"\n",
    )
    .unwrap();
    std::fs::write(conf.join("misc.toml"), "[site]\nname = \"lab\"\nsize = 3\n").unwrap();
    let inst = Instance::start(&[
        &format!("--config-path={}", conf.display()),
        &two_core_r(dir.path()),
    ]);
    let list = inst.ok(&["module", "list"]);
    assert!(list.contains("sched-fluxion-qmanager"), "{list}");
    assert!(!list.contains("sched-simple"), "{list}");

    assert_eq!(
        inst.ok(&["config", "get", "sched-fluxion-qmanager.queue-policy"]),
        "easy\n"
    );
    assert_eq!(inst.ok(&["config", "get", "site.size"]), "3\n");
    assert_eq!(
        inst.ok(&["config", "get", "--default=x", "site.none"]),
        "x\n"
    );
    let all: serde_json::Value = serde_json::from_str(&inst.ok(&["config", "get"])).unwrap();
    assert_eq!(all["site"]["name"], "lab");
    let out = inst.flux(&["config", "get", "site.none"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "flux-config: ERROR: site.none is not set\n",
        "{}",
        stdout(&out)
    );
    let out = inst.flux(&["config", "get", "--type=string", "site.size"]);
    assert!(
        stderr(&out).contains("site.size has type integer, not string"),
        "{}",
        stderr(&out)
    );

    // The qmanager runs `easy`: a blocked job gets a reservation, hence an estimate.
    assert_eq!(inst.ok(&["run", "echo", "hi"]), "hi\n");
    let running = inst.ok(&["submit", "-n2", "-t", "100s", "sleep", "300"]);
    inst.ok(&["job", "wait-event", "-t", "10", running.trim(), "start"]);
    let reserved = inst.ok(&["submit", "-n2", "-t", "10s", "true"]);
    eventually("a start estimate under easy", || {
        has_estimate(&inst, &reserved)
    });
    inst.ok(&["cancel", running.trim()]);
    inst.ok(&["job", "wait-event", "-t", "20", reserved.trim(), "clean"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn fluxion_option_variables_select_it_too() {
    let out = flux_cmd()
        .args(["start", "sh", "-c"])
        .arg("flux module list | grep -c sched-fluxion; flux config get sched-fluxion-qmanager")
        .env(
            "FLUXION_QMANAGER_OPTIONS",
            "queue-policy=hybrid queue-params=queue-depth=4",
        )
        .env_remove("FLUX_URI")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("2"), "{text}");
    let table: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(table["queue-policy"], "hybrid");
    assert_eq!(table["queue-params"], "queue-depth=4");
}

#[test]
fn bad_configurations_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[queues\n").unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[sched-fluxion-qmanager]\nqueue-policy = \"lifo\"\n",
    )
    .unwrap();
    for (path, expect) in [
        (bad.display().to_string(), bad.display().to_string()),
        (
            dir.path().join("none.toml").display().to_string(),
            "none.toml".to_string(),
        ),
        (
            policy.display().to_string(),
            "unknown queue-policy 'lifo'".to_string(),
        ),
    ] {
        let out = flux_cmd()
            .args(["start", "-c", &path, "true"])
            .env_remove("FLUX_URI")
            .env_remove("FLUXION_QMANAGER_OPTIONS")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{path}");
        assert!(stderr(&out).contains(&expect), "{path}: {}", stderr(&out));
    }
}

#[test]
fn batch_conf_configures_the_child_instance() {
    let dir = tempfile::tempdir().unwrap();
    let inst = Instance::start(&[]);
    let id = inst.ok_in(
        dir.path(),
        &[
            "batch",
            "-n1",
            "--conf=sched-fluxion-qmanager.queue-policy=conservative",
            "--conf=site.level=1",
            "--wrap",
            "sh",
            "-c",
            "flux config get sched-fluxion-qmanager.queue-policy; flux config get site.level; \
             flux module list | grep -c sched-fluxion; flux run echo ok",
        ],
    );
    inst.ok(&["job", "wait-event", "-t", "60", id.trim(), "clean"]);
    let out = std::fs::read_to_string(dir.path().join(format!("flux-{}.out", id.trim()))).unwrap();
    assert_eq!(out, "conservative\n1\n2\nok\n");
    // The parent itself is not reconfigured.
    let out = inst.flux(&["config", "get", "site.level"]);
    assert!(!out.status.success());

    let out = inst.flux_in(dir.path(), &["batch", "--conf=nokey", "--wrap", "true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nokey"), "{}", stderr(&out));
}
