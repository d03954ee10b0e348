//! The tracing dashboard end to end: its JSON API and event stream on a 4-broker instance
//! running simulated jobs, bad routes and parameters, `flux top` / `flux trace` /
//! `flux dashboard`, and the page rendered by headless Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use flux_integration::{Instance, bin_dir, stderr, stdout};
use serde_json::Value;

/// A 4-broker instance serving its dashboard on a port of its choosing.
fn instance() -> (Instance, String) {
    let inst = Instance::start(&["--test-size=4", "-Sdashboard=127.0.0.1:0"]);
    let url = inst.ok(&["getattr", "dashboard.uri"]).trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (inst, url)
}

/// `host:port` of a dashboard URL.
fn authority(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches('/')
}

/// Percent-encode the non-ASCII bytes of a path (F58 job ids start with `ƒ`).
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// GET a path; returns the status code and body.
fn get(url: &str, path: &str) -> (u16, String) {
    let path = encode(path);
    let mut s = TcpStream::connect(authority(url)).expect("connect to the dashboard");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read the response");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// GET a JSON document that must succeed.
fn get_json(url: &str, path: &str) -> Value {
    let (status, body) = get(url, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Retry `check` until it gives a value (the dashboard gathers once a second).
fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Submit `n` simulated jobs and wait until they are done; returns their ids.
fn run_jobs(inst: &Instance, n: usize) -> Vec<String> {
    let out = inst.ok(&[
        "submit",
        &format!("--cc=1-{n}"),
        "-S",
        "exec.test.run_duration=0.05s",
        "--wait",
        "true",
    ]);
    out.lines().map(str::to_string).collect()
}

fn topics(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["topic"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn api_shows_the_tree_actors_jobs_and_trace() {
    let (inst, url) = instance();
    assert_eq!(inst.ok(&["dashboard"]).trim(), url);
    let ids = run_jobs(&inst, 5);

    // The tree: 4 brokers running, ranks 1-3 under rank 0, their links counted.
    let tbon = eventually("all ranks up with link rates", || {
        let t = get_json(&url, "/api/tbon");
        let ranks = t["ranks"].as_array()?.clone();
        (ranks.len() == 4
            && ranks.iter().all(|r| r["state"] == "run")
            && ranks[1..]
                .iter()
                .all(|r| r["link"]["msgs"].as_u64() > Some(0)))
        .then_some(t)
    });
    assert_eq!(tbon["size"], 4);
    assert_eq!(tbon["ranks"][0]["parent"], Value::Null);
    for r in 1..4 {
        assert_eq!(tbon["ranks"][r]["parent"], 0);
    }

    // The actors of a broker, with their figures.
    let actors = get_json(&url, "/api/actors?rank=0");
    let names: Vec<&str> = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for m in ["job-manager", "job-ingest", "sched-simple", "kvs", "broker"] {
        assert!(names.contains(&m), "{names:?}");
    }
    let jm = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "job-manager")
        .unwrap();
    assert!(jm["msgs_in"].as_u64().unwrap() > 0, "{jm}");
    for key in [
        "rate_in",
        "rate_out",
        "mailbox",
        "handle_mean_us",
        "handle_p99_us",
        "history",
    ] {
        assert!(jm.get(key).is_some(), "{key} missing: {jm}");
    }
    let leaf = get_json(&url, "/api/actors?rank=3");
    assert!(leaf["actors"].to_string().contains("overlay-r0"), "{leaf}");
    let all = get_json(&url, "/api/actors");
    assert_eq!(all["ranks"].as_array().unwrap().len(), 4);

    // Jobs: all five inactive, and counted over time.
    let jobs = eventually("five inactive jobs", || {
        let j = get_json(&url, "/api/jobs");
        (j["states"]["inactive"].as_u64() >= Some(5)).then_some(j)
    });
    assert!(!jobs["history"].as_array().unwrap().is_empty());
    assert!(jobs["throughput"].is_number());
    assert!(jobs["queue"].is_array());

    // Following one job: its path from submission to cleanup.
    let job = &ids[2];
    let path = get_json(&url, &format!("/api/trace?job={job}&limit=1000"));
    let seen = topics(&path["entries"]);
    for step in [
        "job-manager.submit",
        "sched.alloc",
        "job-exec.start",
        "sched.free",
    ] {
        assert!(seen.iter().any(|t| t == step), "{step} not in {seen:?}");
    }
    assert!(path["entries"].as_array().unwrap().iter().all(|e| {
        e["jobids"]
            .as_array()
            .unwrap()
            .contains(&Value::from(job.as_str()))
    }));
    let sched = get_json(&url, "/api/trace?topic=sched&limit=50");
    let sched = topics(&sched["entries"]);
    assert!(!sched.is_empty());
    assert!(sched.iter().all(|t| t.contains("sched")), "{sched:?}");
    assert_eq!(
        get_json(&url, "/api/trace?limit=3")["entries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // The queue: jobs held while scheduling is stopped.
    inst.ok(&["queue", "stop"]);
    let held = inst.ok(&[
        "submit",
        "--cc=1-2",
        "-S",
        "exec.test.run_duration=0.05s",
        "true",
    ]);
    let held: Vec<&str> = held.lines().collect();
    let queue = eventually("two jobs queued", || {
        let j = get_json(&url, "/api/jobs");
        (j["queue"].as_array()?.len() == 2).then_some(j)
    });
    assert_eq!(queue["states"]["sched"], 2, "{queue}");
    inst.ok(&["queue", "start"]);
    inst.ok(&["queue", "drain"]);
    eventually("the queue empty again", || {
        let j = get_json(&url, "/api/jobs");
        let ids = j["queue"].to_string();
        (j["queue"].as_array()?.is_empty() && !ids.contains(held[0])).then_some(())
    });

    // The page itself.
    let (status, page) = get(&url, "/");
    assert_eq!(status, 200);
    assert!(page.contains("flux dashboard") && page.contains("/api/stream"));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn stream_pushes_updates() {
    let (inst, url) = instance();
    let mut s = TcpStream::connect(authority(&url)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /api/stream HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut updates = Vec::new();
    let mut line = String::new();
    while updates.len() < 3 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "stream ended");
        if let Some(data) = line.strip_prefix("data: ") {
            updates.push(serde_json::from_str::<Value>(data).unwrap());
        }
    }
    for u in &updates {
        for key in ["tbon", "actors", "trace", "jobs"] {
            assert!(u.get(key).is_some(), "{key} missing");
        }
    }
    assert_eq!(updates[2]["tbon"]["size"], 4);
    drop(reader);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn bad_routes_and_parameters_are_clear_errors() {
    let (inst, url) = instance();
    let cases = [
        ("/nope", 404, "no such route"),
        ("/api/nope", 404, "no such route"),
        ("/api/actors?rank=abc", 400, "rank: expected a rank number"),
        ("/api/actors?rank=99", 404, "rank 99: no such rank"),
        ("/api/actors?ranks=1", 400, "unknown parameter 'ranks'"),
        ("/api/trace?limit=0", 400, "limit: expected a number"),
        ("/api/trace?limit=lots", 400, "limit"),
        ("/api/trace?job=not-a-job!", 400, "job: invalid job id"),
    ];
    for (path, code, text) in cases {
        let (status, body) = get(&url, path);
        assert_eq!(status, code, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            v["error"].as_str().unwrap().contains(text),
            "{path}: {body}"
        );
    }
    // Clients that connect to the stream and never read do not disturb anyone.
    let idle: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = TcpStream::connect(authority(&url)).unwrap();
            write!(s, "GET /api/stream HTTP/1.0\r\n\r\n").unwrap();
            s
        })
        .collect();
    run_jobs(&inst, 3);
    assert_eq!(get_json(&url, "/api/tbon")["size"], 4);
    drop(idle);
    assert_eq!(inst.ok(&["getattr", "size"]).trim(), "4");
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn top_trace_and_dashboard_commands() {
    // No dashboard until asked for one.
    let inst = Instance::start(&["--test-size=4"]);
    let out = inst.flux(&["getattr", "dashboard.uri"]);
    assert!(!out.status.success());
    let out = inst.flux(&["dashboard", "--bind", "192.0.2.1:80"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("flux-dashboard: ERROR: dashboard: 192.0.2.1:80 is not a loopback"),
        "{}",
        stderr(&out)
    );
    let url = inst.ok(&["dashboard"]).trim().to_string();
    assert_eq!(inst.ok(&["getattr", "dashboard.uri"]).trim(), url);
    assert_eq!(get_json(&url, "/api/tbon")["size"], 4);

    let ids = run_jobs(&inst, 3);
    let top = inst.ok(&["top", "--once", "--delay", "0.2"]);
    assert!(top.contains("brokers: 4"), "{top}");
    assert!(top.contains("RANK ACTOR"), "{top}");
    let top: Value = serde_json::from_str(inst.ok(&["top", "--once", "--json"]).trim()).unwrap();
    assert_eq!(top["tbon"]["size"], 4);
    assert_eq!(top["jobs"]["states"]["inactive"], 3);
    assert!(!top["actors"].as_array().unwrap().is_empty());

    let trace = inst.ok(&["trace", "--job", &ids[0], "-n", "1000"]);
    assert!(trace.contains("job-manager.submit"), "{trace}");
    assert!(trace.contains("sched.free"), "{trace}");
    // A request no service takes is answered by the broker, and traced as such.
    assert!(!inst.flux(&["ping", "nosuch"]).status.success());
    let refused = inst.ok(&["trace", "--json", "--topic", "nosuch.ping"]);
    let rsp: Vec<Value> = refused
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["type"] == "response")
        .collect();
    assert_eq!(rsp.len(), 1, "{refused}");
    assert_eq!(rsp[0]["from"], "broker", "{refused}");
    let lines = inst.ok(&["trace", "--json", "-n", "5", "--topic", "kvs"]);
    assert_eq!(lines.lines().count(), 5);
    for l in lines.lines() {
        let e: Value = serde_json::from_str(l).unwrap();
        assert!(e["topic"].as_str().unwrap().contains("kvs"));
    }
    // --follow prints what comes next. Its lines are read on a thread, so that a missing
    // line fails the test instead of hanging it; jobs are submitted until one shows (the
    // first may come before the follower has taken its starting point).
    let mut follow = inst
        .cmd(&[
            "trace",
            "--follow",
            "--json",
            "-n",
            "0",
            "--topic",
            "job-manager.submit",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let seen = eventually("a new job followed", || {
        let next = run_jobs(&inst, 1);
        let until = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            let e: Value = serde_json::from_str(&line).ok()?;
            if e["jobids"].to_string().contains(next[0].as_str()) {
                return Some(e);
            }
        }
        None
    });
    assert_eq!(seen["topic"], "job-manager.submit");
    let _ = follow.kill();
    let _ = follow.wait();

    let out = inst.flux(&["trace", "--job", "bogus!"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("flux-trace: ERROR: invalid job id"));

    // Sampling off (on rank 0, where the jobs go): nothing more is recorded there.
    inst.ok(&["setattr", "tracer.sample", "0"]);
    let count = || {
        inst.ok(&["trace", "--json", "-n", "100000"])
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).unwrap()["rank"] == 0)
            .count()
    };
    let before = count();
    run_jobs(&inst, 2);
    assert_eq!(count(), before);
    let out = inst.flux(&["setattr", "tracer.sample", "often"]);
    assert!(!out.status.success());
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn fluxd_refuses_a_non_loopback_dashboard() {
    let out = Command::new(bin_dir().join("fluxd"))
        .args(["-Sdashboard=192.0.2.1:8080", "true"])
        .env_remove("FLUX_URI")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("not a loopback address"),
        "{}",
        stderr(&out)
    );
}

/// Debian's Chromium, installed with apt when absent.
fn chromium() -> PathBuf {
    let path = PathBuf::from("/usr/bin/chromium");
    if !path.exists() {
        let sudo = if unsafe { libc::getuid() } == 0 {
            vec![]
        } else {
            vec!["sudo", "-n"]
        };
        for args in [
            vec!["apt-get", "update", "-qq"],
            vec!["apt-get", "install", "-y", "-qq", "chromium"],
        ] {
            let cmd: Vec<&str> = sudo.iter().copied().chain(args).collect();
            let status = Command::new(cmd[0])
                .args(&cmd[1..])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .expect("run apt-get");
            assert!(status.success(), "{} failed", cmd.join(" "));
        }
    }
    path
}

/// Run headless Chromium on `url` with extra arguments; returns its stdout.
fn run_chromium(url: &str, profile: &Path, extra: &[&str]) -> String {
    // A hung browser fails the test rather than stalling it.
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1200",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn chromium_renders_the_tree_and_a_job_path() {
    let (inst, url) = instance();
    let ids = run_jobs(&inst, 2);
    let job = &ids[1];
    // Wait until the dashboard has gathered the job's whole path.
    eventually("the job's path in the trace", || {
        let t = get_json(&url, &format!("/api/trace?job={job}&limit=1000"));
        topics(&t["entries"])
            .iter()
            .any(|t| t == "sched.free")
            .then_some(())
    });
    let profile = tempfile::tempdir().unwrap();
    let page = format!("{url}?job={job}&live=poll");
    let dom = run_chromium(&page, profile.path(), &["--dump-dom"]);
    for rank in 0..4 {
        assert!(
            dom.contains(&format!(
                "class=\"tbon-node\" data-rank=\"{rank}\" data-state=\"run\""
            )),
            "rank {rank} missing from the rendered TBON"
        );
    }
    let path = dom
        .split("<div id=\"job-path\">")
        .nth(1)
        .and_then(|s| s.split("</div>").next())
        .expect("the job path is rendered");
    for step in [
        "job-manager.submit",
        "sched.alloc",
        "job-exec.start",
        "sched.free",
    ] {
        assert!(
            path.contains(step),
            "{step} not in the rendered path: {path}"
        );
    }
    assert!(dom.contains("class=\"actor-row\" data-name=\"job-manager\""));
    // The page kept updating itself.
    let renders: u32 = dom
        .split("data-renders=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the page rendered");
    assert!(renders >= 2, "rendered {renders} times");

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&target).unwrap();
    let shot = target.join("dashboard-e2e.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &page,
        profile.path(),
        &[&format!("--screenshot={}", shot.display())],
    );
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false)
    );
    println!("dashboard screenshot: {}", shot.display());
    assert_eq!(inst.shutdown(), 0);
}

/// A free loopback port (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the brokers of a test when it ends, passing or not.
struct Killer(Vec<std::process::Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn brokers_in_separate_processes_are_gathered_and_a_lost_one_shows() {
    // Three fluxd processes booted from one config: every rank has its own tracer, so the
    // figures can only arrive over the overlay.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    let out = Command::new(bin_dir().join("flux"))
        .args(["keygen", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let conf = dir.path().join("boot.toml");
    std::fs::write(
        &conf,
        format!(
            "[bootstrap]\ncurve_cert = \"{}\"\ndefault_port = {}\ndefault_bind = \"tcp://127.0.0.1:%p\"\ndefault_connect = \"tcp://127.0.0.1:%p\"\nhosts = [{{ host = \"node0\" }}, {{ host = \"node[1-2]\" }}]\n",
            key.display(),
            free_port()
        ),
    )
    .unwrap();
    let broker = |host: &str, extra: &[&str]| {
        Command::new(bin_dir().join("fluxd"))
            .arg("-c")
            .arg(&conf)
            .arg(format!("-Srundir={}", dir.path().join(host).display()))
            .args(extra)
            .env("FLUX_FAKE_HOSTNAME", host)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut brokers = Killer(vec![
        broker("node0", &["-Sbroker.rc2_none=1", "-Sdashboard=127.0.0.1:0"]),
        broker("node1", &[]),
        broker("node2", &[]),
    ]);
    let uri = format!("local://{}/local-0", dir.path().join("node0").display());
    let flux = |args: &[&str]| {
        Command::new(bin_dir().join("flux"))
            .args(args)
            .env("FLUX_URI", &uri)
            .output()
            .unwrap()
    };
    let url = eventually("rank 0 serves its dashboard", || {
        let out = flux(&["getattr", "dashboard.uri"]);
        out.status
            .success()
            .then(|| stdout(&out).trim().to_string())
    });
    let ranks = |tbon: &Value| -> Vec<(u64, String)> {
        tbon["ranks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["rank"].as_u64().unwrap(),
                    r["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    eventually("three brokers running, each with its actors", || {
        let t = get_json(&url, "/api/tbon");
        let all = ranks(&t) == [(0, "run".into()), (1, "run".into()), (2, "run".into())];
        (all && t["ranks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["actors"].as_u64() > Some(0)))
        .then_some(())
    });
    let leaf = get_json(&url, "/api/actors?rank=2");
    assert!(leaf["actors"].to_string().contains("overlay-r0"), "{leaf}");

    // Rank 2 goes away: the tree shows it lost, the rest carries on.
    let mut two = brokers.0.pop().unwrap();
    two.kill().unwrap();
    two.wait().unwrap();
    eventually("rank 2 shown lost", || {
        let top = flux(&["top", "--once", "--json", "--delay", "0.2"]);
        let t: Value = serde_json::from_str(stdout(&top).trim()).ok()?;
        (ranks(&t["tbon"]) == [(0, "run".into()), (1, "run".into()), (2, "lost".into())])
            .then_some(())
    });
    eventually("the dashboard shows rank 2 lost", || {
        (get_json(&url, "/api/tbon")["ranks"][2]["state"] == "lost").then_some(())
    });
    let _ = flux(&["shutdown", "--quiet"]);
}
