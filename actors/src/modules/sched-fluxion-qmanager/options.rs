//! Options of `sched-fluxion-qmanager`: `queue-policy=`, `queue-params=`, `policy-params=`
//! (names and defaults as in flux-sched's `queue_system_defaults.hpp`).

use flux_fluxion::qmanager::{MAX_RESERVATION_DEPTH, QueueConfig, QueuePolicy};
use thiserror::Error;

use crate::modules::ModuleArgs;

/// Upper bound of `queue-depth` (`max-queue-depth`).
pub const MAX_QUEUE_DEPTH: usize = 1_000_000;

/// Why the module refuses its options.
#[derive(Debug, Error, PartialEq)]
pub enum OptionsError {
    /// Not one of fcfs, easy, hybrid, conservative.
    #[error("unknown queue-policy '{0}' (expected fcfs, easy, hybrid or conservative)")]
    Policy(String),
    /// A `key=value` list item without `=`, or an unknown key.
    #[error("invalid {param} item '{item}'")]
    Item {
        /// `queue-params` or `policy-params`.
        param: &'static str,
        /// The offending item.
        item: String,
    },
    /// A value that is not a positive integer within bounds.
    #[error("{key}={value}: expected an integer from 1 to {max}")]
    Value {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// The largest value allowed.
        max: usize,
    },
    /// An option the module does not have.
    #[error("unknown argument '{0}'")]
    Unknown(String),
    /// A per-queue setting for a queue the instance does not have.
    #[error("queue-policy-per-queue: queue '{0}' is not configured")]
    NoQueue(String),
}

/// The module's options: one configuration for every queue, and per-queue policies.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub config: QueueConfig,
    /// `queue-policy-per-queue="batch:easy debug:fcfs"`.
    pub policy_per_queue: Vec<(String, QueuePolicy)>,
}

impl Options {
    /// The configuration of each named queue (`names`, from the instance's `[queues]`);
    /// a per-queue policy for a queue that does not exist is an error.
    pub fn queues(&self, names: &[String]) -> Result<Vec<(String, QueueConfig)>, OptionsError> {
        if let Some((name, _)) = self
            .policy_per_queue
            .iter()
            .find(|(n, _)| !names.contains(n))
        {
            return Err(OptionsError::NoQueue(name.clone()));
        }
        Ok(names
            .iter()
            .map(|name| {
                let mut config = self.config;
                if let Some((_, p)) = self.policy_per_queue.iter().find(|(n, _)| n == name) {
                    config.policy = *p;
                }
                (name.clone(), config)
            })
            .collect())
    }
}

/// Parse the module arguments.
pub fn parse(mut args: ModuleArgs) -> Result<Options, OptionsError> {
    let mut policy_per_queue = Vec::new();
    if let Some(list) = args.take("queue-policy-per-queue") {
        for item in list.split([' ', ',']).filter(|s| !s.is_empty()) {
            let (name, p) = item.split_once(':').ok_or_else(|| OptionsError::Item {
                param: "queue-policy-per-queue",
                item: item.to_string(),
            })?;
            let policy = p.parse().map_err(|_| OptionsError::Policy(p.to_string()))?;
            policy_per_queue.push((name.to_string(), policy));
        }
    }
    Ok(Options {
        config: parse_config(args)?,
        policy_per_queue,
    })
}

/// The configuration every queue starts from.
fn parse_config(mut args: ModuleArgs) -> Result<QueueConfig, OptionsError> {
    let mut config = QueueConfig::default();
    if let Some(p) = args.take("queue-policy") {
        config.policy = p.parse().map_err(|_| OptionsError::Policy(p.clone()))?;
    }
    let mut max_queue_depth = MAX_QUEUE_DEPTH;
    let mut queue_depth = None;
    if let Some(list) = args.take("queue-params") {
        for (k, v) in items("queue-params", &list)? {
            match k {
                "queue-depth" => queue_depth = Some(number(k, v, MAX_QUEUE_DEPTH)?),
                "max-queue-depth" => max_queue_depth = number(k, v, MAX_QUEUE_DEPTH)?,
                _ => return Err(bad_item("queue-params", k, v)),
            }
        }
    }
    if let Some(depth) = queue_depth {
        config.queue_depth = depth.min(max_queue_depth);
    }
    let mut max_res = MAX_RESERVATION_DEPTH;
    let mut res_depth = None;
    if let Some(list) = args.take("policy-params") {
        for (k, v) in items("policy-params", &list)? {
            match k {
                "reservation-depth" => res_depth = Some(number(k, v, MAX_RESERVATION_DEPTH)?),
                "max-reservation-depth" => max_res = number(k, v, MAX_RESERVATION_DEPTH)?,
                _ => return Err(bad_item("policy-params", k, v)),
            }
        }
    }
    if let Some(depth) = res_depth {
        config.reservation_depth = depth.min(max_res);
    }
    if let Err(e) = args.finish("") {
        let key = e.rsplit('\'').nth(1).unwrap_or_default().to_string();
        return Err(OptionsError::Unknown(key));
    }
    Ok(config)
}

