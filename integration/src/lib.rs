//! Helpers for the end-to-end tests: find the real `flux` and `fluxd` binaries, start
//! instances, run commands against them.
//!
//! The binaries must be built first (`cargo build --bins`, which `scripts/test` does).

pub mod pmi;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The directory holding `flux` and `fluxd`: the cargo profile directory of this test.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf();
    for bin in ["flux", "fluxd"] {
        assert!(
            dir.join(bin).exists(),
            "{} is missing: build the binaries first (cargo build --bins)",
            dir.join(bin).display()
        );
    }
    dir
}

/// A `flux` command, outside any instance (no `FLUX_URI`).
pub fn flux_cmd() -> Command {
    let mut cmd = Command::new(bin_dir().join("flux"));
    cmd.env_remove("FLUX_URI");
    cmd
}

/// Run `flux ARGS...` outside any instance.
pub fn flux(args: &[&str]) -> Output {
    flux_cmd().args(args).output().expect("run flux")
}

/// Run `cmd` with `input` on its standard input; its output (stdout and stderr captured).
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // A command that exits before reading all of it closes the pipe: not our failure.
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child.wait_with_output().expect("wait")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A broker running in the background (no initial program) for a test to talk to.
pub struct Instance {
    child: Option<Child>,
    uri: String,
    rundir: tempfile::TempDir,
}

impl Instance {
    /// Start `fluxd` with extra broker arguments (e.g. `-Sstatedir=...`).
    pub fn start(args: &[&str]) -> Instance {
        let rundir = tempfile::Builder::new()
            .prefix("flux-test-")
            .tempdir()
            .expect("tempdir");
        let socket = rundir.path().join("local-0");
        let child = Command::new(bin_dir().join("fluxd"))
            .arg(format!("-Srundir={}", rundir.path().display()))
            .arg("-Sbroker.rc2_none=1")
            .args(args)
            .env_remove("FLUX_URI")
            .stdin(Stdio::null())
            .spawn()
            .expect("start fluxd");
        let mut instance = Instance {
            child: Some(child),
            uri: format!("local://{}", socket.display()),
            rundir,
        };
        instance.wait_for_socket(&socket);
        if args.iter().any(|a| a.starts_with("--test-size")) {
            // The socket comes before the other brokers have joined: let them.
            instance.wait_for_run_state();
        }
        instance
    }

    /// One broker whose resources are one node of `cores` cores named after this host
    /// (R written to `dir` and given with `-Sresource.path`): a bigger machine, simulated.
    pub fn with_cores(cores: u32, dir: &Path) -> Instance {
        let host = stdout(&flux(&["start", "flux", "getattr", "hostname"]));
        let r = flux(&[
            "R",
            "encode",
            "-r",
            "0",
            "-c",
            &format!("0-{}", cores - 1),
            "-H",
            host.trim(),
        ]);
        assert!(r.status.success(), "flux R encode: {}", stderr(&r));
        let path = dir.join("R.json");
        std::fs::write(&path, &r.stdout).expect("write R");
        Instance::start(&[&format!("-Sresource.path={}", path.display())])
    }

    /// Wait until every broker has joined (rank 0 in state `run`).
    fn wait_for_run_state(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.flux(&["uptime"]);
            if out.status.success() && stdout(&out).contains(" run ") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the instance never got to run: {}",
                stdout(&out)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_for_socket(&mut self, socket: &Path) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("fluxd exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "fluxd did not create {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The instance's `local://` URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The broker's rundir.
    pub fn rundir(&self) -> &Path {
        self.rundir.path()
    }

    /// The broker's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// A `flux` command aimed at this instance.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin_dir().join("flux"));
        cmd.args(args).env("FLUX_URI", &self.uri);
        cmd
    }

    /// Run `flux ARGS...` against this instance.
    pub fn flux(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run flux")
    }

    /// Run `flux ARGS...`, assert success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(args, &self.flux(args))
    }

    /// `flux ARGS` run in `dir` with this build's `flux` first on PATH (for scripts that
    /// call `flux`, as batch scripts do).
    pub fn flux_in(&self, dir: &Path, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.cmd(args)
            .current_dir(dir)
            .env("PATH", path)
            .output()
            .expect("run flux")
    }

    /// [`Instance::flux_in`], asserting success; returns stdout.
    pub fn ok_in(&self, dir: &Path, args: &[&str]) -> String {
        succeeded(args, &self.flux_in(dir, args))
    }

    /// Whether the broker process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Kill the broker abruptly (SIGKILL) and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Shut the broker down with `flux shutdown` and return its exit code.
    pub fn shutdown(mut self) -> i32 {
        let _ = self.flux(&["shutdown", "--quiet"]);
        let mut child = self.child.take().expect("running broker");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait fluxd") {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("fluxd did not exit after flux shutdown");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Assert that `flux ARGS` succeeded; its stdout.
fn succeeded(args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "flux {} failed: {}{}",
        args.join(" "),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The path of a file under `actors/tests/data` (topologies, R and graph files).
pub fn test_data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../actors/tests/data")
        .join(name)
        .display()
        .to_string()
}

/// Write an executable script `dir/name`.
pub fn write_script(dir: &Path, name: &str, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Poll `cond` until it holds (the deadline only guards against a hang).
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
