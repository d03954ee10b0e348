//! Match policies: how candidate resources are scored and ordered.
//!
//! The id-based policies (high/low and their node-centric and node-exclusive variants,
//! and `first`) score a vertex as `MATCH_MET + multilevel + id + 1`; node-centric ones add
//! a per-node factor while inside that node's subtree so that node choice outranks ids.

mod sort;

pub use sort::introsort;

use crate::error::ConfigError;

/// Score of an unmet match.
pub const MATCH_UNMET: i64 = 0;
/// Base score of a met match.
pub const MATCH_MET: i64 = 1;

/// Which end of the id space a policy prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// Higher scores first (fold::greater).
    High,
    /// Lower scores first (fold::less).
    Low,
}

impl Preference {
    /// Whether score `a` sorts before `b`.
    pub fn better(self, a: i64, b: i64) -> bool {
        match self {
            Preference::High => a > b,
            Preference::Low => a < b,
        }
    }
}

/// A match policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchPolicy {
    /// Comparator direction.
    pub preference: Preference,
    /// Add the node factor to scores below a node.
    pub node_centric: bool,
    /// Register `node` as an exclusive type (whole nodes are allocated).
    pub node_exclusive: bool,
    /// Stop exploring once enough has been found (dynamic child order).
    pub stop_on_1_matches: bool,
    /// Variation-aware scoring: `MATCH_MET + perf_class`, lower classes first.
    pub variation: bool,
    /// Locality: at the top level prefer candidates in the highest contiguous score run.
    pub locality: bool,
}

impl Default for MatchPolicy {
    /// `first`, the default of resource-query and the broker module.
    fn default() -> Self {
        Self {
            preference: Preference::High,
            node_centric: true,
            node_exclusive: false,
            stop_on_1_matches: true,
            variation: false,
            locality: false,
        }
    }
}

