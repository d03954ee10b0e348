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
