//! A broker started as a job of another instance (`flux batch`, `flux alloc`): the job's
//! environment names the parent (`FLUX_URI`, `FLUX_JOB_ID`), which gives the attributes
//! that tie this instance to it (`parent-uri`, `jobid`, `instance-level`,
//! `parent-kvs-namespace`) and, for `--batch-script`, the script to run as the initial
//! program. The resource module then takes this instance's R from the parent job's R.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use flux_actors::broker::Conf;
use flux_actors::broker::parent::ParentJob;

/// What a child broker learned from its parent.
#[derive(Debug)]
pub struct Child {
    /// Attributes to set at start, before the command line's `-S`.
    pub setattrs: Vec<(String, String)>,
    /// The batch script, written to a private file (removed by [`Child::cleanup`]).
    pub script: Option<PathBuf>,
    /// Configuration the job carries for its instance (`flux batch --conf`).
    pub conf: Option<Conf>,
}

/// The parent's URI and our job id there, when this process runs as a job.
pub fn parent_from_env() -> Option<(String, String)> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    Some((var("FLUX_URI")?, var("FLUX_JOB_ID")?))
}

impl Child {
    /// Ask the parent what this instance needs. `with_script`: fetch the batch script.
    /// `has_pmi`: a launcher gave us PMI, so the brokers of all the job's nodes join
    /// into one instance; without it only a single-node job can be an instance.
    pub fn setup(
        uri: &str,
        jobid: &str,
        with_script: bool,
        has_pmi: bool,
    ) -> anyhow::Result<Child> {
        let nnodes: u32 = std::env::var("FLUX_JOB_NNODES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        if nnodes > 1 && !has_pmi {
            bail!(
                "job {jobid} has {nnodes} nodes but no PMI was provided: its brokers cannot \
                 join into one instance"
            );
        }
        let parent = ParentJob::new(uri, jobid)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (level, jobspec) = rt.block_on(async {
            let h = parent.connect().await?;
            anyhow::Ok((parent.level(&h).await?, parent.jobspec(&h).await?))
        })?;
        let mut setattrs = vec![
            ("parent-uri".to_string(), uri.to_string()),
            ("jobid".to_string(), parent.jobid.to_f58()),
            ("instance-level".to_string(), (level + 1).to_string()),
        ];
        if let Ok(ns) = std::env::var("FLUX_KVS_NAMESPACE") {
            setattrs.push(("parent-kvs-namespace".to_string(), ns));
        }
        let script = match with_script {
            true => Some(write_script(&parent, &batch_script(&jobspec)?)?),
            false => None,
        };
        Ok(Child {
            setattrs,
            script,
            conf: job_conf(&jobspec)?,
        })
    }

    /// Remove the script file.
    pub fn cleanup(&self) {
        if let Some(path) = &self.script {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `attributes.system.batch.script` of a jobspec (where flux-core's `flux batch` puts it).
fn batch_script(jobspec: &serde_json::Value) -> anyhow::Result<String> {
    jobspec
        .pointer("/attributes/system/batch/script")
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .context("the job has no batch script (attributes.system.batch.script)")
}

/// `attributes.system.conf` of a jobspec: the instance configuration `flux batch --conf`
/// and `flux alloc --conf` give the job's instance.
fn job_conf(jobspec: &serde_json::Value) -> anyhow::Result<Option<Conf>> {
    match jobspec.pointer("/attributes/system/conf") {
        None => Ok(None),
        Some(value) => Conf::from_json(value.clone())
            .map(Some)
            .context("the job's attributes.system.conf is not a table"),
    }
}

/// Write the script where only we can read it: the job's tmpdir when there is one.
fn write_script(parent: &ParentJob, text: &str) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::var("FLUX_JOB_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let path = dir.join(format!(
        "flux-batch-{}-{}",
        parent.jobid.to_dothex(),
        std::process::id()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&path)
        .with_context(|| format!("cannot write the batch script to {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_comes_from_the_jobspec() {
        let spec = serde_json::json!({
            "attributes": {"system": {"batch": {"script": "#!/bin/sh\ntrue\n"}}}
        });
        assert_eq!(batch_script(&spec).unwrap(), "#!/bin/sh\ntrue\n");
        assert!(batch_script(&serde_json::json!({"attributes": {}})).is_err());
    }

    #[test]
    fn conf_comes_from_the_jobspec() {
        let spec = serde_json::json!({
            "attributes": {"system": {"conf": {"queues": {"debug": {}}}}}
        });
        assert!(job_conf(&spec).unwrap().unwrap().has_table("queues"));
        assert!(job_conf(&serde_json::json!({})).unwrap().is_none());
        let bad = serde_json::json!({"attributes": {"system": {"conf": 3}}});
        assert!(job_conf(&bad).is_err());
    }
}
