//! RFC 31 job constraints (`attributes.system.constraints`), matched against `node`
//! vertices: properties, hostlist, ranks, and the `and`/`or`/`not` combinators.

use serde_yaml::Value;

use super::invalid;
use crate::error::JobspecError;
use crate::graph::Vertex;

/// A constraint tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// Every entry must hold (`^name` means the property must be absent).
    Properties(Vec<String>),
    /// The vertex name is in one of the hostlists.
    Hostlist(Vec<String>),
    /// The vertex rank is in one of the idsets.
    Ranks(Vec<i64>),
    /// All hold.
    And(Vec<Constraint>),
    /// One holds.
    Or(Vec<Constraint>),
    /// The conjunction does not hold.
    Not(Vec<Constraint>),
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, JobspecError> {
    let seq = v
        .as_sequence()
        .ok_or_else(|| invalid(format!("{what} must be a sequence")))?;
    seq.iter()
        .map(|x| match x {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(invalid(format!("{what} entries must be strings"))),
        })
        .collect()
}

impl Constraint {
    /// Parses a constraint object; several keys in one object are and-ed.
    pub fn parse(v: &Value) -> Result<Self, JobspecError> {
        let m = v
            .as_mapping()
            .ok_or_else(|| invalid("constraint must be a mapping"))?;
        let mut parts = Vec::new();
        for (k, val) in m {
            let list = |val: &Value| -> Result<Vec<Constraint>, JobspecError> {
                let seq = val
                    .as_sequence()
                    .ok_or_else(|| invalid("constraint operands must be a sequence"))?;
                seq.iter().map(Constraint::parse).collect()
            };
            parts.push(match k.as_str() {
                Some("properties") => Constraint::Properties(strings(val, "properties")?),
                Some("hostlist") => {
                    let mut hosts = Vec::new();
                    for h in strings(val, "hostlist")? {
                        hosts.extend(
                            crate::readers::decode_hostlist(&h)
                                .map_err(|e| invalid(e.to_string()))?,
                        );
                    }
                    Constraint::Hostlist(hosts)
                }
                Some("ranks") => {
                    let mut ranks = Vec::new();
                    for r in strings(val, "ranks")? {
                        ranks.extend(
                            crate::readers::decode_idset(&r).map_err(|e| invalid(e.to_string()))?,
                        );
                    }
                    Constraint::Ranks(ranks)
                }
                Some("and") => Constraint::And(list(val)?),
                Some("or") => Constraint::Or(list(val)?),
                Some("not") => Constraint::Not(list(val)?),
                other => return Err(invalid(format!("unknown constraint operator {other:?}"))),
            });
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Constraint::And(parts)
        })
    }

    /// Whether vertex `v` satisfies the constraint.
    pub fn matches(&self, v: &Vertex) -> bool {
        match self {
            Constraint::Properties(ps) => ps.iter().all(|p| match p.strip_prefix('^') {
                Some(name) => !v.properties.contains_key(name),
                None => v.properties.contains_key(p),
            }),
            Constraint::Hostlist(hosts) => hosts.contains(&v.name),
            Constraint::Ranks(ranks) => ranks.contains(&v.rank),
            Constraint::And(cs) => cs.iter().all(|c| c.matches(v)),
            Constraint::Or(cs) => cs.iter().any(|c| c.matches(v)),
            Constraint::Not(cs) => !cs.iter().all(|c| c.matches(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Status, TypeId};

    fn node(name: &str, rank: i64, props: &[&str]) -> Vertex {
        Vertex {
            ty: TypeId(0),
            basename: "node".into(),
            name: name.into(),
            id: rank,
            uniq_id: rank,
            rank,
            size: 1,
            unit: String::new(),
            properties: props
                .iter()
                .map(|p| (p.to_string(), String::new()))
                .collect(),
            paths: Default::default(),
            status: Status::Up,
        }
    }

    #[test]
    fn rfc31_operators() {
        let c = Constraint::parse(
            &serde_yaml::from_str(
                "or: [{properties: [gpu, ^debug]}, {hostlist: ['n[5-6]']}, {ranks: ['9']}]",
            )
            .unwrap(),
        )
        .unwrap();
        assert!(c.matches(&node("n1", 1, &["gpu"])));
        assert!(!c.matches(&node("n1", 1, &["gpu", "debug"])));
        assert!(c.matches(&node("n6", 6, &[])));
        assert!(c.matches(&node("x", 9, &[])));
        assert!(!c.matches(&node("x", 8, &[])));
        let not =
            Constraint::parse(&serde_yaml::from_str("not: [{ranks: ['0-3']}]").unwrap()).unwrap();
        assert!(!not.matches(&node("x", 2, &[])) && not.matches(&node("x", 4, &[])));
        assert!(Constraint::parse(&serde_yaml::from_str("bogus: []").unwrap()).is_err());
    }
}
