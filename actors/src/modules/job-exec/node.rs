//! What a job's tasks get from the node they run on: a private temporary directory and the
//! GPUs of the allocation (spec/shell.md §environment).

use flux_proto::types::IdSet;

use super::Plan;

/// Keys every PMI client of the job can read: the process mapping MPI wants, the RFC 34
/// task map and the instance level a broker started as a task wants.
pub fn pmi_preset(tasks_per_node: &[u32], instance_level: u32) -> Vec<(String, String)> {
    vec![
        (
            "PMI_process_mapping".into(),
            flux_shell::jobshell::spec::process_mapping(tasks_per_node),
        ),
        (
            "flux.taskmap".into(),
            flux_shell::jobshell::spec::taskmap(tasks_per_node),
        ),
        (
            "flux.instance-level".into(),
            (instance_level + 1).to_string(),
        ),
    ]
}

/// `CUDA_VISIBLE_DEVICES` (and ROCm's `ROCR_VISIBLE_DEVICES`): the allocated GPU ids of the
/// node, or `-1` when it has none.
pub fn gpu_env(plan: &mut Plan, gpus: Option<&IdSet>) {
    let list = match gpus {
        Some(ids) if !ids.is_empty() => ids
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(","),
        _ => "-1".to_string(),
    };
    plan.env.insert("CUDA_VISIBLE_DEVICES".into(), list.clone());
    plan.env.insert("ROCR_VISIBLE_DEVICES".into(), list);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::job_exec::Mode;
    use std::collections::BTreeMap;

    fn plan() -> Plan {
        Plan {
            mode: Mode::Tasks {
                argv: vec!["true".into()],
                ntasks: 1,
            },
            limit: None,
            env: BTreeMap::new(),
            cwd: None,
            stdout_path: None,
            stderr_path: None,
            stdout_label: false,
            stderr_label: false,
            unbuffered: false,
            stdin_path: None,
            stdin_service: false,
            cpu_affinity: String::new(),
            pty: Vec::new(),
            pmi: true,
            rlimits: Vec::new(),
            warning: None,
        }
    }

    #[test]
    fn gpus_become_visible_devices() {
        let mut p = plan();
        gpu_env(&mut p, Some(&IdSet::parse("0,2").unwrap()));
        assert_eq!(p.env["CUDA_VISIBLE_DEVICES"], "0,2");
        gpu_env(&mut p, None);
        assert_eq!(p.env["CUDA_VISIBLE_DEVICES"], "-1");
    }
}
