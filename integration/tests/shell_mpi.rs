//! An MPICH program under `flux run`, bootstrapped by the job shell's simple PMI with no
//! launcher of its own. Installs Debian's MPICH with apt when `mpicc` is absent.

use std::path::Path;
use std::process::Command;

use flux_integration::{Instance, stderr};

/// Make sure `mpicc` exists, installing MPICH if needed.
fn ensure_mpicc() {
    if Command::new("sh")
        .args(["-c", "command -v mpicc"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return;
    }
    // SAFETY: geteuid has no preconditions.
    let sudo = if unsafe { libc::geteuid() } == 0 {
        ""
    } else {
        "sudo "
    };
    let script = format!(
        "{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive {sudo}apt-get install -y -qq mpich libmpich-dev"
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "cannot install MPICH: {}",
        stderr(&out)
    );
}

/// Compile the hello-world + ring program into `dir`.
fn compile(dir: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mpi_ring.c");
    let exe = dir.join("mpi_ring");
    let out = Command::new("mpicc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "mpicc: {}", stderr(&out));
    exe.display().to_string()
}

fn check_ring(out: &str, size: u32) {
    let mut hellos: Vec<&str> = out.lines().filter(|l| l.starts_with("hello")).collect();
    hellos.sort();
    let expected: Vec<String> = (0..size)
        .map(|r| format!("hello from rank {r} of {size}"))
        .collect();
    assert_eq!(hellos, expected, "{out}");
    assert!(
        out.contains(&format!("ring complete: token {size}")),
        "{out}"
    );
}

#[test]
fn mpich_programs_bootstrap_under_flux_run() {
    ensure_mpicc();
    let dir = tempfile::tempdir().unwrap();
    let exe = compile(dir.path());
    let inst = Instance::with_cores(4, dir.path());
    check_ring(&inst.ok(&["run", "-n4", &exe]), 4);
    assert_eq!(inst.shutdown(), 0);
    // Across two brokers: the PMI barrier spans the shells of both ranks.
    let inst = Instance::start(&["--test-size=2"]);
    check_ring(&inst.ok(&["run", "-N2", "-n2", &exe]), 2);
    assert_eq!(inst.shutdown(), 0);
}
