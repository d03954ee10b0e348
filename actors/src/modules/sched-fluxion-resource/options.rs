//! Options of `sched-fluxion-resource` (`flux module load sched-fluxion-resource KEY=VAL`).

use std::path::PathBuf;

use flux_fluxion::policy::MatchPolicy;
use flux_fluxion::traverser::{PruneFilters, TraverserConfig};
use thiserror::Error;

use crate::modules::ModuleArgs;

/// Why the module refuses its options.
#[derive(Debug, Error, PartialEq)]
pub enum OptionsError {
    /// A policy name or `key=value` policy string the matcher does not know.
    #[error("unknown match policy '{0}'")]
    Policy(String),
    /// A malformed `prune-filters` spec.
    #[error("invalid prune-filters '{0}' (expected HL:LL[,HL:LL...])")]
    PruneFilters(String),
    /// An unsupported `load-format`.
    #[error("unsupported load-format '{0}' (expected rv1exec, rv1exec_force, jgf, grug or hwloc)")]
    LoadFormat(String),
    /// An unsupported `match-format`.
    #[error("unsupported match-format '{0}' (expected rv1_nosched or rv1)")]
    MatchFormat(String),
    /// A `subsystems` value other than containment.
    #[error("unsupported subsystems '{0}' (only containment is walked)")]
    Subsystems(String),
    /// An empty or malformed `load-allowlist`.
    #[error("invalid load-allowlist '{0}'")]
    Allowlist(String),
    /// An option the module does not have.
    #[error("unknown argument '{0}'")]
    Unknown(String),
}

/// How the graph is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadFormat {
    /// R's `scheduling` JGF when present, else R_lite (`rv1exec`), the default.
    #[default]
    Rv1exec,
    /// R_lite even when R has a `scheduling` key.
    Rv1execForce,
    /// A JGF document (only with `load-file`).
    Jgf,
    /// A GRUG GraphML recipe (only with `load-file`).
    Grug,
    /// One machine's hwloc XML topology, read as rank 0: `load-file`, else this machine's.
    Hwloc,
}

/// The module's configuration.
#[derive(Debug, Clone)]
pub struct ResourceOptions {
    /// Matcher configuration (policy, prune filters).
    pub traverser: TraverserConfig,
    /// The policy name as given (for `sched-fluxion-resource.info`).
    pub policy_name: String,
    /// Types kept in the graph (plus `cluster`); `None` keeps all.
    pub allowlist: Option<String>,
    /// Read the graph from this file instead of `resource.acquire`.
    pub load_file: Option<PathBuf>,
    /// How R (or `load_file`) is read.
    pub load_format: LoadFormat,
    /// Whether allocations carry the JGF `scheduling` key (`match-format=rv1`).
    pub with_scheduling: bool,
}

impl Default for ResourceOptions {
    fn default() -> Self {
        Self {
            traverser: TraverserConfig::default(),
            policy_name: "first".into(),
            allowlist: None,
            load_file: None,
            load_format: LoadFormat::default(),
            with_scheduling: false,
        }
    }
}

