//! What a job's tasks get from the node they run on: a private temporary directory and the
//! GPUs of the allocation (spec/shell.md §environment).

use flux_proto::types::{IdSet, JobId};

use super::Plan;

/// Create `<rundir>/jobtmp-<shell rank>-<id>` (mode 0700) for the tasks of one node.
pub fn make_tmpdir(rundir: &str, shell_rank: u32, id: JobId) -> std::io::Result<String> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = format!("{rundir}/jobtmp-{shell_rank}-{}", id.to_f58());
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&dir)?;
    Ok(dir)
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
            stdin_path: None,
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

    #[test]
    fn tmpdirs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = make_tmpdir(root.path().to_str().unwrap(), 1, JobId(1 << 24)).unwrap();
        assert!(dir.contains("jobtmp-1-"));
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
