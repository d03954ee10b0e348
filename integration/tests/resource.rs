//! The resource module and `flux resource` / `flux R`: R from a file, from hwloc (host,
//! XML, `HWLOC_XMLFILE`), several brokers, drain/undrain, output shapes and bad input.

use flux_integration::{Instance, bin_dir, flux, flux_cmd, output_with_stdin, stderr, stdout};

fn data(name: &str) -> String {
    flux_integration::test_data(name)
}

/// An R file of `ranks` on hosts `hosts`, 64 cores and 2 GPUs each.
fn r_file(dir: &tempfile::TempDir, ranks: &str, hosts: &str) -> String {
    let path = dir.path().join("R.json");
    let r = format!(
        r#"{{"version":1,"execution":{{"R_lite":[{{"rank":"{ranks}","children":{{"core":"0-63","gpu":"0-1"}}}}],"starttime":0.0,"expiration":0.0,"nodelist":["{hosts}"]}}}}"#
    );
    std::fs::write(&path, r).unwrap();
    path.display().to_string()
}

fn with_r(ranks: &str, hosts: &str) -> (Instance, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = r_file(&dir, ranks, hosts);
    (Instance::start(&[&format!("-Sresource.path={path}")]), dir)
}

fn fails(inst: &Instance, args: &[&str], message: &str) {
    let out = inst.flux(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "flux {args:?}: {}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!("flux-resource: ERROR: {message}")),
        "flux {args:?}: {}",
        stderr(&out)
    );
}

