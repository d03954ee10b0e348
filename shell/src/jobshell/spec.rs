//! What one shell is asked to run: its share of a job's tasks and how (plain data, sent
//! between brokers as JSON when the shell runs on another rank).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Stream;

/// The share of one job that one shell runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShellSpec {
    /// The job id (decimal), used to tag every event.
    pub jobid: u64,
    /// The job id in F58: the PMI kvsname and part of `FLUX_JOB_TMPDIR`.
    pub name: String,
    /// This shell's index among the job's shells, and how many there are.
    pub shell_rank: u32,
    pub nshells: u32,
    /// Total tasks of the job (`PMI_SIZE`).
    pub size: u32,
    /// Global ranks of the tasks run here, in local-id order.
    pub tasks: Vec<u32>,
    pub argv: Vec<String>,
    /// Environment shared by the tasks (per-task variables are added at spawn).
    pub env: BTreeMap<String, String>,
    pub cwd: Option<String>,
    /// Files for stdout/stderr (`--output`/`--error`), instead of the owner.
    pub stdout_path: Option<String>,
    pub stderr_path: Option<String>,
    /// Prefix each line written to `stdout_path`/`stderr_path` with the task rank.
    #[serde(default)]
    pub stdout_label: bool,
    #[serde(default)]
    pub stderr_label: bool,
    /// Pass output on as it comes, not a line at a time (`--unbuffered`).
    #[serde(default)]
    pub unbuffered: bool,
    /// A file for stdin (`--input=FILE`), instead of nothing.
    pub stdin_path: Option<String>,
    /// Tasks read stdin from a pipe fed by [`Stdin`](super::Stdin) messages (what `flux
    /// run` forwards); otherwise, without `stdin_path`, they read nothing.
    #[serde(default)]
    pub stdin_service: bool,
    /// Where `FLUX_JOB_TMPDIR` is created (`<rundir>/jobtmp-<shell rank>-<id>`); none: no tmpdir.
    pub rundir: Option<String>,
    /// Serve simple PMI to the tasks (`-o pmi=off` turns it off).
    pub pmi: bool,
    /// Global ranks of the tasks that run on a pseudo-terminal (`-o pty`): its output is
    /// their stdout, `Stdin` messages are typed into it.
    #[serde(default)]
    pub pty_tasks: Vec<u32>,
    /// The job's cores on this node (logical indices from R), for CPU affinity.
    #[serde(default)]
    pub cores: Vec<u32>,
    /// The `cpu-affinity` option (`on` when empty).
    #[serde(default)]
    pub cpu_affinity: String,
    /// Keys every PMI client can read without a put (`PMI_process_mapping`, `flux.taskmap`).
    pub pmi_preset: Vec<(String, String)>,
    /// Soft resource limits for the tasks, as the submitter had them (name, value; -1 is
    /// unlimited): `attributes.system.shell.options.rlimit`.
    #[serde(default)]
    pub rlimits: Vec<(String, i64)>,
    /// `--signal=SIG@TIME`: send SIG to the tasks TIME seconds before `expiration`.
    #[serde(default)]
    pub warning: Option<(i32, f64)>,
    /// When the job's time limit runs out (seconds since the epoch).
    #[serde(default)]
    pub expiration: Option<f64>,
}

impl ShellSpec {
    fn file_of(&self, stream: Stream) -> (Option<&str>, bool) {
        match stream {
            Stream::Stdout => (self.stdout_path.as_deref(), self.stdout_label),
            Stream::Stderr => (self.stderr_path.as_deref(), self.stderr_label),
        }
    }

    /// The file a task writes `stream` to itself (unlabeled file output).
    pub fn direct_file(&self, stream: Stream) -> Option<&str> {
        match self.file_of(stream) {
            (Some(path), false) => Some(path),
            _ => None,
        }
    }

    /// The file the shell writes `stream` to, labeling lines.
    pub fn labeled_file(&self, stream: Stream) -> Option<&str> {
        match self.file_of(stream) {
            (Some(path), true) => Some(path),
            _ => None,
        }
    }

    /// The environment of local task `local` (global rank `rank`), beyond the shared one.
    pub fn task_env(&self, local: usize, rank: u32) -> Vec<(String, String)> {
        let mut env = vec![
            ("FLUX_TASK_RANK".to_string(), rank.to_string()),
            ("FLUX_TASK_LOCAL_ID".to_string(), local.to_string()),
        ];
        if self.pmi {
            env.push(("PMI_RANK".into(), rank.to_string()));
            env.push(("PMI_SIZE".into(), self.size.to_string()));
            env.push(("PMI_SPAWNED".into(), "0".into()));
        }
        env
    }

