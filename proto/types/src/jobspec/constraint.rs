//! RFC 35 constraint query syntax (`--requires`) to RFC 31 constraint JSON, with the
//! operator names, value splitting and term merging of `flux submit`.
//!
//! Grammar (precedence low to high: `or`, `and`/juxtaposition, `not`, `-`):
//! ```text
//! or_expr  := and_expr (OR and_expr)*          OR  = | || or
//! and_expr := juxt (AND juxt)*                 AND = & && and
//! juxt     := unary [juxt]                     (adjacent terms: AND, right-nested)
//! unary    := "not" juxt | "-" TERM | "(" or_expr ")" | TERM
//! TERM     := [operator:]operand, quotes allowed around the operand
//! ```
//! Right-nested juxtaposition and `not` spanning adjacent terms reproduce how Flux's
//! yacc grammar resolves its shift/reduce conflicts.

use serde_json::{Map, Value, json};

use super::JobspecError;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Not,
    Negate,
    And,
    Or,
    LParen,
    RParen,
    Term(String),
}

fn err(msg: String) -> JobspecError {
    JobspecError::Constraint(msg)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `word` at the start of `s`, followed by a non-word character or the end.
fn keyword(s: &str, word: &str) -> bool {
    s.starts_with(word) && !s[word.len()..].starts_with(is_word)
}

fn tokenize(query: &str) -> Result<Vec<Token>, JobspecError> {
    let mut tokens = Vec::new();
    // A term ending in `:` waits to be joined with the next term (`host:"a b"`).
    let mut pending: Option<String> = None;
    let mut rest = query;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else { break };
        let (token, len) = if c == '-' {
            (Some(Token::Negate), 1)
        } else if keyword(rest, "not") {
            (Some(Token::Not), 3)
        } else if rest.starts_with("&&") || rest.starts_with("||") {
            (Some(if c == '&' { Token::And } else { Token::Or }), 2)
        } else if c == '&' || keyword(rest, "and") {
            (Some(Token::And), if c == '&' { 1 } else { 3 })
        } else if c == '|' || keyword(rest, "or") {
            (Some(Token::Or), if c == '|' { 1 } else { 2 })
        } else if c == '(' {
            (Some(Token::LParen), 1)
        } else if c == ')' {
            (Some(Token::RParen), 1)
        } else if c == '"' || c == '\'' {
            let end = rest[1..]
                .find(c)
                .ok_or_else(|| err(format!("unclosed quote {c} in '{query}'")))?;
            let text = &rest[1..1 + end];
            (
                (!text.is_empty()).then(|| Token::Term(text.to_string())),
                end + 2,
            )
        } else {
            let end = rest
                .find(|c: char| "()|&\"'".contains(c) || c.is_whitespace())
                .unwrap_or(rest.len());
            (Some(Token::Term(rest[..end].to_string())), end)
        };
        rest = &rest[len..];
        match (token, pending.take()) {
            (Some(Token::Term(t)), Some(p)) => tokens.push(Token::Term(p + &t)),
            (_, Some(p)) => return Err(err(format!("missing argument to '{p}'"))),
            (Some(Token::Term(t)), None) if t.ends_with(':') => pending = Some(t),
            (Some(t), None) => tokens.push(t),
            (None, None) => {}
        }
    }
    if let Some(p) = pending {
        return Err(err(format!("missing argument to '{p}'")));
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    query: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn unexpected(&self) -> JobspecError {
        match self.tokens.get(self.pos) {
            Some(t) => err(format!("unexpected {t:?} in '{}'", self.query)),
            None => err(format!("unexpected end of input in '{}'", self.query)),
        }
    }

    fn or_expr(&mut self) -> Result<Value, JobspecError> {
        let mut left = self.and_expr()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            let right = self.and_expr()?;
            left = match left {
                Value::Object(mut m) if m.contains_key("or") => {
                    if let Some(Value::Array(a)) = m.get_mut("or") {
                        a.push(right);
                    }
                    Value::Object(m)
                }
                other => json!({ "or": [other, right] }),
            };
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Value, JobspecError> {
        let mut left = self.juxt()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let right = self.juxt()?;
            left = combine(left, right);
        }
        Ok(left)
    }

    fn starts_unary(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Not | Token::Negate | Token::LParen | Token::Term(_))
        )
    }

    fn juxt(&mut self) -> Result<Value, JobspecError> {
        let first = self.unary()?;
        if self.starts_unary() {
            let rest = self.juxt()?;
            Ok(combine(first, rest))
        } else {
            Ok(first)
        }
    }

    fn unary(&mut self) -> Result<Value, JobspecError> {
        match self.next() {
            Some(Token::Not) => Ok(json!({ "not": [self.juxt()?] })),
            Some(Token::Negate) => match self.next() {
                Some(Token::Term(t)) => Ok(json!({ "not": [term(&t)?] })),
                _ => {
                    self.pos -= 1;
                    Err(self.unexpected())
                }
            },
            Some(Token::LParen) => {
                let inner = self.or_expr()?;
                match self.next() {
                    Some(Token::RParen) => Ok(inner),
                    _ => Err(err(format!("unclosed parenthesis in '{}'", self.query))),
                }
            }
            Some(Token::Term(t)) => term(&t),
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }
}

