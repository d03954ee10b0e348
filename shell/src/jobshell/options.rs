//! Job shell options (`-o NAME[=VALUE]`, `attributes.system.shell.options`): which exist,
//! which values the shell understands, and the CPU affinity they ask for
//! (spec/shell.md §5).

use serde_json::Value;

/// The options a job shell knows (spec/shell.md §5); anything else is refused at submit.
pub const KNOWN: &[&str] = &[
    "cpu-affinity",
    "gpu-affinity",
    "pty",
    "pmi",
    "pmi-simple",
    "verbose",
    "nosetpgrp",
    "stop-tasks-in-exec",
    "oom",
    "rlimit",
    "hwloc",
    "stage-in",
    "mpi",
    "per-resource",
    "env-expand",
    "initrc",
    "userrc",
    "taskmap",
    "signal",
    "output",
    "input",
    "exit-timeout",
    "exit-on-error",
];

/// Why an option cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown shell option '{0}' (known: {known})", known = KNOWN.join(", "))]
    Unknown(String),
    #[error("invalid value for shell option {name}: {value} (expected {expected})")]
    Value {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// How tasks are bound to the job's cores on their node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CpuAffinity {
    /// Every task may run on all the job's cores of the node (the default).
    #[default]
    On,
    /// No binding: tasks inherit the broker's CPUs.
    Off,
    /// The node's cores split evenly among its tasks.
    PerTask,
    /// A cpuset (list of CPUs) per local task, `;`-separated.
    Map(Vec<Vec<usize>>),
}

impl CpuAffinity {
    /// Parse `on`, `off`, `per-task` or `map:LIST` (with `verbose,`/`dry-run,` prefixes
    /// ignored).
    pub fn parse(text: &str) -> Option<CpuAffinity> {
        let mut text = text;
        while let Some(rest) = text
            .strip_prefix("verbose,")
            .or_else(|| text.strip_prefix("dry-run,"))
        {
            text = rest;
        }
        Some(match text {
            "on" => CpuAffinity::On,
            "off" => CpuAffinity::Off,
            "per-task" => CpuAffinity::PerTask,
            _ => CpuAffinity::Map(
                text.strip_prefix("map:")?
                    .split(';')
                    .map(cpu_list)
                    .collect::<Option<Vec<_>>>()?,
            ),
        })
    }

    /// The CPUs of each of `ntasks` local tasks, given the job's cores here as CPUs the
    /// shell may use; `None`: leave the task unbound.
    pub fn assign(&self, cpus: &[usize], ntasks: usize) -> Vec<Option<Vec<usize>>> {
        match self {
            CpuAffinity::Off => vec![None; ntasks],
            _ if cpus.is_empty() => vec![None; ntasks],
            CpuAffinity::On => vec![Some(cpus.to_vec()); ntasks],
            CpuAffinity::PerTask => (0..ntasks)
                .map(|i| {
                    // Task i gets its even share; with more tasks than cores they share.
                    let n = cpus.len();
                    let (lo, hi) = if ntasks <= n {
                        (i * n / ntasks, (i + 1) * n / ntasks)
                    } else {
                        (i * n / ntasks, i * n / ntasks + 1)
                    };
                    Some(cpus[lo..hi].to_vec())
                })
                .collect(),
            CpuAffinity::Map(sets) => (0..ntasks)
                .map(|i| sets.get(i % sets.len().max(1)).cloned())
                .collect(),
        }
    }
}

/// `0-3,7` as a list of CPUs.
fn cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        // A cpu_set_t holds CPU_SETSIZE CPUs; a reversed range is a typo, not empty.
        if a > b || b >= libc::CPU_SETSIZE as usize {
            return None;
        }
        out.extend(a..=b);
    }
    Some(out)
}