/// The name flux-sched uses for a policy.
pub fn policy_name(p: QueuePolicy) -> &'static str {
    match p {
        QueuePolicy::Fcfs => "fcfs",
        QueuePolicy::Easy => "easy",
        QueuePolicy::Hybrid => "hybrid",
        QueuePolicy::Conservative => "conservative",
    }
}

fn bad_item(param: &'static str, k: &str, v: &str) -> OptionsError {
    OptionsError::Item {
        param,
        item: format!("{k}={v}"),
    }
}

fn items<'a>(param: &'static str, list: &'a str) -> Result<Vec<(&'a str, &'a str)>, OptionsError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.split_once('=').ok_or_else(|| OptionsError::Item {
                param,
                item: item.to_string(),
            })
        })
        .collect()
}

fn number(key: &str, value: &str, max: usize) -> Result<usize, OptionsError> {
    match value.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(OptionsError::Value {
            key: key.to_string(),
            value: value.to_string(),
            max,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(words: &[&str]) -> Result<QueueConfig, OptionsError> {
        parse(ModuleArgs::parse(words)).map(|o| o.config)
    }

    #[test]
    fn policies_per_queue() {
        let o = parse(ModuleArgs::parse(&[
            "queue-policy=easy",
            "queue-policy-per-queue=debug:fcfs batch:conservative",
        ]))
        .unwrap();
        let names = ["batch".to_string(), "debug".into(), "gpu".into()];
        let queues = o.queues(&names).unwrap();
        let policies: Vec<_> = queues
            .iter()
            .map(|(n, c)| format!("{n}:{}", policy_name(c.policy)))
            .collect();
        assert_eq!(policies, ["batch:conservative", "debug:fcfs", "gpu:easy"]);
        assert_eq!(
            o.queues(&names[..1]).unwrap_err().to_string(),
            "queue-policy-per-queue: queue 'debug' is not configured"
        );
        let bad = parse(ModuleArgs::parse(&["queue-policy-per-queue=debug=fcfs"]));
        assert!(matches!(bad, Err(OptionsError::Item { .. })));
        let bad = parse(ModuleArgs::parse(&["queue-policy-per-queue=debug:lifo"]));
        assert_eq!(bad.unwrap_err(), OptionsError::Policy("lifo".into()));
    }

    #[test]
    fn defaults_are_fcfs_32() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.policy, QueuePolicy::Fcfs);
        assert_eq!((c.queue_depth, c.reservation_depth), (32, 64));
    }

    #[test]
    fn the_tutorial_options_parse() {
        let c = cfg(&["queue-params=queue-depth=4"]).unwrap();
        assert_eq!(c.queue_depth, 4);
        let c = cfg(&[
            "queue-policy=hybrid",
            "queue-params=queue-depth=100,max-queue-depth=50",
            "policy-params=reservation-depth=8",
        ])
        .unwrap();
        assert_eq!(c.policy, QueuePolicy::Hybrid);
        assert_eq!(c.queue_depth, 50, "capped at max-queue-depth");
        assert_eq!(c.effective_reservation_depth(), 8);
        for p in ["fcfs", "easy", "hybrid", "conservative"] {
            let c = cfg(&[&format!("queue-policy={p}")]).unwrap();
            assert_eq!(policy_name(c.policy), p);
        }
    }

    #[test]
    fn bad_options_are_refused_with_a_reason() {
        assert_eq!(
            cfg(&["queue-policy=lifo"]).unwrap_err().to_string(),
            "unknown queue-policy 'lifo' (expected fcfs, easy, hybrid or conservative)"
        );
        assert_eq!(
            cfg(&["queue-params=queue-depth"]).unwrap_err(),
            OptionsError::Item {
                param: "queue-params",
                item: "queue-depth".into()
            }
        );
        assert!(matches!(
            cfg(&["queue-params=depth=3"]),
            Err(OptionsError::Item { .. })
        ));
        assert!(matches!(
            cfg(&["queue-params=queue-depth=0"]),
            Err(OptionsError::Value { .. })
        ));
        assert!(matches!(
            cfg(&["policy-params=reservation-depth=-1"]),
            Err(OptionsError::Value { .. })
        ));
        assert_eq!(
            cfg(&["queue_policy=easy"]).unwrap_err(),
            OptionsError::Unknown("queue_policy".into())
        );
    }
}
