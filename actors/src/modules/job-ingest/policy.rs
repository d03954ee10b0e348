//! Queues and job policy from the instance configuration (RFC 33, flux-config-queues(5),
//! flux-config-policy(5)): named queues with the resource properties they require,
//! jobspec defaults (`policy.jobspec.defaults.system.{queue,duration}`) and limits
//! (`policy.limits.{duration,job-size.*}`), each overridable per queue. A submission is
//! given its defaults and its queue's constraints, and checked against the limits.

use std::collections::BTreeMap;

use flux_proto::types::Jobspec;
use flux_proto::types::fsd;
use flux_proto::types::jobspec::JobDuration;
use serde_json::Value;

use crate::broker::Conf;

/// Why a queue/policy configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("config: {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("config: the default queue '{0}' is not a configured queue")]
    DefaultQueue(String),
}

fn invalid(key: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// A job-size bound; `None` is unlimited (`-1` in the configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SizeLimits {
    pub nnodes: Option<Option<u64>>,
    pub ncores: Option<Option<u64>>,
    pub ngpus: Option<Option<u64>>,
}

/// One `policy` table: defaults and limits. A field left unset (`None`) falls back to
/// the general policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyTable {
    /// `jobspec.defaults.system.duration`, seconds.
    pub default_duration: Option<f64>,
    /// `limits.duration`, seconds; `Some(0.0)` is unlimited.
    pub duration_limit: Option<f64>,
    pub max: SizeLimits,
    pub min: SizeLimits,
}

/// One named queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueConf {
    /// Resource properties its jobs require (ANDed).
    pub requires: Vec<String>,
    pub policy: PolicyTable,
}

/// The instance's queues and policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    /// Named queues; none means the single anonymous queue.
    pub queues: BTreeMap<String, QueueConf>,
    /// `policy.jobspec.defaults.system.queue`.
    pub default_queue: Option<String>,
    pub general: PolicyTable,
}

impl Policy {
    /// Read `[queues]` and `[policy]` from the configuration.
    pub fn from_conf(conf: &Conf) -> Result<Policy, PolicyError> {
        let general = match conf.get("policy") {
            Some(table) => policy_table("policy", table)?,
            None => PolicyTable::default(),
        };
        let default_queue = match conf.get("policy.jobspec.defaults.system.queue") {
            None => None,
            Some(Value::String(q)) => Some(q.clone()),
            Some(_) => {
                return Err(invalid(
                    "policy.jobspec.defaults.system.queue",
                    "not a string",
                ));
            }
        };
        let mut queues = BTreeMap::new();
        match conf.get("queues") {
            None => {}
            Some(Value::Object(map)) => {
                for (name, table) in map {
                    queues.insert(name.clone(), queue_conf(name, table)?);
                }
            }
            Some(_) => return Err(invalid("queues", "not a table")),
        }
        if let Some(q) = &default_queue
            && !queues.contains_key(q)
        {
            return Err(PolicyError::DefaultQueue(q.clone()));
        }
        Ok(Policy {
            queues,
            default_queue,
            general,
        })
    }

    /// Whether named queues are configured.
    pub fn named(&self) -> bool {
        !self.queues.is_empty()
    }

    /// The queue's default duration and duration limit (seconds, 0 = none), its
    /// policy over the general one.
    pub fn duration_of(&self, queue: Option<&str>) -> (f64, f64) {
        let table = queue.and_then(|q| self.queues.get(q)).map(|q| &q.policy);
        let pick = |f: fn(&PolicyTable) -> Option<f64>| {
            table.and_then(f).or(f(&self.general)).unwrap_or(0.0)
        };
        (pick(|t| t.default_duration), pick(|t| t.duration_limit))
    }

    /// Give a submission its queue and defaults, add its queue's constraints, and check
    /// it against the limits. The error is what the submitter is told.
    pub fn apply(&self, jobspec: &mut Jobspec) -> Result<(), String> {
        let queue = match (jobspec.queue().map(str::to_string), self.named()) {
            (Some(q), false) => {
                return Err(format!(
                    "queue '{q}' does not exist: no queues are configured"
                ));
            }
            (Some(q), true) if !self.queues.contains_key(&q) => {
                return Err(format!("queue '{q}' does not exist"));
            }
            (Some(q), true) => Some(q),
            (None, true) => match &self.default_queue {
                Some(q) => Some(q.clone()),
                None => return Err("no queue specified and no default queue is configured".into()),
            },
            (None, false) => None,
        };
        let conf = queue.as_deref().and_then(|q| self.queues.get(q));
        if let (Some(name), Some(conf)) = (&queue, conf) {
            jobspec.attributes.system.queue = Some(name.clone());
            jobspec.require_properties(&conf.requires);
        }
        let (default_duration, limit) = self.duration_of(queue.as_deref());
        if jobspec.duration() == 0.0 && default_duration > 0.0 {
            jobspec.attributes.system.duration =
                JobDuration::from_secs(default_duration).map_err(|e| e.to_string())?;
        }
        let duration = jobspec.duration();
        if limit > 0.0 && (duration == 0.0 || duration > limit) {
            return Err(format!(
                "duration {} exceeds the limit of {}{}",
                if duration == 0.0 {
                    "unlimited".to_string()
                } else {
                    fsd_text(duration)
                },
                fsd_text(limit),
                queue_suffix(&queue)
            ));
        }
        self.check_size(jobspec, conf.map(|c| &c.policy), &queue)
    }