/// `[op:]value` → `{op: [values]}`; bare values are properties, split on commas.
fn term(token: &str) -> Result<Value, JobspecError> {
    let (op, value) = match token.split_once(':') {
        None => ("properties", token),
        Some(("host" | "hosts", v)) => ("hostlist", v),
        Some(("rank", v)) => ("ranks", v),
        Some((op, v)) => (op, v),
    };
    if let Some(bad) = op.chars().find(|&c| !(is_word(c) || ".+@-".contains(c))) {
        return Err(err(format!(
            "invalid character '{bad}' in operator '{op}:'"
        )));
    }
    let values: Vec<Value> = if op == "properties" {
        value.split(',').map(Value::from).collect()
    } else {
        vec![Value::from(value)]
    };
    Ok(json!({ op: values }))
}

/// The single key of a constraint object.
fn op_of(v: &Value) -> Option<&str> {
    v.as_object()?.keys().next().map(String::as_str)
}

/// AND two constraints: extend an existing `and`, and merge `properties` terms.
pub fn combine(left: Value, right: Value) -> Value {
    let entries = match left {
        Value::Object(mut m) if m.contains_key("and") => {
            if let Some(Value::Array(a)) = m.get_mut("and") {
                a.push(right);
            }
            vec![Value::Object(m)]
        }
        other => vec![other, right],
    };
    let mut terms: Vec<Value> = Vec::new();
    let mut props_at: Option<usize> = None;
    for entry in entries {
        if op_of(&entry) != Some("properties") {
            terms.push(entry);
            continue;
        }
        match props_at {
            None => {
                props_at = Some(terms.len());
                terms.push(entry);
            }
            Some(i) => {
                let extra = entry["properties"].as_array().cloned().unwrap_or_default();
                if let Some(Value::Array(a)) = terms[i].get_mut("properties") {
                    a.extend(extra);
                }
            }
        }
    }
    if terms.len() == 1 {
        terms.pop().unwrap_or(Value::Null)
    } else {
        Value::Object(Map::from_iter([("and".to_string(), Value::Array(terms))]))
    }
}

/// Parse an RFC 35 query (several `--requires` values are joined with spaces first).
pub fn parse_constraint(query: &str) -> Result<Value, JobspecError> {
    let tokens = tokenize(query)?;
    if tokens.is_empty() {
        return Err(err(format!("empty constraint '{query}'")));
    }
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
        query,
    };
    let v = p.or_expr()?;
    if p.pos < tokens.len() {
        return Err(p.unexpected());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn p(q: &str) -> Value {
        parse_constraint(q).unwrap()
    }

    #[test]
    fn terms() {
        assert_eq!(p("foo"), json!({"properties": ["foo"]}));
        assert_eq!(p("a,b"), json!({"properties": ["a", "b"]}));
        assert_eq!(p("host:node[1-4]"), json!({"hostlist": ["node[1-4]"]}));
        assert_eq!(p("hosts:x"), json!({"hostlist": ["x"]}));
        assert_eq!(p("rank:0-3"), json!({"ranks": ["0-3"]}));
        assert_eq!(p("^foo"), json!({"properties": ["^foo"]}));
        assert_eq!(p("host:\"a b\""), json!({"hostlist": ["a b"]}));
        assert_eq!(p("'x y'"), json!({"properties": ["x y"]}));
    }

    #[test]
    fn boolean_structure() {
        assert_eq!(p("a b c"), json!({"properties": ["a", "b", "c"]}));
        assert_eq!(p("a & b"), json!({"properties": ["a", "b"]}));
        assert_eq!(
            p("host:x a"),
            json!({"and": [{"hostlist": ["x"]}, {"properties": ["a"]}]})
        );
        assert_eq!(
            p("host:x and a and b"),
            json!({"and": [{"hostlist": ["x"]}, {"properties": ["a"]}, {"properties": ["b"]}]})
        );
        assert_eq!(
            p("host:x a b"),
            json!({"and": [{"hostlist": ["x"]}, {"properties": ["a", "b"]}]})
        );
        assert_eq!(
            p("a | b | c"),
            json!({"or": [{"properties": ["a"]}, {"properties": ["b"]}, {"properties": ["c"]}]})
        );
        assert_eq!(
            p("a | b c"),
            json!({"or": [{"properties": ["a"]}, {"properties": ["b", "c"]}]})
        );
        assert_eq!(
            p("-a b"),
            json!({"and": [{"not": [{"properties": ["a"]}]}, {"properties": ["b"]}]})
        );
        assert_eq!(
            p("not (a or b)"),
            json!({"not": [{"or": [{"properties": ["a"]}, {"properties": ["b"]}]}]})
        );
        assert_eq!(
            p("not a | b"),
            json!({"or": [{"not": [{"properties": ["a"]}]}, {"properties": ["b"]}]})
        );
        assert_eq!(
            p("(a|b) rank:0"),
            json!({"and": [{"or": [{"properties": ["a"]}, {"properties": ["b"]}]}, {"ranks": ["0"]}]})
        );
        assert_eq!(p("android"), json!({"properties": ["android"]}));
        assert_eq!(p("notable"), json!({"properties": ["notable"]}));
    }

    #[test]
    fn errors() {
        for bad in [
            "", "(a", "a)", "a |", "& a", "host:", "-(a)", "'a", "a$b:x", "a | | b",
        ] {
            assert!(
                matches!(parse_constraint(bad), Err(JobspecError::Constraint(_))),
                "{bad:?}"
            );
        }
    }
}
