//! The broker runtime end to end: `flux start`, attributes, modules, logs, events, ping,
//! and the connector's defences, driven through the real binaries.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Duration;

use flux_integration::{Instance, flux, flux_cmd, stderr, stdout};

#[test]
fn start_runs_the_initial_program_and_returns_its_exit_code() {
    assert_eq!(flux(&["start", "true"]).status.code(), Some(0));
    assert_eq!(
        flux(&["start", "sh", "-c", "exit 3"]).status.code(),
        Some(3)
    );
    assert_eq!(
        flux(&["start", "sh", "-c", "kill -9 $$"]).status.code(),
        Some(137)
    );
    let out = flux(&["start", "nosuchcommand"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        stderr(&out).contains("nosuchcommand: command not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn start_sets_flux_uri_and_removes_its_rundir() {
    let out = flux(&[
        "start",
        "sh",
        "-c",
        "echo $FLUX_URI; flux getattr size; flux getattr rank; stat -c %a $(flux getattr rundir)",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("local:///") && lines[0].ends_with("/local-0"),
        "{text}"
    );
    assert_eq!(&lines[1..], ["1", "0", "700"]);
    let socket = lines[0].trim_start_matches("local://");
    let rundir = std::path::Path::new(socket).parent().unwrap();
    assert!(!rundir.exists(), "rundir {} left behind", rundir.display());
}

#[test]
fn start_passes_attributes() {
    let out = flux(&[
        "start",
        "-Slog-stderr-level=1",
        "-o",
        "-Smy.attr=42",
        "flux",
        "getattr",
        "my.attr",
    ]);
    assert_eq!(stdout(&out), "42\n", "{}", stderr(&out));
    let out = flux(&["start", "-Srank=3", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rank: attribute is read-only"),
        "{}",
        stderr(&out)
    );
    // A bad tracing setting is an error at start (not the default), and nothing panics.
    let out = flux(&["start", "-Stracer.sample=often", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "fluxd: ERROR: rank 0: tracer.sample: invalid value 'often' (expected a number)\n"
    );
}

#[test]
fn commands_outside_an_instance_say_so() {
    for args in [
        &["getattr", "rank"][..],
        &["module", "list"],
        &["dmesg"],
        &["ping", "-c1", "0"],
        &["uptime"],
    ] {
        let out = flux(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("flux-{}: ERROR: FLUX_URI is not set", args[0])),
            "{err}"
        );
    }
}

#[test]
fn usage_errors_are_clear_and_help_works() {
    let out = flux(&["getattr", "--bogus", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("flux-getattr: ERROR: unexpected argument '--bogus'"),
        "{}",
        stderr(&out)
    );
    for cmd in [
        "start", "getattr", "setattr", "lsattr", "module", "dmesg", "ping", "uptime", "event",
        "logger", "shutdown", "version",
    ] {
        let out = flux(&[cmd, "--help"]);
        assert!(
            out.status.success() && stdout(&out).contains("Usage: flux"),
            "flux {cmd} --help"
        );
        let out = flux(&["help", cmd]);
        assert!(out.status.success(), "flux help {cmd}");
    }
}

#[test]
fn attributes_get_set_and_list() {
    let inst = Instance::start(&[]);
    assert_eq!(inst.ok(&["getattr", "size"]), "1\n");
    assert_eq!(inst.ok(&["getattr", "instance-level"]), "0\n");
    assert_eq!(
        inst.ok(&["getattr", "local-uri"]),
        format!("{}\n", inst.uri())
    );
    assert_eq!(
        inst.ok(&["getattr", "broker.pid"]),
        format!("{}\n", inst.pid())
    );

    let out = inst.flux(&["getattr", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "flux-getattr: ERROR: nosuch: no such attribute\n"
    );
    let out = inst.flux(&["getattr", "parent-uri"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "parent-uri is unset at the top level"
    );

    let out = inst.flux(&["setattr", "rank", "5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("read-only"));
    let out = inst.flux(&["setattr", "rundir", "/tmp"]);
    assert_eq!(out.status.code(), Some(1), "rundir is fixed once running");
    inst.ok(&["setattr", "log-stderr-level", "5"]);
    assert_eq!(inst.ok(&["getattr", "log-stderr-level"]), "5\n");

    let names = inst.ok(&["lsattr"]);
    for name in [
        "rank",
        "size",
        "version",
        "rundir",
        "local-uri",
        "instance-level",
        "broker.pid",
        "tbon.topo",
    ] {
        assert!(
            names.lines().any(|l| l == name),
            "lsattr lacks {name}: {names}"
        );
    }
    let verbose = inst.ok(&["lsattr", "-v"]);
    let size = verbose.lines().find(|l| l.starts_with("size ")).unwrap();
    assert_eq!(size, format!("{:<40}{}", "size", "1"));
    assert!(
        verbose
            .lines()
            .any(|l| l == format!("{:<40}-", "parent-uri")),
        "{verbose}"
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn modules_load_remove_reload_and_report() {
    let inst = Instance::start(&[]);
    let list = inst.ok(&["module", "list"]);
    let mut lines = list.lines();
    assert_eq!(
        lines.next(),
        Some("Module                    Idle  S Sendq Recvq Service")
    );
    assert!(list.lines().any(|l| l.starts_with("heartbeat ")), "{list}");

    let out = inst.flux(&["module", "load", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "flux-module: ERROR: nosuch: no such module\n");
    let out = inst.flux(&["module", "load", "heartbeat"]);
    assert!(stderr(&out).contains("already loaded"), "{}", stderr(&out));

    inst.ok(&["module", "remove", "heartbeat"]);
    assert!(!inst.ok(&["module", "list"]).contains("heartbeat"));
    let out = inst.flux(&["module", "remove", "heartbeat"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "flux-module: ERROR: heartbeat: module is not loaded\n"
    );
    inst.ok(&["module", "remove", "-f", "heartbeat"]);

    let out = inst.flux(&["module", "load", "heartbeat", "bogus=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown argument 'bogus'"),
        "{}",
        stderr(&out)
    );
    let out = inst.flux(&["module", "load", "heartbeat", "period=never"]);
    assert!(stderr(&out).contains("invalid period"), "{}", stderr(&out));

    inst.ok(&["module", "load", "heartbeat", "period=0.05s"]);
    inst.ok(&["module", "reload", "heartbeat", "period=0.1s"]);
    inst.ok(&["ping", "--count", "2", "--interval", "0", "heartbeat"]);
    let stats: serde_json::Value =
        serde_json::from_str(&inst.ok(&["module", "stats", "heartbeat"])).unwrap();
    assert_eq!(stats["args"], serde_json::json!(["period=0.1s"]));
    assert!(stats["msgs_in"].as_u64().unwrap() >= 2, "{stats}");
    let out = inst.flux(&["module", "stats", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));

    let dmesg = inst.ok(&["dmesg"]);
    assert!(
        dmesg.contains("broker.info[0]: module heartbeat removed"),
        "{dmesg}"
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn dmesg_logs_clears_and_follows() {
    let inst = Instance::start(&[]);
    inst.ok(&[
        "logger",
        "--severity",
        "err",
        "--appname",
        "test",
        "hello",
        "world",
    ]);
    let line = inst.ok(&["dmesg"]).lines().last().unwrap().to_string();
    // 2024-01-05T10:11:12.123456+00:00 test.err[0]: hello world
    let (stamp, rest) = line.split_once(' ').unwrap();
    assert_eq!(rest, "test.err[0]: hello world");
    assert_eq!(
        stamp.len(),
        "2024-01-05T10:11:12.123456+00:00".len(),
        "{stamp}"
    );
    assert!(stamp.as_bytes()[10] == b'T', "{stamp}");

    assert!(inst.ok(&["dmesg", "-c"]).contains("hello world"));
    assert_eq!(inst.ok(&["dmesg"]), "");
    inst.ok(&["logger", "again"]);
    inst.ok(&["dmesg", "-C"]);
    assert_eq!(inst.ok(&["dmesg"]), "");

    let mut follower = inst
        .cmd(&["dmesg", "-f"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    inst.ok(&["logger", "followed"]);
    let mut buf = [0u8; 256];
    let n = follower.stdout.as_mut().unwrap().read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("logger.notice[0]: followed"));
    follower.kill().unwrap();
    follower.wait().unwrap();

    let out = inst.flux(&["logger", "--severity", "loud", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn ping_reports_round_trips_and_unknown_services_fail() {
    let inst = Instance::start(&[]);
    let out = inst.ok(&["ping", "--count", "3", "--interval", "0", "0"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (seq, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("0!broker.ping pad=0 seq={seq} time=")),
            "{line}"
        );
        assert!(line.ends_with(')') && line.contains(" ms ("), "{line}");
    }
    inst.ok(&["ping", "-c", "1", "-p", "100", "heartbeat"]);
    let out = inst.flux(&["ping", "-c", "1", "nosuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("No service matching nosuch.ping"),
        "{}",
        stderr(&out)
    );
    let out = inst.flux(&["ping", "-c", "1", "7"]);
    assert!(
        stderr(&out).contains("no route to rank 7"),
        "{}",
        stderr(&out)
    );
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn uptime_shows_state_owner_depth_and_size() {
    let inst = Instance::start(&[]);
    let out = inst.ok(&["uptime"]);
    // " 07:47:18 run 1.6m,  owner user42,  depth 0,  size 1"
    let fields: Vec<&str> = out.trim_end().split(",  ").collect();
    assert_eq!(fields.len(), 4, "{out}");
    let head: Vec<&str> = fields[0].split_whitespace().collect();
    assert_eq!(head.len(), 3, "{out}");
    assert_eq!(head[0].len(), 8);
    assert_eq!(head[1], "run");
    assert!(fields[1].starts_with("owner "));
    assert_eq!(&fields[2..], ["depth 0", "size 1"]);
    assert_eq!(inst.shutdown(), 0);
}

#[test]
fn events_are_published_and_received_in_order() {
    let inst = Instance::start(&[]);
    let sub = inst
        .cmd(&["event", "sub", "--count", "2", "test."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    inst.ok(&["event", "pub", "other.topic", "{}"]);
    inst.ok(&["event", "pub", "test.a", "{\"n\":1}"]);
    let seq = inst.ok(&["event", "pub", "-s", "test.b"]);
    assert!(seq.starts_with("seq="), "{seq}");
    let out = sub.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "test.a\t{\"n\":1}\ntest.b\t\n");

    let out = inst.flux(&["event", "pub", "test.c", "not json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("payload is not valid JSON"));
    inst.ok(&["event", "pub", "--raw", "test.c", "not json"]);

    inst.ok(&["module", "reload", "heartbeat", "period=0.05s"]);
    let out = inst.ok(&["event", "sub", "-c", "1", "heartbeat.pulse"]);
    assert!(out.starts_with("heartbeat.pulse\t{\"epoch\":"), "{out}");
    assert_eq!(inst.shutdown(), 0);
}

/// Open a raw connection and pass the handshake.
fn raw_client(inst: &Instance) -> UnixStream {
    let mut sock = UnixStream::connect(inst.rundir().join("local-0")).unwrap();
    let mut verdict = [0u8; 1];
    sock.read_exact(&mut verdict).unwrap();
    assert_eq!(verdict[0], 0);
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    sock
}

#[test]
fn garbage_and_oversized_frames_only_cost_their_sender() {
    let mut inst = Instance::start(&[]);
    let mut bystander = inst
        .cmd(&["event", "sub", "-c", "1", "still."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let mut garbage = raw_client(&inst);
    garbage
        .write_all(&[0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff])
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        garbage.read(&mut buf).unwrap(),
        0,
        "garbage sender is disconnected"
    );

    let mut huge = raw_client(&inst);
    huge.write_all(&[0x7f, 0xff, 0xff, 0xff]).unwrap();
    assert_eq!(
        huge.read(&mut buf).unwrap(),
        0,
        "oversized frame sender is disconnected"
    );

    assert!(inst.is_running());
    inst.ok(&["ping", "-c", "1", "0"]);
    inst.ok(&["event", "pub", "still.here"]);
    let out = bystander.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "still.here\t\n");
    bystander = inst
        .cmd(&["getattr", "rank"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(bystander.wait().unwrap().success());
    assert!(inst.dmesg_contains("disconnected"));
    assert_eq!(inst.shutdown(), 0);
}

trait DmesgExt {
    fn dmesg_contains(&self, text: &str) -> bool;
}

impl DmesgExt for Instance {
    fn dmesg_contains(&self, text: &str) -> bool {
        self.ok(&["dmesg"]).contains(text)
    }
}

#[test]
fn other_users_are_refused() {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 || Command::new("setpriv").arg("--help").output().is_err() {
        eprintln!("skipped: needs root and setpriv to act as another user");
        return;
    }
    let mut inst = Instance::start(&[]);
    // Open the way to the socket, so only the broker's credential check stands.
    std::fs::set_permissions(inst.rundir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        inst.rundir().join("local-0"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let flux_bin = flux_integration::bin_dir().join("flux");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&flux_bin)
        .args(["getattr", "rank"])
        .env("FLUX_URI", inst.uri())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "flux-getattr: ERROR: connection refused by the broker: Operation not permitted\n"
    );
    assert!(inst.is_running());
    assert!(
        inst.ok(&["dmesg"])
            .contains("connection from uid 65534 refused")
    );
    let _ = flux_cmd();
    assert_eq!(inst.shutdown(), 0);
}
