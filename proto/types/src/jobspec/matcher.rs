//! RFC 31 constraints evaluated against execution targets: which nodes a job that says
//! `--requires=...` may be given.
//!
//! A constraint is a JSON object with one operator: `properties` (every listed property,
//! `^name` for its absence), `hostlist` (the node's hostname is in one of the hostlists),
//! `ranks` (its rank is in one of the idsets), or `and`/`or`/`not` over nested
//! constraints (`not` negates the AND of its list), as flux-core's sched-simple matches them.

use serde_json::Value;

use super::JobspecError;
use crate::{Hostlist, IdSet};

/// A parsed, validated constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// Every term holds: (property, wanted present).
    Properties(Vec<(String, bool)>),
    /// The hostname is in one of these.
    Hostlist(Vec<Hostlist>),
    /// The rank is in one of these.
    Ranks(Vec<IdSet>),
    /// All hold (also the empty constraint `{}`).
    And(Vec<Constraint>),
    /// One holds.
    Or(Vec<Constraint>),
    /// Not all hold.
    Not(Vec<Constraint>),
}

/// What a constraint is matched against: one node.
pub trait Target {
    /// The node's rank.
    fn rank(&self) -> u32;
    /// Its hostname, if known.
    fn hostname(&self) -> Option<&str>;
    /// Whether it has a property.
    fn has_property(&self, name: &str) -> bool;
}

fn bad(msg: String) -> JobspecError {
    JobspecError::Constraint(msg)
}

fn strings<'a>(op: &str, v: &'a Value) -> Result<Vec<&'a str>, JobspecError> {
    v.as_array()
        .ok_or_else(|| bad(format!("{op} operator argument must be an array")))?
        .iter()
        .map(|s| {
            s.as_str()
                .ok_or_else(|| bad(format!("non-string {op} value {s}")))
        })
        .collect()
}

impl Constraint {
    /// Parse RFC 31 JSON (what `jobspec.attributes.system.constraints` holds).
    pub fn parse(v: &Value) -> Result<Constraint, JobspecError> {
        let obj = v
            .as_object()
            .ok_or_else(|| bad(format!("constraint must be an object, not {v}")))?;
        if obj.is_empty() {
            return Ok(Constraint::And(Vec::new()));
        }
        if obj.len() > 1 {
            return Err(bad(format!("constraint must have one operator: {v}")));
        }
        let (op, arg) = obj.iter().next().expect("one entry");
        let nested = |arg: &Value| -> Result<Vec<Constraint>, JobspecError> {
            arg.as_array()
                .ok_or_else(|| bad(format!("{op} operator argument must be an array")))?
                .iter()
                .map(Constraint::parse)
                .collect()
        };
        Ok(match op.as_str() {
            "properties" => Constraint::Properties(
                strings(op, arg)?
                    .into_iter()
                    .map(|p| match p.strip_prefix('^') {
                        Some(name) => (name.to_string(), false),
                        None => (p.to_string(), true),
                    })
                    .collect(),
            ),
            "hostlist" => Constraint::Hostlist(
                strings(op, arg)?
                    .into_iter()
                    .map(|h| {
                        Hostlist::parse(h).map_err(|e| bad(format!("invalid hostlist '{h}': {e}")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            "ranks" => Constraint::Ranks(
                strings(op, arg)?
                    .into_iter()
                    .map(|r| IdSet::parse(r).map_err(|e| bad(format!("invalid idset '{r}': {e}"))))
                    .collect::<Result<_, _>>()?,
            ),
            "and" => Constraint::And(nested(arg)?),
            "or" => Constraint::Or(nested(arg)?),
            "not" => Constraint::Not(nested(arg)?),
            other => return Err(bad(format!("unknown constraint operator '{other}'"))),
        })
    }

    /// Whether `node` satisfies the constraint.
    pub fn matches(&self, node: &impl Target) -> bool {
        match self {
            Constraint::Properties(terms) => terms
                .iter()
                .all(|(name, present)| node.has_property(name) == *present),
            Constraint::Hostlist(lists) => node
                .hostname()
                .is_some_and(|h| lists.iter().any(|l| l.contains(h))),
            Constraint::Ranks(sets) => sets.iter().any(|s| s.contains(node.rank())),
            Constraint::And(all) => all.iter().all(|c| c.matches(node)),
            Constraint::Or(any) => any.iter().any(|c| c.matches(node)),
            Constraint::Not(all) => !all.iter().all(|c| c.matches(node)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jobspec::parse_constraint;

    struct Node {
        rank: u32,
        host: &'static str,
        props: &'static [&'static str],
    }

    impl Target for Node {
        fn rank(&self) -> u32 {
            self.rank
        }
        fn hostname(&self) -> Option<&str> {
            Some(self.host)
        }
        fn has_property(&self, name: &str) -> bool {
            self.props.contains(&name)
        }
    }

    const NODES: [Node; 4] = [
        Node {
            rank: 0,
            host: "node0",
            props: &["login"],
        },
        Node {
            rank: 1,
            host: "node1",
            props: &["gpu"],
        },
        Node {
            rank: 2,
            host: "node2",
            props: &["gpu", "big"],
        },
        Node {
            rank: 3,
            host: "node3",
            props: &[],
        },
    ];

    /// The ranks of NODES matching an RFC 35 query.
    fn select(query: &str) -> Vec<u32> {
        let c = Constraint::parse(&parse_constraint(query).unwrap()).unwrap();
        NODES
            .iter()
            .filter(|n| c.matches(*n))
            .map(|n| n.rank)
            .collect()
    }

    #[test]
    fn operators_select_nodes() {
        assert_eq!(select("gpu"), [1, 2]);
        assert_eq!(select("gpu,big"), [2]);
        assert_eq!(select("^gpu"), [0, 3]);
        assert_eq!(select("host:node[1-2,9]"), [1, 2]);
        assert_eq!(select("rank:0,3"), [0, 3]);
        assert_eq!(select("gpu or login"), [0, 1, 2]);
        assert_eq!(select("not gpu"), [0, 3]);
        assert_eq!(select("host:node[0-2] and not big"), [0, 1]);
        assert_eq!(select("-rank:0-2"), [3]);
    }

    #[test]
    fn empty_constraint_matches_everything() {
        let c = Constraint::parse(&json!({})).unwrap();
        assert!(NODES.iter().all(|n| c.matches(n)));
    }

    #[test]
    fn malformed_constraints_are_errors() {
        for v in [
            json!([]),
            json!({"color": ["red"]}),
            json!({"properties": "gpu"}),
            json!({"ranks": ["x-y"]}),
            json!({"hostlist": ["node[1-"]}),
            json!({"and": [{"properties": ["a"]}], "or": []}),
            json!({"and": [3]}),
        ] {
            assert!(Constraint::parse(&v).is_err(), "{v}");
        }
    }
}