    /// This shell's `FLUX_JOB_TMPDIR`, if it makes one.
    pub fn tmpdir(&self) -> Option<String> {
        self.rundir
            .as_ref()
            .map(|dir| format!("{dir}/jobtmp-{}-{}", self.shell_rank, self.name))
    }
}

/// The `setrlimit` resource of an rlimit name as Flux spells it (`nofile`, `core`, ...).
pub fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "as" => libc::RLIMIT_AS,
        "core" => libc::RLIMIT_CORE,
        "cpu" => libc::RLIMIT_CPU,
        "data" => libc::RLIMIT_DATA,
        "fsize" => libc::RLIMIT_FSIZE,
        "locks" => libc::RLIMIT_LOCKS,
        "memlock" => libc::RLIMIT_MEMLOCK,
        "msgqueue" => libc::RLIMIT_MSGQUEUE,
        "nice" => libc::RLIMIT_NICE,
        "nofile" => libc::RLIMIT_NOFILE,
        "nproc" => libc::RLIMIT_NPROC,
        "rss" => libc::RLIMIT_RSS,
        "rtprio" => libc::RLIMIT_RTPRIO,
        "rttime" => libc::RLIMIT_RTTIME,
        "sigpending" => libc::RLIMIT_SIGPENDING,
        "stack" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

/// The names [`rlimit_resource`] knows.
pub const RLIMIT_NAMES: [&str; 16] = [
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// This process's soft limits by name (-1 for unlimited), to record in a jobspec.
pub fn current_rlimits() -> Vec<(String, i64)> {
    RLIMIT_NAMES
        .iter()
        .filter_map(|name| {
            let res = rlimit_resource(name)?;
            let mut rl = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes into the struct we own.
            if unsafe { libc::getrlimit(res, &mut rl) } != 0 {
                return None;
            }
            let value = if rl.rlim_cur == libc::RLIM_INFINITY {
                -1
            } else {
                i64::try_from(rl.rlim_cur).unwrap_or(-1)
            };
            Some((name.to_string(), value))
        })
        .collect()
}

/// Runs of consecutive nodes with the same number of tasks: `(first node, nodes, ppn)`.
fn blocks(tasks_per_node: &[u32]) -> Vec<(usize, usize, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tasks_per_node.len() {
        let ppn = tasks_per_node[i];
        let mut j = i;
        while j < tasks_per_node.len() && tasks_per_node[j] == ppn {
            j += 1;
        }
        out.push((i, j - i, ppn));
        i = j;
    }
    out
}

/// `PMI_process_mapping` for tasks placed in blocks: `(vector,(node,count,ppn),...)`, one
/// triple per run of consecutive nodes with the same number of tasks.
pub fn process_mapping(tasks_per_node: &[u32]) -> String {
    let triples: String = blocks(tasks_per_node)
        .iter()
        .map(|(node, count, ppn)| format!(",({node},{count},{ppn})"))
        .collect();
    format!("(vector{triples})")
}

/// The RFC 34 task map of block placement: `[[node,count,ppn,1],...]`.
pub fn taskmap(tasks_per_node: &[u32]) -> String {
    let entries: Vec<String> = blocks(tasks_per_node)
        .iter()
        .map(|(node, count, ppn)| format!("[{node},{count},{ppn},1]"))
        .collect();
    format!("[{}]", entries.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_group_equal_nodes() {
        assert_eq!(process_mapping(&[2, 2]), "(vector,(0,2,2))");
        assert_eq!(process_mapping(&[2, 1, 1]), "(vector,(0,1,2),(1,2,1))");
        assert_eq!(taskmap(&[2, 2]), "[[0,2,2,1]]");
        assert_eq!(taskmap(&[3]), "[[0,1,3,1]]");
    }

    #[test]
    fn rlimits_have_names() {
        assert_eq!(rlimit_resource("nofile"), Some(libc::RLIMIT_NOFILE));
        assert_eq!(rlimit_resource("bogus"), None);
        let mine = current_rlimits();
        assert!(mine.iter().any(|(n, _)| n == "nofile"));
        assert!(RLIMIT_NAMES.iter().all(|n| rlimit_resource(n).is_some()));
    }

    #[test]
    fn tasks_get_their_ranks() {
        let spec = ShellSpec {
            name: "fX".into(),
            size: 4,
            tasks: vec![2, 3],
            pmi: true,
            rundir: Some("/run".into()),
            shell_rank: 1,
            ..Default::default()
        };
        let env = spec.task_env(1, 3);
        assert!(env.contains(&("FLUX_TASK_LOCAL_ID".into(), "1".into())));
        assert!(env.contains(&("PMI_RANK".into(), "3".into())));
        assert!(env.contains(&("PMI_SIZE".into(), "4".into())));
        assert_eq!(spec.tmpdir().as_deref(), Some("/run/jobtmp-1-fX"));
    }
}
