//! Flux's Python-like output formats (`flux jobs -o`, `flux resource list -o` ...), as a
//! plain engine: parse a format once, then render a header and rows of any [`Row`].
//!
//! Supported: `{field}`, `{field:SPEC}` with the Python spec mini-language
//! (`[[fill]align][0][width][,][.precision][type]`), Flux's spec suffixes `h` (print `-`
//! for empty, zero or epoch values) and `+` (mark truncation with `+`), conversions
//! `!F` (duration as FSD), `!H` (h:mm:ss), `!d` (date: `{t!d:%b%d %R::>12}`), `!D`
//! (ISO date), `!P` (percent), `!s`/`!r`; column prefixes `?:` (drop the column when it
//! is empty in every row) and `+:` (widen the column to fit), and `{{`/`}}`.

use std::collections::HashMap;

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

/// Python format spec, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    zero: bool,
    width: usize,
    grouping: bool,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(text: &str) -> Result<Spec, FormatError> {
    let bad = || FormatError::Spec(text.to_string());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut spec = Spec::default();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        spec.fill = Some(chars[0]);
        spec.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|c| is_align(*c)) {
        spec.align = Some(chars[0]);
        i = 1;
    }
    if chars.get(i).is_some_and(|c| matches!(c, '+' | '-' | ' ')) {
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        spec.zero = true;
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>().parse::<usize>().ok()
    };
    spec.width = digits(&mut i).unwrap_or(0);
    if chars.get(i).is_some_and(|c| matches!(c, ',' | '_')) {
        spec.grouping = true;
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        spec.precision = Some(digits(&mut i).ok_or_else(bad)?);
    }
    if let Some(c) = chars.get(i) {
        if !"sdfFeEgG%xXob".contains(*c) {
            return Err(bad());
        }
        spec.kind = Some(*c);
        i += 1;
    }
    if i != chars.len() {
        return Err(bad());
    }
    Ok(spec)
}

