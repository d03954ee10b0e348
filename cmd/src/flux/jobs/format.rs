//! Flux's Python-like output formats (`flux jobs -o`, `flux resource list -o` ...), as a
//! plain engine: parse a format once, then render a header and rows of any [`Row`].
//!
//! Supported: `{field}`, `{field:SPEC}` with the Python spec mini-language
//! (`[[fill]align][0][width][,][.precision][type]`), Flux's spec suffixes `h` (print `-`
//! for empty, zero or epoch values) and `+` (mark truncation with `+`), conversions
//! `!F` (duration as FSD), `!H` (h:mm:ss), `!d` (date: `{t!d:%b%d %R::>12}`), `!D`
//! (ISO date), `!P` (percent), `!s`/`!r`; column prefixes `?:` (drop the column when it
//! is empty in every row) and `+:` (widen the column to fit), and `{{`/`}}`.

mod convert;
mod spec;

use std::collections::HashMap;

pub use convert::fsd;
use convert::{convert, is_base_case};
use spec::{Spec, format_value, parse_spec};

/// A value a row gives for a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Unknown or unset (prints as an empty string).
    Empty,
    /// Text.
    Str(String),
    /// An integer.
    Int(i64),
    /// A number (times, durations).
    Float(f64),
    /// A boolean (`True`/`False`).
    Bool(bool),
}

impl Value {
    /// The value as Python's `str()` prints it.
    pub fn text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => {
                format!("{f:.1}")
            }
            Value::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
}

/// Something that has fields to format.
pub trait Row {
    /// The value of field `name` (only names the format was checked against are asked).
    fn get(&self, name: &str) -> Value;
}

/// Why a format cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatError {
    /// Unbalanced braces.
    Braces(String),
    /// A field name the command does not know.
    UnknownField(String),
    /// A conversion other than `!F !H !d !D !P !s !r`.
    Conversion(String),
    /// A spec that cannot be parsed.
    Spec(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Braces(t) => write!(f, "invalid format '{t}': unbalanced braces"),
            FormatError::UnknownField(n) => write!(f, "Unknown format field: {n}"),
            FormatError::Conversion(c) => write!(f, "invalid conversion '!{c}'"),
            FormatError::Spec(s) => write!(f, "invalid format specifier '{s}'"),
        }
    }
}

impl std::error::Error for FormatError {}

/// One `{...}` of a format and the literal text before it.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    before: String,
    name: String,
    conversion: Option<char>,
    spec: String,
    omit_empty: bool,
    expand: bool,
}

/// A parsed format.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    fields: Vec<Field>,
    tail: String,
}

impl Field {
    /// The text of this field for one row.
    fn render(&self, row: &dyn Row, width: Option<usize>) -> String {
        let mut value = row.get(&self.name);
        let mut spec = self.spec.clone();
        if let Some(conv) = self.conversion {
            (value, spec) = convert(value, conv, &spec);
        }
        let mark = spec.ends_with('+') && {
            spec.pop();
            true
        };
        if spec.ends_with('h') {
            spec.pop();
            let s = value.text();
            value = Value::Str(if is_base_case(&s) { "-".into() } else { s });
        }
        let mut parsed = parse_spec(&spec).unwrap_or_default();
        if let Some(w) = width {
            parsed.width = w;
            if let Some(p) = parsed.precision
                && matches!(parsed.kind, None | Some('s'))
                && p < w
            {
                parsed.precision = Some(w);
            }
        }
        let full = value.text();
        let mut out = format_value(&value, &parsed);
        if mark && !out.is_empty() && out.chars().count() < full.chars().count() {
            let keep = out.chars().count() - 1;
            out = out.chars().take(keep).collect::<String>() + "+";
        }
        out
    }

    /// The value with its conversion but no spec (to measure it).
    fn bare(&self, row: &dyn Row) -> String {
        let value = row.get(&self.name);
        match self.conversion {
            Some(conv) => convert(value, conv, "").0.text(),
            None => value.text(),
        }
    }

    /// The width the spec asks for.
    fn spec_width(&self) -> usize {
        let spec = match self.spec.split_once("::") {
            Some((_, rest)) => rest,
            None => &self.spec,
        };
        parse_spec(spec.trim_end_matches(['+', 'h'])).map_or(0, |s| s.width)
    }