impl MatchPolicy {
    /// Builds a policy from a built-in name or a `key=value ...` string.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let base = |p, nc, nx, s1| Self {
            preference: p,
            node_centric: nc,
            node_exclusive: nx,
            stop_on_1_matches: s1,
            variation: false,
            locality: false,
        };
        use Preference::{High, Low};
        Ok(match spec {
            "first" => base(High, true, false, true),
            "firstnodex" => base(High, true, true, true),
            "high" => base(High, false, false, false),
            "low" => base(Low, false, false, false),
            "hinode" => base(High, true, false, false),
            "lonode" => base(Low, true, false, false),
            "hinodex" => base(High, true, true, false),
            "lonodex" => base(Low, true, true, false),
            "locality" => Self {
                locality: true,
                ..base(High, false, false, false)
            },
            "variation" => Self {
                variation: true,
                ..base(Low, false, false, false)
            },
            custom if custom.contains('=') => Self::parse_custom(custom)?,
            other => return Err(ConfigError::UnknownPolicy(other.to_string())),
        })
    }

    fn parse_custom(spec: &str) -> Result<Self, ConfigError> {
        let mut p = Self {
            preference: Preference::High,
            node_centric: false,
            node_exclusive: false,
            stop_on_1_matches: false,
            variation: false,
            locality: false,
        };
        let bad = || ConfigError::UnknownPolicy(spec.to_string());
        for kv in spec.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or_else(bad)?;
            let flag = || match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad()),
            };
            match k {
                "policy" => {
                    p.preference = match v {
                        "high" => Preference::High,
                        "low" => Preference::Low,
                        _ => return Err(bad()),
                    }
                }
                "node_centric" => p.node_centric = flag()?,
                "node_exclusive" => p.node_exclusive = flag()?,
                "stop_on_1_matches" | "set_stop_on_1_matches" => p.stop_on_1_matches = flag()?,
                _ => return Err(bad()),
            }
        }
        Ok(p)
    }

    /// Whether edge group score `a` sorts before `b`.
    pub fn better(&self, a: i64, b: i64) -> bool {
        self.preference.better(a, b)
    }

    /// Comparator used when packing slots (the variation policy packs high first).
    pub fn slot_preference(&self) -> Preference {
        if self.variation {
            Preference::High
        } else {
            self.preference
        }
    }

    /// The `perf_class` of a vertex for the variation policy: 0..=9999, 9999 when
    /// missing or invalid (parsed like `std::stoi`).
    pub fn perf_class(properties: &std::collections::BTreeMap<String, String>) -> i64 {
        let Some(raw) = properties.get("perf_class") else {
            return 9999;
        };
        let t = raw.trim_start();
        let (sign, digits) = match t.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, t.strip_prefix('+').unwrap_or(t)),
        };
        let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<i64>() {
            Ok(n) if (0..=9999).contains(&(sign * n)) => sign * n,
            _ => 9999,
        }
    }

    /// Locality comparator data: each score mapped to the contiguous run of scores
    /// (closed integer intervals joined when adjacent) that contains it.
    pub fn score_runs(scores: &[i64]) -> Vec<(i64, i64)> {
        let mut v = scores.to_vec();
        v.sort_unstable();
        v.dedup();
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for s in v {
            match runs.last_mut() {
                Some((_, hi)) if *hi + 1 == s => *hi = s,
                _ => runs.push((s, s)),
            }
        }
        runs
    }

    /// The run of `runs` that contains `score` ((score, score) if none does).
    pub fn run_of(runs: &[(i64, i64)], score: i64) -> (i64, i64) {
        let i = runs.partition_point(|(lo, _)| *lo <= score);
        match i.checked_sub(1).map(|j| runs[j]) {
            Some((lo, hi)) if score <= hi => (lo, hi),
            _ => (score, score),
        }
    }

    /// The node factor `((id + 1) + 1) * 10000 + |uniq_id % 10000 - 1|` of a node vertex.
    pub fn node_factor(id: i64, uniq_id: i64) -> i64 {
        (id + 1 + 1) * 10000 + (uniq_id % 10000 - 1).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_and_custom_policies_agree() {
        let hinodex = MatchPolicy::parse("hinodex").unwrap();
        let custom =
            MatchPolicy::parse("policy=high node_centric=true node_exclusive=true").unwrap();
        assert_eq!(hinodex, custom);
        let first = MatchPolicy::parse("first").unwrap();
        assert!(first.stop_on_1_matches && first.node_centric);
        assert!(MatchPolicy::parse("bogus").is_err());
        assert!(MatchPolicy::parse("policy=middle").is_err());
        assert_eq!(
            MatchPolicy::score_runs(&[5, 3, 4, 9, 10, 1]),
            vec![(1, 1), (3, 5), (9, 10)]
        );
        let runs = MatchPolicy::score_runs(&[3, 4, 9]);
        assert_eq!(MatchPolicy::run_of(&runs, 4), (3, 4));
        assert_eq!(MatchPolicy::run_of(&runs, 7), (7, 7));
        assert!(MatchPolicy::parse("locality").unwrap().locality);
        let var = MatchPolicy::parse("variation").unwrap();
        assert!(var.variation && var.better(1, 2));
        assert_eq!(var.slot_preference(), Preference::High);
    }

    #[test]
    fn comparators_and_factor() {
        let low = MatchPolicy::parse("low").unwrap();
        assert!(low.better(1, 2));
        assert!(MatchPolicy::parse("high").unwrap().better(2, 1));
        assert_eq!(MatchPolicy::node_factor(1, 3), 30002);
        assert_eq!(MatchPolicy::node_factor(0, 0), 20001);
        let props = |v: &str| {
            [("perf_class".to_string(), v.to_string())]
                .into_iter()
                .collect()
        };
        assert_eq!(MatchPolicy::perf_class(&props("12abc")), 12);
        assert_eq!(MatchPolicy::perf_class(&props("-1")), 9999);
        assert_eq!(MatchPolicy::perf_class(&props("x")), 9999);
        assert_eq!(MatchPolicy::perf_class(&Default::default()), 9999);
    }
}