fn group_thousands(digits: &str) -> String {
    let (sign, digits) = digits
        .strip_prefix('-')
        .map_or(("", digits), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// Python's `format(value, spec)` for the types rows give.
fn format_value(value: &Value, spec: &Spec) -> String {
    let numeric = matches!(value, Value::Int(_) | Value::Float(_));
    let body = match (value, spec.kind) {
        (Value::Int(i), None | Some('d')) => {
            let s = i.to_string();
            if spec.grouping { group_thousands(&s) } else { s }
        }
        (Value::Int(i), Some('x')) => format!("{i:x}"),
        (Value::Int(i), Some('X')) => format!("{i:X}"),
        (Value::Int(i), Some('o')) => format!("{i:o}"),
        (Value::Int(i), Some('b')) => format!("{i:b}"),
        (v, Some(k @ ('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%'))) if v.as_f64().is_some() => {
            let f = v.as_f64().unwrap_or(0.0);
            let p = spec.precision.unwrap_or(6);
            match k {
                'e' => format!("{f:.p$e}"),
                'E' => format!("{f:.p$E}"),
                'g' | 'G' => format_g(f, p.max(1)),
                '%' => format!("{:.p$}%", f * 100.0),
                _ => format!("{f:.p$}"),
            }
        }
        (Value::Float(f), None) => match spec.precision {
            Some(p) => format_g(*f, p.max(1)),
            None => value.text(),
        },
        (v, _) => {
            let mut s = v.text();
            if let Some(p) = spec.precision
                && !numeric
            {
                s = s.chars().take(p).collect();
            }
            s
        }
    };
    let len = body.chars().count();
    if len >= spec.width {
        return body;
    }
    let pad = spec.width - len;
    let fill = spec.fill.unwrap_or(if spec.zero && numeric { '0' } else { ' ' });
    let align = spec
        .align
        .unwrap_or(if numeric && !matches!(value, Value::Bool(_)) { '>' } else { '<' });
    let fills = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '>' | '=' => format!("{}{body}", fills(pad)),
        '^' => format!("{}{body}{}", fills(pad / 2), fills(pad - pad / 2)),
        _ => format!("{body}{}", fills(pad)),
    }
}

/// `%g` with `precision` significant digits, trailing zeros removed.
pub fn format_g(f: f64, precision: usize) -> String {
    if f == 0.0 || !f.is_finite() {
        return Value::Float(f).text().trim_end_matches(".0").to_string();
    }
    let exp = f.abs().log10().floor() as i32;
    if exp < -4 || exp >= precision as i32 {
        let s = format!("{:.*e}", precision.saturating_sub(1), f);
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = trim_zeros(mant);
        let e: i32 = e.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    let decimals = (precision as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{f:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Flux Standard Duration as Flux's tools print it (`6.593s`, `1.5m`, `0s`, `inf`).
pub fn fsd(secs: f64) -> String {
    if secs.is_infinite() {
        return "inf".into();
    }
    if secs < 1.0e-3 {
        "0s".into()
    } else if secs < 10.0 {
        format!("{secs:.3}s")
    } else if secs < 60.0 {
        format!("{}s", format_g(secs, 4))
    } else if secs < 3600.0 {
        format!("{}m", format_g(secs / 60.0, 4))
    } else if secs < 86400.0 {
        format!("{}h", format_g(secs / 3600.0, 4))
    } else {
        format!("{}d", format_g(secs / 86400.0, 4))
    }
}

/// `str(timedelta(seconds=round(secs)))`: `1:02:03`, `2 days, 0:00:01`.
pub fn hms(secs: f64) -> String {
    let secs = if secs > 0.0 && secs < 1.0 { 1.0 } else { secs };
    let total = secs.round().max(0.0) as u64;
    let (days, rest) = (total / 86400, total % 86400);
    let clock = format!("{}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        d => format!("{d} days, {clock}"),
    }
}

fn strftime(t: f64, fmt: &str) -> String {
    use chrono::{Local, TimeZone};
    let secs = t.floor() as i64;
    let nanos = ((t - t.floor()) * 1e9) as u32;
    match Local.timestamp_opt(secs, nanos).single() {
        Some(dt) => dt.format(fmt).to_string(),
        None => String::new(),
    }
}

/// Apply a conversion; `spec` may lose its strftime part (`!d`).
fn convert(value: Value, conv: char, spec: &str) -> (Value, String) {
    if value == Value::Empty || value == Value::Str(String::new()) {
        let rest = spec.split_once("::").map_or(spec, |(_, r)| r);
        let rest = if conv == 'd' && !spec.contains("::") && spec.contains('%') {
            ""
        } else {
            rest
        };
        return (Value::Empty, rest.to_string());
    }
    let num = value.as_f64();
    let text = |v: String| Value::Str(v);
    match (conv, num) {
        ('F', Some(f)) => (text(fsd(f)), spec.to_string()),
        ('H', Some(f)) => (text(hms(f)), spec.to_string()),
        ('P', Some(f)) => {
            let pct = f * 100.0;
            let t = if pct > 0.0 && pct < 1.0 {
                format!("{pct:.2}%")
            } else {
                format!("{}%", format_g(pct, 3))
            };
            (text(t), spec.to_string())
        }
        ('D', Some(f)) if f == 0.0 => (Value::Empty, spec.to_string()),
        ('D', Some(f)) => (text(strftime(f, "%FT%T")), spec.to_string()),
        ('d', Some(f)) => {
            let (fmt, rest) = match spec.split_once("::") {
                Some((fmt, rest)) => (fmt, rest),
                None if spec.contains('%') => (spec, ""),
                None => ("%FT%T", spec),
            };
            let shown = if f == 0.0 { String::new() } else { strftime(f, fmt) };
            (text(shown), rest.to_string())
        }
        _ => (text(value.text()), spec.to_string()),
    }
}

/// Values `h` prints as `-`.
fn is_base_case(s: &str) -> bool {
    matches!(s, "" | "0s" | "0.0" | "0:00:00" | "1970-01-01T00:00:00")
        || s == strftime(0.0, "%FT%T")
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
                    for (prefix, omit, expand) in
                        [("?+:", true, true), ("+?:", true, true), ("?:", true, false), ("+:", false, true)]
                    {
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
                    if is_base_case(&bare) { 0 } else { bare.chars().count() }
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
