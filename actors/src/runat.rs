//! Running the instance's own programs: the initial program (rc2) and rc scripts.

use std::io;

use tokio::process::{Child, Command};

/// A program to run inside the instance.
pub struct Program {
    pub argv: Vec<String>,
    /// The instance's `local://` URI, given to the program as `FLUX_URI`.
    pub uri: String,
    /// Run it in a process group of its own (in a child instance, so that the signal
    /// the parent sends the broker's group reaches the broker first, which stops the
    /// instance's jobs before it passes the signal on).
    pub own_group: bool,
}

/// Job and launcher variables a program of *this* instance must not inherit from an
/// enclosing one (spec/broker.md §6).
const SCRUBBED_VARS: &[&str] = &[
    "FLUX_JOB_ID",
    "FLUX_JOB_SIZE",
    "FLUX_JOB_NNODES",
    "FLUX_JOB_TMPDIR",
    "FLUX_TASK_RANK",
    "FLUX_TASK_LOCAL_ID",
    "FLUX_KVS_NAMESPACE",
    "FLUX_PROXY_REMOTE",
    "PMI_FD",
    "PMI_RANK",
    "PMI_SIZE",
];

/// Start the program with stdio inherited.
pub fn spawn(program: &Program) -> io::Result<Child> {
    let (cmd, args) = program
        .argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = Command::new(cmd);
    command.args(args).env("FLUX_URI", &program.uri);
    for var in SCRUBBED_VARS {
        command.env_remove(var);
    }
    if program.own_group {
        command.process_group(0);
    }
    command.spawn()
}

/// Wait for the program and return its exit code (128+N when killed by signal N).
pub async fn wait(mut child: Child) -> i32 {
    match child.wait().await {
        Ok(status) => flux_shell::exit::exit_code(status),
        Err(_) => 1,
    }
}