/// Check the options of a jobspec: each known, and the values the shell reads valid.
pub fn validate(options: &serde_json::Map<String, Value>) -> Result<(), OptionError> {
    for (name, value) in options {
        if !KNOWN.contains(&name.as_str()) {
            return Err(OptionError::Unknown(name.clone()));
        }
        let text = value.as_str();
        match name.as_str() {
            "cpu-affinity" if text.and_then(CpuAffinity::parse).is_none() => {
                return Err(OptionError::Value {
                    name: "cpu-affinity",
                    value: value.to_string(),
                    expected: "on, off, per-task or map:LIST",
                });
            }
            "pmi" if !matches!(text, Some("simple" | "pmi1" | "pmi2" | "off")) => {
                return Err(OptionError::Value {
                    name: "pmi",
                    value: value.to_string(),
                    expected: "simple, pmi1, pmi2 or off",
                });
            }
            "pty" if !(value.is_boolean() || value.is_object() || value.is_i64()) => {
                return Err(OptionError::Value {
                    name: "pty",
                    value: value.to_string(),
                    expected: "no value, pty.ranks=IDSET, pty.capture or pty.interactive",
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The CPUs this process may run on (where the shell's tasks can be bound).
pub fn usable_cpus() -> Vec<usize> {
    // SAFETY: the set is zeroed then filled by sched_getaffinity, which we give its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|cpu| libc::CPU_ISSET(*cpu, &set))
            .collect()
    }
}

/// The CPUs of the job's cores `cores` (logical core indices of R on this node): core i is
/// the i-th share of the usable CPUs (several CPUs per core with hyperthreads). Cores this
/// host does not have are left out.
pub fn cores_to_cpus(cores: &[u32], usable: &[usize], ncores: usize) -> Vec<usize> {
    if usable.is_empty() || ncores == 0 {
        return Vec::new();
    }
    let per_core = (usable.len() / ncores).max(1);
    cores
        .iter()
        .flat_map(|c| {
            let lo = *c as usize * per_core;
            usable.iter().skip(lo).take(per_core).copied()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_options_and_bad_values_are_refused() {
        let ok = json!({"cpu-affinity": "per-task", "pty": {"interactive": true}, "pmi": "off", "output": {}});
        assert_eq!(validate(ok.as_object().unwrap()), Ok(()));
        let bad = json!({"nosuch": 1});
        assert!(matches!(
            validate(bad.as_object().unwrap()),
            Err(OptionError::Unknown(n)) if n == "nosuch"
        ));
        let bad = json!({"cpu-affinity": "sometimes"});
        let e = validate(bad.as_object().unwrap()).unwrap_err();
        assert!(e.to_string().contains("cpu-affinity"), "{e}");
    }

    #[test]
    fn affinity_splits_cores() {
        assert_eq!(
            CpuAffinity::parse("verbose,per-task"),
            Some(CpuAffinity::PerTask)
        );
        assert_eq!(
            CpuAffinity::parse("map:0-1;3"),
            Some(CpuAffinity::Map(vec![vec![0, 1], vec![3]]))
        );
        // Beyond what a cpu_set_t holds, or reversed: refused, not a broker panic.
        assert_eq!(CpuAffinity::parse("map:5000"), None);
        assert_eq!(CpuAffinity::parse("map:3-1"), None);
        let cpus = [0, 1, 2, 3];
        assert_eq!(
            CpuAffinity::PerTask.assign(&cpus, 2),
            [Some(vec![0, 1]), Some(vec![2, 3])]
        );
        assert_eq!(
            CpuAffinity::PerTask.assign(&cpus[..2], 4),
            [Some(vec![0]), Some(vec![0]), Some(vec![1]), Some(vec![1])]
        );
        assert_eq!(CpuAffinity::On.assign(&cpus, 1), [Some(cpus.to_vec())]);
        assert_eq!(CpuAffinity::Off.assign(&cpus, 1), [None]);
        assert_eq!(cores_to_cpus(&[1], &[0, 1, 2, 3], 2), [2, 3]);
        assert_eq!(cores_to_cpus(&[0, 5], &[0, 1], 2), [0]);
    }
}