    /// The header text for this field.
    fn heading(&self, heading: &str, width: Option<usize>) -> String {
        let mut spec = self.spec.clone();
        if self.conversion == Some('d') {
            spec = match spec.split_once("::") {
                Some((_, rest)) => rest.to_string(),
                None if spec.contains('%') => String::new(),
                None => spec,
            };
        }
        let spec = spec.trim_end_matches(['+', 'h']);
        let parsed = parse_spec(spec).unwrap_or_default();
        let header_spec = Spec {
            align: parsed.align,
            width: width.unwrap_or(parsed.width),
            ..Spec::default()
        };
        format_value(&Value::Str(heading.to_string()), &header_spec)
    }
}

impl Format {
    /// Parse `text`; every field name must satisfy `known`.
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Format, FormatError> {
        let braces = || FormatError::Braces(text.to_string());
        let mut fields = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(braces()),
                '{' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => return Err(braces()),
                            Some(c) => inner.push(c),
                        }
                    }
                    let mut field = parse_field(&inner)?;
                    if !known(&field.name) {
                        return Err(FormatError::UnknownField(field.name));
                    }
                    for (prefix, omit, expand) in [
                        ("?+:", true, true),
                        ("+?:", true, true),
                        ("?:", true, false),
                        ("+:", false, true),
                    ] {
                        if let Some(rest) = literal.strip_suffix(prefix) {
                            literal = rest.to_string();
                            field.omit_empty = omit;
                            field.expand = expand;
                            break;
                        }
                    }
                    field.before = std::mem::take(&mut literal);
                    fields.push(field);
                }
                c => literal.push(c),
            }
        }
        Ok(Format {
            fields,
            tail: literal,
        })
    }

    /// The header (when `headings` is given) and one line per row (blank lines left out).
    pub fn render(&self, headings: Option<&HashMap<&str, &str>>, rows: &[&dyn Row]) -> Vec<String> {
        let mut columns: Vec<(&Field, Option<usize>)> = Vec::new();
        for f in &self.fields {
            // Widths of the bare values (no spec); values that print as empty count 0.
            let widest = rows
                .iter()
                .map(|r| {
                    let bare = f.bare(*r);
                    if is_base_case(&bare) {
                        0
                    } else {
                        bare.chars().count()
                    }
                })
                .max()
                .unwrap_or(0);
            if f.omit_empty && widest == 0 {
                continue;
            }
            let width = f.expand.then(|| {
                let heading = headings
                    .and_then(|h| h.get(f.name.as_str()))
                    .map_or(0, |h| h.chars().count());
                f.spec_width().max(heading).max(widest)
            });
            columns.push((f, width));
        }
        let mut lines = Vec::new();
        if let Some(headings) = headings {
            let mut line = String::new();
            for (f, width) in &columns {
                line.push_str(&f.before);
                let name = f.name.to_uppercase();
                let h = headings.get(f.name.as_str()).copied().unwrap_or(&name);
                line.push_str(&f.heading(h, *width));
            }
            line.push_str(&self.tail);
            lines.push(line);
        }
        for row in rows {
            let mut line = String::new();
            for (f, width) in &columns {
                line.push_str(&f.before);
                line.push_str(&f.render(*row, *width));
            }
            line.push_str(&self.tail);
            if !line.trim().is_empty() {
                lines.push(line);
            }
        }
        lines
    }
}

fn parse_field(inner: &str) -> Result<Field, FormatError> {
    let (head, spec) = inner.split_once(':').unwrap_or((inner, ""));
    let (name, conversion) = match head.split_once('!') {
        Some((name, conv)) => {
            let mut cs = conv.chars();
            match (cs.next(), cs.next()) {
                (Some(c @ ('F' | 'H' | 'd' | 'D' | 'P' | 's' | 'r')), None) => (name, Some(c)),
                _ => return Err(FormatError::Conversion(conv.to_string())),
            }
        }
        None => (head, None),
    };
    let field = Field {
        before: String::new(),
        name: name.trim().to_string(),
        conversion,
        spec: spec.to_string(),
        omit_empty: false,
        expand: false,
    };
    let mut check = spec.to_string();
    if conversion == Some('d') {
        check = match spec.split_once("::") {
            Some((_, rest)) => rest.to_string(),
            None if spec.contains('%') => String::new(),
            None => check,
        };
    }
    parse_spec(check.trim_end_matches(['+', 'h']))?;
    Ok(field)
}

#[cfg(test)]
mod tests;
