//! Black-box checks of resource-query behaviour that the golden files do not cover.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fluxion-data");
    d.join("MANIFEST.tsv").exists().then_some(d)
}

fn run(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_resource-query"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Node names of each successful match, in order.
fn nodes_per_job(out: &str) -> Vec<Vec<String>> {
    let mut jobs = Vec::new();
    let mut cur = Vec::new();
    for line in out.lines() {
        let t = line.trim_start_matches(' ').trim_start_matches('-');
        if t.starts_with("node") {
            cur.push(t.split('[').next().unwrap_or_default().to_string());
        } else if line.starts_with("INFO: JOBID=") {
            let mut c = std::mem::take(&mut cur);
            c.sort();
            jobs.push(c);
        }
    }
    jobs
}

#[test]
fn variation_policy_groups_jobs_by_perf_class() {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let cmds = std::fs::read_to_string(d.join("commands/var_aware/cmds01.in"))
        .unwrap()
        .replace("@TEST_SRCDIR@/data/resource/", &format!("{}/", d.display()));
    let graph = d.join("grugs/small.graphml");
    let out = run(&["-L", graph.to_str().unwrap(), "-P", "variation"], &cmds);
    // As the commands file documents: N1,N3 / N2 / N0,N4,N5,N7 / N6.
    let expect: Vec<Vec<&str>> = vec![
        vec!["node1", "node3"],
        vec!["node2"],
        vec!["node0", "node4", "node5", "node7"],
        vec!["node6"],
    ];
    assert_eq!(nodes_per_job(&out), expect);
}

#[test]
fn find_jgf_and_r_outputs() {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let graph = d.join("grugs/tiny.graphml");
    let js = d.join("jobspecs/basics/test001.yaml");
    let cmds = format!(
        "match allocate {}\nfind sched-now=allocated\nquit\n",
        js.display()
    );
    let out = run(
        &["-L", graph.to_str().unwrap(), "-P", "high", "-F", "jgf"],
        &cmds,
    );
    let first = out.lines().next().unwrap();
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(v["graph"]["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(v["graph"]["edges"].as_array().unwrap().len(), 4);
    assert!(out.contains("INFO: EXPRESSION=\"sched-now=allocated\""));
    let out = run(
        &[
            "-L",
            graph.to_str().unwrap(),
            "-P",
            "high",
            "-F",
            "rv1_nosched",
        ],
        &cmds,
    );
    assert!(out.starts_with(
        r#"{"version": 1, "execution": {"R_lite": [{"rank": "1", "children": {"core": "35"}}], "nodelist": ["node1"], "starttime": 0, "expiration": 3600}}"#
    ));
}

#[test]
fn status_and_properties() {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let graph = d.join("grugs/tiny.graphml");
    let js = d.join("jobspecs/basics/test001.yaml");
    let cmds = format!(
        "set-status /tiny0/rack0/node1 down\nget-status /tiny0/rack0/node1\nset-property /tiny0/rack0/node0 color=red\nget-property /tiny0/rack0/node0\nmatch allocate {}\nquit\n",
        js.display()
    );
    let out = run(&["-L", graph.to_str().unwrap(), "-P", "high"], &cmds);
    assert!(out.contains("/tiny0/rack0/node1 is down\n"));
    assert!(out.contains("color=red\n"));
    // node1 is down, so the high policy falls back to node0.
    assert_eq!(nodes_per_job(&out), vec![vec!["node0"]]);
}

#[test]
fn jgf_shorthand_omits_subtrees_of_exclusive_vertices() {
    let Some(d) = data_dir() else {
        eprintln!("note: fluxion-data not found; skipping");
        return;
    };
    let graph = d.join("grugs/tiny.graphml");
    let js = d.join("jobspecs/basics/test001.yaml");
    let cmds = format!("match allocate {}\nquit\n", js.display());
    let out = run(
        &[
            "-L",
            graph.to_str().unwrap(),
            "-P",
            "lonodex",
            "-F",
            "jgf_shorthand",
        ],
        &cmds,
    );
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let types: Vec<&str> = v["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["node", "rack", "cluster"]);
    assert_eq!(v["writer"], "fluxion:jgf_shorthand");
}

/// hwloc v2 XML of `fluke3`: 2 packages x 2 cores (one PU each), a CUDA GPU in package 1.
fn fluke3_xml() -> String {
    let sets = |m: u32| {
        format!(
            r#"cpuset="0x{m:x}" complete_cpuset="0x{m:x}" nodeset="0x1" complete_nodeset="0x1""#
        )
    };
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<topology version=\"2.0\">\n\
         <object type=\"Machine\" os_index=\"0\" {} allowed_cpuset=\"0xf\" allowed_nodeset=\"0x1\" gp_index=\"1\">\n\
         <info name=\"HostName\" value=\"fluke3\"/>\n\
         <object type=\"NUMANode\" os_index=\"0\" {} gp_index=\"2\" local_memory=\"1073741824\"/>\n",
        sets(0xf),
        sets(0xf)
    );
    let mut gp = 10;
    for p in 0..2u32 {
        x += &format!(
            "<object type=\"Package\" os_index=\"{p}\" {} gp_index=\"{gp}\">\n",
            sets(3 << (2 * p))
        );
        for c in 0..2u32 {
            let u = 2 * p + c;
            x += &format!(
                "<object type=\"Core\" os_index=\"{u}\" {} gp_index=\"{}\"><object type=\"PU\" os_index=\"{u}\" {} gp_index=\"{}\"/></object>\n",
                sets(1 << u),
                gp + 1 + 2 * c,
                sets(1 << u),
                gp + 2 + 2 * c
            );
        }
        gp += 10;
        if p == 1 {
            x += "<object type=\"PCIDev\" gp_index=\"100\" pci_busid=\"0000:04:00.0\" pci_type=\"0302 [10de:15f9] [10de:116b] a1\" pci_link_speed=\"0.000000\">\
                  <object type=\"OSDev\" gp_index=\"101\" name=\"cuda0\" osdev_type=\"5\"/></object>\n";
        }
        x += "</object>\n";
    }
    x + "</object>\n</topology>\n"
}

#[test]
fn hwloc_xml_graph_matches_a_socket_with_its_gpu() {
    let dir = std::env::temp_dir().join(format!("rq-hwloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("fluke3.xml");
    std::fs::write(&xml, fluke3_xml()).unwrap();
    let js = dir.join("socket-gpu.yaml");
    std::fs::write(
        &js,
        "version: 9999\nresources:\n  - type: slot\n    count: 1\n    label: default\n    with:\n      - type: socket\n        count: 1\n        with:\n          - type: core\n            count: 2\n          - type: gpu\n            count: 1\nattributes:\n  system:\n    duration: 3600\ntasks:\n  - command: [app]\n    slot: default\n    count:\n      per_slot: 1\n",
    )
    .unwrap();
    let cmds = format!(
        "match allocate {0}\nmatch allocate {0}\nquit\n",
        js.display()
    );
    let xml = xml.to_str().unwrap();
    let out = run(
        &[
            "-L",
            xml,
            "-f",
            "hwloc",
            "-W",
            "node,socket,core,gpu",
            "-P",
            "low",
        ],
        &cmds,
    );
    // Only socket1 holds a GPU, even with the low-id-first policy; the second job fails.
    let want = "      ------------core2[1:x]\n      ------------core3[1:x]\n      ------------gpu0[1:x]\n      ---------socket1[1:x]\n      ------fluke3[1:s]\n      ---cluster0[1:s]\n";
    assert!(out.starts_with(want), "{out}");
    assert_eq!(out.matches("RESOURCES=ALLOCATED").count(), 1, "{out}");
    assert!(
        out.contains("INFO: No matching resources found\nINFO: JOBID=2\n"),
        "{out}"
    );
    // Without an allowlist, PUs and the NUMA node are in the graph (not in the match);
    // resource-query reads the XML as rank -1.
    let cmds = format!("match allocate {}\nquit\n", js.display());
    let out = run(&["-L", xml, "-f", "hwloc", "-F", "jgf"], &cmds);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let nodes = v["graph"]["nodes"].as_array().unwrap();
    let gpu = nodes
        .iter()
        .find(|n| n["metadata"]["type"] == "gpu")
        .unwrap();
    assert_eq!(
        gpu["metadata"]["paths"]["containment"],
        "/cluster0/fluke3/socket1/gpu0"
    );
    assert_eq!(gpu["metadata"]["rank"], -1);
    let core = nodes
        .iter()
        .find(|n| n["metadata"]["type"] == "core")
        .unwrap();
    // cluster0, fluke3, socket0, core0, pu0, core1, pu1, socket1, core2: uniq id 8.
    assert_eq!(core["id"], "8", "{core}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hwloc_bad_input_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rq-hwloc-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<topology version=\"2.0\"><object type=\"Mach").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_resource-query"))
        .args(["-L", bad.to_str().unwrap(), "-f", "hwloc"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("resource-query: ERROR: hwloc: "), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_resource-query"))
        .args(["-L", bad.to_str().unwrap(), "-f", "hwlocc"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported load format: hwlocc"));
    std::fs::remove_dir_all(&dir).unwrap();
}
