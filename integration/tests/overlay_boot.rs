//! Several `fluxd` processes booted from one config file on 127.0.0.1: joining, the key
//! check, a broker lost and rejoining.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flux_integration::{bin_dir, stderr, stdout};

/// A free loopback port (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
    /// Every broker started, killed when the test ends (passing or not).
    pids: std::cell::RefCell<Vec<u32>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in self.pids.borrow().iter() {
            // SAFETY: kill has no memory preconditions; at worst the pid is already gone.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

impl Cluster {
    fn new(hosts: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        assert!(flux(&["keygen", key.to_str().unwrap()]).status.success());
        let conf = dir.path().join("boot.toml");
        let port = free_port();
        std::fs::write(
            &conf,
            format!(
                "[bootstrap]\ncurve_cert = \"{}\"\ndefault_port = {port}\ndefault_bind = \"tcp://127.0.0.1:%p\"\ndefault_connect = \"tcp://127.0.0.1:%p\"\nhosts = [{hosts}]\n",
                key.display()
            ),
        )
        .unwrap();
        Cluster {
            dir,
            conf,
            pids: Default::default(),
        }
    }

    /// `fluxd` for `host`, in the background.
    fn broker(&self, host: &str, conf: &Path, extra: &[&str]) -> Child {
        let child = Command::new(bin_dir().join("fluxd"))
            .arg("-c")
            .arg(conf)
            .arg(format!("-Srundir={}", self.dir.path().join(host).display()))
            .args(extra)
            .env("FLUX_FAKE_HOSTNAME", host)
            .env("PATH", path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.pids.borrow_mut().push(child.id());
        child
    }

    /// Run `flux ARGS` against `host`'s broker.
    fn flux(&self, host: &str, args: &[&str]) -> std::process::Output {
        let uri = format!(
            "local://{}/local-{}",
            self.dir.path().join(host).display(),
            rank(host)
        );
        let mut cmd = Command::new(bin_dir().join("flux"));
        cmd.args(args).env("FLUX_URI", uri);
        cmd.output().unwrap()
    }

    fn wait_socket(&self, host: &str) {
        let socket = self
            .dir
            .path()
            .join(host)
            .join(format!("local-{}", rank(host)));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "{host} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn rank(host: &str) -> u32 {
    host.trim_start_matches("node").parse().unwrap()
}

fn path() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn flux(args: &[&str]) -> std::process::Output {
    Command::new(bin_dir().join("flux"))
        .args(args)
        .output()
        .unwrap()
}

/// Poll until `f` holds (for at most 15 s).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn brokers_join_from_a_config_file_and_leave_with_rank_0() {
    let c = Cluster::new(r#"{ host = "node0" }, { host = "node[1-2]" }"#);
    let followers: Vec<Child> = ["node1", "node2"]
        .iter()
        .map(|h| c.broker(h, &c.conf, &[]))
        .collect();
    let mut leader = c.broker(
        "node0",
        &c.conf,
        &[
            "sh",
            "-c",
            "flux getattr size; flux exec -l flux getattr hostname | sort; flux overlay status",
        ],
    );
    leader.stdout = None;
    let out = Command::new(bin_dir().join("fluxd"))
        .arg("-c")
        .arg(&c.conf)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let status = leader.wait().unwrap();
    assert!(status.success());
    for mut f in followers {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = f.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "a follower leaves cleanly when rank 0 does"
                );
                break;
            }
            assert!(Instant::now() < deadline, "follower still running");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn the_leader_runs_the_initial_program_over_all_ranks() {
    let c = Cluster::new(r#"{ host = "node0" }, { host = "node[1-2]" }"#);
    let _followers: Vec<Child> = ["node1", "node2"]
        .iter()
        .map(|h| c.broker(h, &c.conf, &[]))
        .collect();
    let out = Command::new(bin_dir().join("fluxd"))
        .arg("-c")
        .arg(&c.conf)
        .arg(format!("-Srundir={}", c.dir.path().join("node0").display()))
        .args([
            "sh",
            "-c",
            "flux getattr size; flux exec -l flux getattr hostname | sort; flux overlay status",
        ])
        .env("FLUX_FAKE_HOSTNAME", "node0")
        .env("PATH", path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "3\n0: node0\n1: node1\n2: node2\n0 node0: full\n├─ 1 node1: full\n└─ 2 node2: full\n"
    );
}

#[test]
fn a_lost_broker_is_noticed_and_can_rejoin() {
    let c = Cluster::new(r#"{ host = "node0" }, { host = "node[1-2]" }"#);
    let mut leader = c.broker("node0", &c.conf, &["-Sbroker.rc2_none=1"]);
    let mut one = c.broker("node1", &c.conf, &[]);
    let mut two = c.broker("node2", &c.conf, &[]);
    c.wait_socket("node0");
    eventually("all three joined", || {
        String::from_utf8_lossy(&c.flux("node0", &["overlay", "status"]).stdout)
            .matches(": full")
            .count()
            == 3
    });
    two.kill().unwrap();
    two.wait().unwrap();
    eventually("rank 2 seen as lost", || {
        String::from_utf8_lossy(&c.flux("node0", &["dmesg"]).stdout)
            .contains("lost connection to rank 2")
    });
    let status = stdout(&c.flux("node0", &["overlay", "status"]));
    assert!(
        status.contains("2 node2: offline") && status.starts_with("0 node0: partial"),
        "{status}"
    );
    assert!(
        c.flux("node0", &["ping", "-c", "1", "1"]).status.success(),
        "the rest carries on"
    );
    let out = c.flux("node0", &["ping", "-c", "1", "2"]);
    assert!(!out.status.success());

    let mut again = c.broker("node2", &c.conf, &[]);
    eventually("rank 2 rejoined", || {
        c.flux("node0", &["ping", "-c", "1", "2"]).status.success()
    });
    let _ = c.flux("node0", &["shutdown", "--quiet"]);
    leader.wait().unwrap();
    one.wait().unwrap();
    again.wait().unwrap();
}

#[test]
fn a_broker_without_the_key_is_refused() {
    let c = Cluster::new(r#"{ host = "node0" }, { host = "node1" }"#);
    let mut leader = c.broker("node0", &c.conf, &["-Sbroker.rc2_none=1"]);
    c.wait_socket("node0");
    // The same instance, another key.
    let other_key = c.dir.path().join("other.key");
    assert!(
        flux(&["keygen", other_key.to_str().unwrap()])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&c.conf).unwrap();
    let key = c.dir.path().join("key");
    let forged = c.dir.path().join("forged.toml");
    std::fs::write(
        &forged,
        text.replace(key.to_str().unwrap(), other_key.to_str().unwrap()),
    )
    .unwrap();
    let intruder = c.broker("node1", &forged, &[]);
    let out = intruder.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused by parent"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dmesg = stdout(&c.flux("node0", &["dmesg"]));
    assert!(dmesg.contains("did not prove the instance key"), "{dmesg}");
    let _ = c.flux("node0", &["shutdown", "--quiet"]);
    leader.wait().unwrap();
}

#[test]
fn a_lost_broker_fails_its_jobs_and_takes_its_resources_offline() {
    let c = Cluster::new(r#"{ host = "node0" }, { host = "node[1-2]" }"#);
    let mut leader = c.broker("node0", &c.conf, &["-Sbroker.rc2_none=1"]);
    let mut one = c.broker("node1", &c.conf, &[]);
    let mut two = c.broker("node2", &c.conf, &[]);
    c.wait_socket("node0");
    eventually("three nodes up", || {
        stdout(&c.flux("node0", &["resource", "info"])).starts_with("3 Nodes")
    });
    let id = stdout(&c.flux("node0", &["submit", "-N3", "-n3", "sleep", "300"]))
        .trim()
        .to_string();
    assert!(
        c.flux("node0", &["job", "wait-event", "-t", "15", &id, "start"])
            .status
            .success()
    );
    two.kill().unwrap();
    two.wait().unwrap();
    let out = c.flux("node0", &["job", "wait-event", "-t", "15", &id, "clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stdout(&c.flux("node0", &["job", "eventlog", &id]));
    assert!(
        log.contains("exception type=\"exec\" severity=0 note=\"rank 2: broker lost\""),
        "{log}"
    );
    eventually("node2 offline", || {
        let list = stdout(&c.flux("node0", &["resource", "list"]));
        list.lines()
            .any(|l| l.trim_start().starts_with("down") && l.contains("node2"))
    });
    let _ = c.flux("node0", &["shutdown", "--quiet"]);
    leader.wait().unwrap();
    one.wait().unwrap();
}
