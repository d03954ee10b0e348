//! Replays flux-sched's `resource-query` conformance runs (fluxion-data/MANIFEST.tsv)
//! against our binary and compares the output byte for byte.
//!
//! Rows listed in `expected_pass.txt` must keep passing; the others are reported.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EXPECTED_PASS: &str = include_str!("expected_pass.txt");

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fluxion-data");
    d.join("MANIFEST.tsv").exists().then_some(d)
}

/// Splits an options string like a shell would (double quotes only).
fn shell_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut in_quote, mut has) = (false, false);
    for c in s.chars() {
        match c {
            '"' => {
                in_quote = !in_quote;
                has = true;
            }
            c if c.is_whitespace() && !in_quote => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

struct Row {
    script: String,
    options: String,
    commands: String,
    expected: String,
}

impl Row {
    fn key(&self) -> String {
        format!("{} {}", self.script, self.options)
    }

    fn set(&self) -> String {
        self.expected
            .split('/')
            .rev()
            .nth(1)
            .unwrap_or("?")
            .to_string()
    }
}

fn rows(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("test_script"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() >= 4).then(|| Row {
                script: f[0].into(),
                options: f[1].into(),
                commands: f[2].into(),
                expected: f[3].into(),
            })
        })
        .collect()
}

/// hwloc topologies are not in fluxion-data: `FLUXION_HWLOC_DATA` may name a folder
/// that holds flux-sched's `t/data/hwloc-data/` tree.
fn hwloc_data(arg: &str) -> Option<PathBuf> {
    let rest = arg.strip_prefix("t/data/hwloc-data/")?;
    let p = PathBuf::from(std::env::var_os("FLUXION_HWLOC_DATA")?).join(rest);
    p.exists().then_some(p)
}

/// Runs one row; Ok(true) = identical, Ok(false) = differs, Err = not runnable here.
fn run_row(dir: &Path, row: &Row, scratch: &Path) -> Result<bool, String> {
    let local = |p: &str| {
        p.strip_prefix("t/data/resource/")
            .map(|rest| dir.join(rest))
    };
    // t4004 feeds `commands/basics/cmdsNN.in` through sed under the bare name `cmdsNN`.
    let cmds_path = local(&row.commands)
        .or_else(|| {
            let set = Path::new(&row.expected).parent()?.file_name()?;
            let p = dir
                .join("commands")
                .join(set)
                .join(format!("{}.in", row.commands));
            (!row.commands.contains('/') && p.exists()).then_some(p)
        })
        .ok_or("commands generated inside the test script")?;
    let cmds = std::fs::read_to_string(&cmds_path).map_err(|e| e.to_string())?;
    let prefix = format!("{}/", dir.display());
    let cmds = cmds.replace("@TEST_SRCDIR@/data/resource/", &prefix);
    let expected_path = local(&row.expected).ok_or("expected file outside data/resource")?;
    let expected = std::fs::read(&expected_path).map_err(|e| e.to_string())?;
    let mut args = shell_split(&row.options);
    let mut out_file = None;
    for i in 0..args.len() {
        if args[i] == "-t" && i + 1 < args.len() {
            let p = scratch.join("out.R");
            args[i + 1] = p.display().to_string();
            out_file = Some(p);
        } else if let Some(p) = local(&args[i]) {
            args[i] = p.display().to_string();
        } else if let Some(p) = hwloc_data(&args[i]) {
            args[i] = p.display().to_string();
        } else if args[i].starts_with("t/data/") {
            return Err("graph not in the data set".into());
        }
    }
    if let Some(p) = &out_file {
        let _ = std::fs::remove_file(p);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_resource-query"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(cmds.as_bytes())
        .map_err(|e| e.to_string())?;
    let res = child.wait_with_output().map_err(|e| e.to_string())?;
    let got = match &out_file {
        Some(p) => std::fs::read(p).unwrap_or_default(),
        None => [res.stdout, res.stderr].concat(),
    };
    Ok(got == expected)
}

#[test]
fn resource_query_conformance() {
    let Some(dir) = data_dir() else {
        eprintln!("note: fluxion-data not found next to the workspace; skipping conformance");
        return;
    };
    let must_pass: BTreeSet<&str> = EXPECTED_PASS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let scratch = std::env::temp_dir().join(format!("fluxion-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let only = std::env::var("FLUXION_ROWS").ok();
    let mut per_set: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut regressions = Vec::new();
    let mut passing = Vec::new();
    for row in rows(&dir) {
        if only.as_deref().is_some_and(|f| !row.key().contains(f)) {
            continue;
        }
        let entry = per_set.entry(row.set()).or_default();
        entry.2 += 1;
        match run_row(&dir, &row, &scratch) {
            Ok(true) => {
                entry.0 += 1;
                passing.push(row.key());
            }
            Ok(false) => {
                eprintln!("differs: {}", row.key());
                if must_pass.contains(row.key().as_str()) {
                    regressions.push(row.key());
                }
            }
            Err(why) => {
                entry.1 += 1;
                eprintln!("skipped ({why}): {}", row.key());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let total: u32 = per_set.values().map(|v| v.0).sum();
    for (set, (pass, skipped, all)) in &per_set {
        println!("conformance {set}: {pass}/{all} identical ({skipped} not runnable)");
    }
    println!("conformance total: {total} rows identical");
    if std::env::var("FLUXION_PRINT_PASSING").is_ok() {
        for k in &passing {
            println!("PASS {k}");
        }
    }
    assert!(
        regressions.is_empty(),
        "rows that should pass differ: {regressions:#?}"
    );
}
