//! `find`: select the vertices matching a predicate expression, with their ancestors.
//!
//! Grammar: `expr := term ("or" term)*`, `term := atom ("and" atom)*`,
//! `atom := "(" expr ")" | key=value`; juxtaposition means `and`. Keys: `status`, `sched-now`, `sched-future`,
//! `property`, `names`, `jobid-alloc`, `jobid-reserved`, `jobid-tag`, `jobid-span`,
//! `agfilter` (accepted, no effect on selection).

use super::{Traverser, update::Emitted};
use crate::error::MatchError;
use crate::graph::{Status, VertexId};

/// A parsed find expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindExpr {
    /// `key=value`.
    Pred(String, String),
    /// Both hold.
    And(Box<FindExpr>, Box<FindExpr>),
    /// Either holds.
    Or(Box<FindExpr>, Box<FindExpr>),
}

fn tokens(s: &str) -> Vec<String> {
    s.replace('(', " ( ")
        .replace(')', " ) ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

struct Parser {
    toks: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }

    fn expr(&mut self) -> Result<FindExpr, MatchError> {
        let mut left = self.term()?;
        while self.peek() == Some("or") {
            self.pos += 1;
            left = FindExpr::Or(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<FindExpr, MatchError> {
        let mut left = self.atom()?;
        // Juxtaposed predicates (`jobid-alloc=1 agfilter=t`) also mean "and".
        while !matches!(self.peek(), None | Some("or") | Some(")")) {
            if self.peek() == Some("and") {
                self.pos += 1;
            }
            left = FindExpr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<FindExpr, MatchError> {
        let bad = |m: &str| MatchError::Invalid(format!("invalid find expression: {m}"));
        let tok = self
            .peek()
            .ok_or_else(|| bad("unexpected end"))?
            .to_string();
        self.pos += 1;
        if tok == "(" {
            let e = self.expr()?;
            if self.peek() != Some(")") {
                return Err(bad("missing )"));
            }
            self.pos += 1;
            return Ok(e);
        }
        let (k, v) = tok.split_once('=').ok_or_else(|| bad(&tok))?;
        const KEYS: &[&str] = &[
            "status",
            "sched-now",
            "sched-future",
            "property",
            "names",
            "jobid-alloc",
            "jobid-reserved",
            "jobid-tag",
            "jobid-span",
            "agfilter",
        ];
        if !KEYS.contains(&k) {
            return Err(bad(k));
        }
        Ok(FindExpr::Pred(k.to_string(), v.to_string()))
    }
}

impl FindExpr {
    /// Parses an expression.
    pub fn parse(s: &str) -> Result<Self, MatchError> {
        let mut p = Parser {
            toks: tokens(s),
            pos: 0,
        };
        let e = p.expr()?;
        if p.pos != p.toks.len() {
            return Err(MatchError::Invalid(format!("invalid find expression: {s}")));
        }
        Ok(e)
    }
}

impl Traverser {
    fn eval(&self, e: &FindExpr, u: VertexId) -> bool {
        let v = self.graph.vertex(u);
        let vs = &self.vs[u.idx()];
        let job = |s: &str| s.parse::<i64>().unwrap_or(i64::MIN);
        match e {
            FindExpr::And(a, b) => self.eval(a, u) && self.eval(b, u),
            FindExpr::Or(a, b) => self.eval(a, u) || self.eval(b, u),
            FindExpr::Pred(k, val) => match (k.as_str(), val.as_str()) {
                ("status", "up") => v.status == Status::Up,
                ("status", "down") => v.status == Status::Down,
                ("sched-now", "allocated") => !vs.jobs().allocations.is_empty(),
                ("sched-now", "free") => vs.jobs().allocations.is_empty(),
                ("sched-future", "reserved") => !vs.jobs().reservations.is_empty(),
                ("sched-future", "free") => vs.jobs().reservations.is_empty(),
                ("property", p) => match p.split_once('=') {
                    Some((pk, pv)) => v.properties.get(pk).is_some_and(|x| x == pv),
                    None => v.properties.contains_key(p),
                },
                ("names", list) => list.split(',').any(|n| n == v.name),
                ("jobid-alloc", j) => vs.jobs().allocations.contains_key(&job(j)),
                ("jobid-reserved", j) => vs.jobs().reservations.contains_key(&job(j)),
                ("jobid-tag", j) => vs.jobs().tags.contains(&job(j)),
                ("jobid-span", j) => vs.jobs().job2span.contains_key(&job(j)),
                ("agfilter", _) => true,
                _ => false,
            },
        }
    }

    /// Vertices matching `expr` plus their ancestors, in post-order (like a match).
    pub fn find(&mut self, expr: &FindExpr) -> Vec<Emitted> {
        self.new_epoch();
        let mut out = Vec::new();
        self.find_dfv(expr, self.root, 1, &mut out);
        out
    }

    fn find_dfv(
        &mut self,
        expr: &FindExpr,
        u: VertexId,
        level: u32,
        out: &mut Vec<Emitted>,
    ) -> bool {
        self.vs[u.idx()].color = self.epoch;
        let mut children = false;
        let edges: Vec<_> = self.dom_children(u).collect();
        for e in edges {
            let tgt = self.graph.edge(e).target;
            if self.visited(tgt) {
                continue;
            }
            if self.find_dfv(expr, tgt, level + 1, out) {
                out.push(Emitted::Edge(e));
                children = true;
            }
        }
        if !children && !self.eval(expr, u) {
            return false;
        }
        let needs = self.graph.vertex(u).size;
        out.push(Emitted::Vertex {
            v: u,
            level,
            needs,
            exclusive: true,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_and_parentheses() {
        let e = FindExpr::parse("status=up and sched-now=free or property=x").unwrap();
        assert!(matches!(e, FindExpr::Or(..)));
        let e = FindExpr::parse("status=up and (sched-now=free or names=node0)").unwrap();
        assert!(matches!(e, FindExpr::And(..)));
        assert!(FindExpr::parse("bogus=1").is_err());
        let e = FindExpr::parse("jobid-alloc=1 agfilter=t").unwrap();
        assert!(matches!(e, FindExpr::And(..)));
        assert!(FindExpr::parse("(status=up").is_err());
    }
}