    fn check_size(
        &self,
        jobspec: &Jobspec,
        queue_table: Option<&PolicyTable>,
        queue: &Option<String>,
    ) -> Result<(), String> {
        let nnodes = jobspec.nnodes();
        let nslots = jobspec.nslots();
        let counts = [
            ("nnodes", nnodes),
            ("ncores", Some(nslots * jobspec.cores_per_slot())),
            ("ngpus", Some(nslots * jobspec.gpus_per_slot())),
        ];
        let limit = |which: fn(&PolicyTable) -> &SizeLimits, i: usize| {
            let get = |l: &SizeLimits| [l.nnodes, l.ncores, l.ngpus][i];
            queue_table
                .and_then(|t| get(which(t)))
                .or_else(|| get(which(&self.general)))
                .flatten()
        };
        for (i, (name, count)) in counts.into_iter().enumerate() {
            let Some(count) = count else { continue };
            if let Some(max) = limit(|t| &t.max, i)
                && count > max
            {
                return Err(format!(
                    "requested {name} ({count}) exceeds the limit of {max}{}",
                    queue_suffix(queue)
                ));
            }
            if let Some(min) = limit(|t| &t.min, i)
                && count < min
            {
                return Err(format!(
                    "requested {name} ({count}) is below the minimum of {min}{}",
                    queue_suffix(queue)
                ));
            }
        }
        Ok(())
    }
}

fn fsd_text(secs: f64) -> String {
    fsd::format(secs).unwrap_or_else(|_| format!("{secs}s"))
}

fn queue_suffix(queue: &Option<String>) -> String {
    queue
        .as_ref()
        .map(|q| format!(" for queue {q}"))
        .unwrap_or_default()
}

fn queue_conf(name: &str, table: &Value) -> Result<QueueConf, PolicyError> {
    let key = format!("queues.{name}");
    if !table.is_object() {
        return Err(invalid(&key, "not a table"));
    }
    let requires = match table.get("requires") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(&format!("{key}.requires"), "not an array of strings"))?,
        Some(_) => return Err(invalid(&format!("{key}.requires"), "not an array")),
    };
    let policy = match table.get("policy") {
        Some(p) => policy_table(&format!("{key}.policy"), p)?,
        None => PolicyTable::default(),
    };
    Ok(QueueConf { requires, policy })
}