impl ResourceOptions {
    /// Parse the module arguments; every argument must be known.
    pub fn parse(mut args: ModuleArgs) -> Result<Self, OptionsError> {
        let mut o = ResourceOptions::default();
        let policy = args.take("policy");
        let match_policy = args.take("match-policy");
        if let Some(name) = match_policy.or(policy) {
            o.traverser.policy =
                MatchPolicy::parse(&name).map_err(|_| OptionsError::Policy(name.clone()))?;
            o.policy_name = name;
        } else {
            o.traverser.policy =
                MatchPolicy::parse("first").map_err(|_| OptionsError::Policy("first".into()))?;
        }
        if let Some(spec) = args.take("prune-filters") {
            PruneFilters::parse(&spec).map_err(|_| OptionsError::PruneFilters(spec.clone()))?;
            o.traverser.prune_filters = spec;
        }
        if let Some(s) = args.take("subsystems")
            && s != "containment"
        {
            return Err(OptionsError::Subsystems(s));
        }
        if let Some(list) = args.take("load-allowlist") {
            let types: Vec<&str> = list.split(',').map(str::trim).collect();
            if types
                .iter()
                .any(|t| t.is_empty() || t.contains(char::is_whitespace))
            {
                return Err(OptionsError::Allowlist(list));
            }
            o.allowlist = Some(list);
        }
        if let Some(f) = args.take("load-format") {
            o.load_format = match f.as_str() {
                "rv1exec" => LoadFormat::Rv1exec,
                "rv1exec_force" => LoadFormat::Rv1execForce,
                "jgf" => LoadFormat::Jgf,
                "grug" => LoadFormat::Grug,
                "hwloc" => LoadFormat::Hwloc,
                _ => return Err(OptionsError::LoadFormat(f)),
            };
        }
        if let Some(path) = args.take("load-file") {
            o.load_file = Some(PathBuf::from(path));
        }
        if let Some(f) = args.take("match-format") {
            o.with_scheduling = match f.as_str() {
                "rv1_nosched" => false,
                "rv1" => true,
                _ => return Err(OptionsError::MatchFormat(f)),
            };
        }
        if let Err(e) = args.finish("") {
            let key = e.rsplit('\'').nth(1).unwrap_or_default().to_string();
            return Err(OptionsError::Unknown(key));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<ResourceOptions, OptionsError> {
        ResourceOptions::parse(ModuleArgs::parse(words))
    }

    #[test]
    fn defaults_follow_flux_sched() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.policy_name, "first");
        assert_eq!(o.traverser.prune_filters, "ALL:core,ALL:node");
        assert_eq!(o.load_format, LoadFormat::Rv1exec);
        assert!(o.allowlist.is_none() && o.load_file.is_none() && !o.with_scheduling);
    }

    #[test]
    fn options_are_taken() {
        let o = parse(&[
            "load-allowlist=node,socket,core",
            "policy=lonodex",
            "prune-filters=ALL:core",
            "load-file=/tmp/r.json",
            "load-format=jgf",
            "match-format=rv1",
            "subsystems=containment",
        ])
        .unwrap();
        assert_eq!(o.allowlist.as_deref(), Some("node,socket,core"));
        assert!(o.traverser.policy.node_exclusive);
        assert_eq!(o.traverser.prune_filters, "ALL:core");
        assert_eq!(o.load_file, Some(PathBuf::from("/tmp/r.json")));
        assert_eq!(o.load_format, LoadFormat::Jgf);
        assert!(o.with_scheduling);
        let o = parse(&["load-format=hwloc", "load-file=/tmp/n.xml"]).unwrap();
        assert_eq!(o.load_format, LoadFormat::Hwloc);
        let o = parse(&["match-policy=policy=low"]).unwrap();
        assert_eq!(o.policy_name, "policy=low");
    }

    #[test]
    fn bad_options_are_refused() {
        assert_eq!(
            parse(&["policy=best"]).unwrap_err(),
            OptionsError::Policy("best".into())
        );
        assert!(matches!(
            parse(&["prune-filters=core"]),
            Err(OptionsError::PruneFilters(_))
        ));
        assert!(matches!(
            parse(&["load-format=xml"]),
            Err(OptionsError::LoadFormat(_))
        ));
        assert!(matches!(
            parse(&["match-format=jgf"]),
            Err(OptionsError::MatchFormat(_))
        ));
        assert!(matches!(
            parse(&["subsystems=power"]),
            Err(OptionsError::Subsystems(_))
        ));
        assert!(matches!(
            parse(&["load-allowlist=node,,core"]),
            Err(OptionsError::Allowlist(_))
        ));
        assert_eq!(
            parse(&["frobnicate=1"]).unwrap_err(),
            OptionsError::Unknown("frobnicate".into())
        );
    }
}