#[test]
fn host_discovery_fills_list_info_and_the_kvs() {
    let inst = Instance::start(&[]);
    let list = inst.ok(&["resource", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 4, "{list}");
    assert!(lines[0].starts_with("     STATE NNODES NCORES"), "{list}");
    assert!(lines[1].starts_with("      free      1 "), "{list}");
    assert!(lines[2].starts_with(" allocated      0      0"), "{list}");
    assert!(lines[3].starts_with("      down      0      0"), "{list}");
    // Never assert the host's core count: only that every view agrees.
    let ncores: u64 = lines[1].split_whitespace().nth(2).unwrap().parse().unwrap();
    let info = inst.ok(&["resource", "info"]);
    assert!(
        info.starts_with(&format!("1 Nodes, {ncores} Cores, ")),
        "{info}"
    );
    let r: serde_json::Value = serde_json::from_str(&inst.ok(&["resource", "R"])).unwrap();
    let kvs: serde_json::Value =
        serde_json::from_str(&inst.ok(&["kvs", "get", "resource.R"])).unwrap();
    assert_eq!(r, kvs);
}

#[test]
fn configured_r_shapes_every_view() {
    let (inst, _dir) = with_r("0", "big");
    assert_eq!(
        inst.ok(&["resource", "list"]),
        "     STATE NNODES NCORES NGPUS NODELIST\n\
         \x20     free      1     64     2 big\n\
         \x20allocated      0      0     0\n\
         \x20     down      0      0     0\n"
    );
    assert_eq!(
        inst.ok(&["resource", "list", "-o", "rlist", "-s", "free"]),
        "     STATE NNODES NCORES NGPUS LIST\n      free      1     64     2 rank0/core[0-63],gpu[0-1]\n"
    );
    assert_eq!(
        inst.ok(&[
            "resource",
            "list",
            "-n",
            "-o",
            "{state} {nnodes} {ranks}",
            "-s",
            "all"
        ]),
        "all 1 0\n"
    );
    assert_eq!(
        inst.ok(&["resource", "info"]),
        "1 Nodes, 64 Cores, 2 GPUs\n"
    );
    assert_eq!(
        inst.ok(&["resource", "status"]),
        "       STATE UP NNODES NODELIST\n       avail  ✔      1 big\n"
    );
    assert_eq!(
        inst.ok(&["resource", "R"]),
        "{\"version\": 1, \"execution\": {\"R_lite\": [{\"rank\": \"0\", \"children\": \
         {\"core\": \"0-63\", \"gpu\": \"0-1\"}}], \"starttime\": 0.0, \"expiration\": 0.0, \
         \"nodelist\": [\"big\"]}}\n"
    );
}

#[test]
fn ranks_without_a_broker_are_down() {
    let (inst, _dir) = with_r("0-3", "sim[0-3]");
    let list = inst.ok(&["resource", "list"]);
    assert!(
        list.contains("      free      1     64     2 sim0\n"),
        "{list}"
    );
    assert!(
        list.contains("      down      3    192     6 sim[1-3]\n"),
        "{list}"
    );
    let status = inst.ok(&["resource", "status"]);
    assert!(
        status.contains("      avail*  ✗      3 sim[1-3]\n"),
        "{status}"
    );
    assert_eq!(
        inst.ok(&["resource", "info", "-s", "up"]),
        "1 Nodes, 64 Cores, 2 GPUs\n"
    );
}

#[test]
fn drain_and_undrain() {
    let (inst, _dir) = with_r("0", "big");
    assert_eq!(
        inst.ok(&["resource", "drain"]),
        "TIMESTAMP    STATE    REASON                         NODELIST\n"
    );
    inst.ok(&["resource", "drain", "big", "disk", "is", "full"]);
    let list = inst.ok(&["resource", "drain"]);
    let line = list.lines().nth(1).unwrap();
    assert!(
        line.ends_with(" drained  disk is full                   big"),
        "{list}"
    );
    assert!(
        inst.ok(&["resource", "status"])
            .contains("     drained  ✔      1 big\n")
    );
    assert!(
        inst.ok(&["resource", "list"])
            .contains("      down      1     64     2 big\n")
    );

    fails(
        &inst,
        &["resource", "drain", "0", "again"],
        "rank 0 already drained",
    );
    inst.ok(&["resource", "drain", "-u", "0", "ignored"]);
    assert!(inst.ok(&["resource", "drain"]).contains("disk is full"));
    inst.ok(&["resource", "drain", "-f", "0", "new reason"]);
    let long = inst.ok(&["resource", "drain", "-o", "long"]);
    assert!(long.contains(" drained  0        new reason "), "{long}");
    fails(
        &inst,
        &["resource", "drain", "-f", "-u", "0"],
        "only one of --force and --update",
    );

    inst.ok(&["resource", "undrain", "0"]);
    fails(&inst, &["resource", "undrain", "0"], "rank 0 not drained");
    inst.ok(&["resource", "undrain", "-f", "0"]);
    assert!(
        inst.ok(&["resource", "list"])
            .contains("      free      1     64")
    );
}

#[test]
fn bad_targets_states_and_formats_are_errors() {
    let (inst, _dir) = with_r("0", "big");
    fails(
        &inst,
        &["resource", "drain", "nosuchhost"],
        "unknown host nosuchhost",
    );
    fails(&inst, &["resource", "drain", "3-4"], "invalid ranks 3-4");
    fails(&inst, &["resource", "undrain", "x["], "invalid targets");
    fails(
        &inst,
        &["resource", "list", "-s", "bogus"],
        "invalid resource state 'bogus'",
    );
    fails(
        &inst,
        &["resource", "status", "-s", "free"],
        "invalid resource state 'free'",
    );
    fails(
        &inst,
        &["resource", "list", "-o", "{nope}"],
        "invalid format '{nope}': unknown field 'nope'",
    );
    fails(
        &inst,
        &["resource", "list", "-i", "nosuch"],
        "unknown host nosuch",
    );
}

#[test]
fn malformed_r_file_stops_the_instance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("R.json");
    std::fs::write(&path, "{\"version\": 2}").unwrap();
    let out = flux(&[
        "start",
        &format!("-Sresource.path={}", path.display()),
        "true",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("invalid R"), "{}", stderr(&out));
}

#[test]
fn several_brokers_report_their_resources() {
    let flux_bin = bin_dir().join("flux");
    let script = format!(
        "{f} resource status -n; {f} resource list -n -s free -o '{{nnodes}} {{ranks}}'; \
         {f} resource drain 1-2 maint; {f} resource status -n -o '{{state}} {{ranks}}'",
        f = flux_bin.display()
    );
    let out = flux(&["start", "--test-size=4", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("       avail  ✔      4 "), "{text}");
    assert_eq!(lines[1], "4 0-3");
    assert_eq!(&lines[2..], ["avail 0,3", "drained 1-2"], "{text}");
}

#[test]
fn simulated_machines_from_hwloc_xml() {
    let inst = Instance::start(&[&format!("-Sresource.hwloc-xml={}", data("gpu2-core4.xml"))]);
    assert_eq!(inst.ok(&["resource", "info"]), "1 Nodes, 4 Cores, 2 GPUs\n");
    drop(inst);
    let out = flux_cmd()
        .env("HWLOC_XMLFILE", data("pack2-core16-pu2.xml"))
        .args([
            "start",
            bin_dir().join("flux").to_str().unwrap(),
            "resource",
            "info",
        ])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "1 Nodes, 32 Cores, 0 GPUs\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn r_encode_and_decode() {
    let r = stdout(&flux(&[
        "R", "encode", "-r", "0-3", "-c", "0-7", "-g", "0", "-H", "n[0-3]",
    ]));
    assert_eq!(
        r,
        "{\"version\":1,\"execution\":{\"R_lite\":[{\"rank\":\"0-3\",\"children\":{\"core\":\"0-7\",\"gpu\":\"0\"}}],\"starttime\":0.0,\"expiration\":0.0,\"nodelist\":[\"n[0-3]\"]}}\n"
    );
    for (args, want) in [
        (&["R", "decode", "--count=core"][..], "32\n"),
        (&["R", "decode", "--count=gpu"][..], "4\n"),
        (
            &["R", "decode", "--short"][..],
            "rank[0-3]/core[0-7],gpu0\n",
        ),
        (&["R", "decode", "--nodelist"][..], "n[0-3]\n"),
    ] {
        let out = output_with_stdin(flux_cmd().args(args), r.as_bytes());
        assert_eq!(stdout(&out), want, "{args:?}");
    }
    let out = flux(&["R", "encode", "-r", "0-1", "-H", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("flux-R: ERROR: 1 hosts given for 2 ranks"),
        "{}",
        stderr(&out)
    );
}