fn policy_table(key: &str, table: &Value) -> Result<PolicyTable, PolicyError> {
    let duration = |path: &str| -> Result<Option<f64>, PolicyError> {
        let full = format!("{key}.{path}");
        let value = path.split('.').try_fold(table, |v, part| v.get(part));
        let secs = match value {
            None => return Ok(None),
            Some(Value::String(s)) => fsd::parse(s).map_err(|e| invalid(&full, e.to_string()))?,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(-1.0),
            Some(_) => return Err(invalid(&full, "not a duration")),
        };
        if secs < 0.0 || secs.is_nan() {
            return Err(invalid(&full, "a duration must not be negative"));
        }
        Ok(Some(secs))
    };
    let size = |bound: &str| -> Result<SizeLimits, PolicyError> {
        let get = |what: &str| -> Result<Option<Option<u64>>, PolicyError> {
            let full = format!("{key}.limits.job-size.{bound}.{what}");
            let value = table
                .get("limits")
                .and_then(|l| l.get("job-size"))
                .and_then(|j| j.get(bound))
                .and_then(|b| b.get(what));
            match value {
                None => Ok(None),
                Some(v) => match v.as_i64() {
                    Some(-1) => Ok(Some(None)),
                    Some(n) if n >= 0 => Ok(Some(Some(n as u64))),
                    _ => Err(invalid(&full, "expected an integer, -1 for unlimited")),
                },
            }
        };
        Ok(SizeLimits {
            nnodes: get("nnodes")?,
            ncores: get("ncores")?,
            ngpus: get("ngpus")?,
        })
    };
    Ok(PolicyTable {
        default_duration: duration("jobspec.defaults.system.duration")?,
        duration_limit: duration("limits.duration")?,
        max: size("max")?,
        min: size("min")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flux_proto::types::jobspec::JobspecBuilder;
    use serde_json::json;

    fn policy(conf: Value) -> Result<Policy, PolicyError> {
        Policy::from_conf(&Conf::from_json(conf).unwrap())
    }

    fn site() -> Policy {
        policy(json!({
            "queues": {
                "debug": {"requires": ["debug"], "policy": {"limits": {"duration": "30m"}}},
                "batch": {"requires": ["batch"]},
            },
            "policy": {
                "jobspec": {"defaults": {"system": {"duration": "1h", "queue": "batch"}}},
                "limits": {"duration": "4h", "job-size": {"max": {"nnodes": 2}}},
            },
        }))
        .unwrap()
    }

    fn job(nodes: Option<u64>, queue: Option<&str>, duration: f64) -> Jobspec {
        let mut b = JobspecBuilder::new(["true"]).ntasks(nodes.unwrap_or(1));
        if let Some(n) = nodes {
            b = b.nodes(n);
        }
        let mut spec = b.build().unwrap();
        spec.attributes.system.queue = queue.map(str::to_string);
        spec.attributes.system.duration = JobDuration::from_secs(duration).unwrap();
        spec
    }

    #[test]
    fn defaults_fill_in_the_queue_its_constraints_and_the_duration() {
        let p = site();
        let mut spec = job(None, None, 0.0);
        p.apply(&mut spec).unwrap();
        assert_eq!(spec.queue(), Some("batch"));
        assert_eq!(spec.duration(), 3600.0);
        assert_eq!(
            spec.get_attribute("system.constraints"),
            Some(json!({"properties": ["batch"]}))
        );
        let mut spec = job(None, Some("debug"), 60.0);
        spec.attributes.system.constraints = Some(json!({"properties": ["fast"]}));
        p.apply(&mut spec).unwrap();
        assert_eq!(
            spec.get_attribute("system.constraints"),
            Some(json!({"properties": ["fast", "debug"]}))
        );
        assert_eq!(spec.duration(), 60.0);
    }

    #[test]
    fn limits_per_queue_override_the_general_ones() {
        let p = site();
        let err = p.apply(&mut job(None, Some("debug"), 3600.0)).unwrap_err();
        assert_eq!(err, "duration 1h exceeds the limit of 30m for queue debug");
        assert!(p.apply(&mut job(None, Some("batch"), 3600.0 * 3.0)).is_ok());
        let err = p
            .apply(&mut job(None, Some("batch"), 3600.0 * 5.0))
            .unwrap_err();
        assert!(err.contains("exceeds the limit of 4h"), "{err}");
        let err = p.apply(&mut job(Some(3), None, 60.0)).unwrap_err();
        assert_eq!(
            err,
            "requested nnodes (3) exceeds the limit of 2 for queue batch"
        );
        assert!(p.apply(&mut job(Some(2), None, 60.0)).is_ok());
    }

    #[test]
    fn unknown_or_missing_queues_are_refused() {
        let p = site();
        assert_eq!(
            p.apply(&mut job(None, Some("gpu"), 0.0)).unwrap_err(),
            "queue 'gpu' does not exist"
        );
        let mut no_default = site();
        no_default.default_queue = None;
        assert_eq!(
            no_default.apply(&mut job(None, None, 0.0)).unwrap_err(),
            "no queue specified and no default queue is configured"
        );
        let anonymous = Policy::default();
        assert!(anonymous.apply(&mut job(None, None, 0.0)).is_ok());
        assert!(
            anonymous
                .apply(&mut job(None, Some("x"), 0.0))
                .unwrap_err()
                .contains("no queues are configured")
        );
    }

    #[test]
    fn bad_configurations_say_which_key() {
        let err = policy(json!({"queues": {"a": {"requires": "x"}}})).unwrap_err();
        assert_eq!(err.to_string(), "config: queues.a.requires: not an array");
        let err = policy(json!({"policy": {"limits": {"duration": -5}}})).unwrap_err();
        assert!(err.to_string().contains("must not be negative"), "{err}");
        let err = policy(json!({"policy": {"limits": {"duration": "soon"}}})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("config: policy.limits.duration:"),
            "{err}"
        );
        let err = policy(json!({
            "queues": {"a": {}},
            "policy": {"jobspec": {"defaults": {"system": {"queue": "b"}}}},
        }))
        .unwrap_err();
        assert_eq!(err, PolicyError::DefaultQueue("b".into()));
        let err = policy(json!({"policy": {"limits": {"job-size": {"max": {"ncores": -3}}}}}))
            .unwrap_err();
        assert!(err.to_string().contains("job-size.max.ncores"), "{err}");
    }
}
