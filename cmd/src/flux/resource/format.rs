//! The small part of Flux's Python format strings that `flux resource` uses:
//! `{field}`, `{field:<10}`, `{field:>6}`, `{field:<30.30+}` (truncate, marking it with
//! `+`), and column prefixes `?:` (drop the column when every value is empty or zero) and
//! `+:` (widen the column to its longest value).

use std::collections::HashMap;

use anyhow::{Result, bail};

/// One `{...}` of a format.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    /// Text before the field (dropped with it by `?:`).
    before: String,
    name: String,
    omit_empty: bool,
    expand: bool,
    right: bool,
    width: usize,
    precision: Option<usize>,
    mark_truncation: bool,
}

/// A parsed format string.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    fields: Vec<Field>,
    tail: String,
}

impl Format {
    /// Parse `text`; every field must be one of `known`.
    pub fn parse(text: &str, known: &[&str]) -> Result<Format> {
        let mut fields = Vec::new();
        let mut rest = text;
        let mut before = String::new();
        while let Some(open) = rest.find('{') {
            before.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                bail!("invalid format '{text}': missing '}}'");
            };
            let mut field = parse_field(&after[..close], text)?;
            if !known.contains(&field.name.as_str()) {
                bail!("invalid format '{text}': unknown field '{}'", field.name);
            }
            field.before = std::mem::take(&mut before);
            fields.push(field);
            rest = &after[close + 1..];
        }
        before.push_str(rest);
        Ok(Format {
            fields,
            tail: before,
        })
    }

    /// The header line and one line per row (`row[field]`, missing values empty).
    pub fn render(
        &self,
        headings: &HashMap<&str, &str>,
        rows: &[HashMap<&str, String>],
        header: bool,
    ) -> Vec<String> {
        let value =
            |row: &HashMap<&str, String>, name: &str| row.get(name).cloned().unwrap_or_default();
        let mut columns = Vec::new();
        for f in &self.fields {
            let empty = rows
                .iter()
                .all(|r| matches!(value(r, &f.name).as_str(), "" | "0"));
            if f.omit_empty && empty {
                continue;
            }
            let mut f = f.clone();
            if f.expand {
                let longest = rows.iter().map(|r| value(r, &f.name).chars().count()).max();
                let heading = headings
                    .get(f.name.as_str())
                    .map_or(0, |h| h.chars().count());
                f.width = f.width.max(longest.unwrap_or(0)).max(heading);
            }
            columns.push(f);
        }
        let line = |get: &dyn Fn(&str) -> String| {
            let mut out = String::new();
            for f in &columns {
                out.push_str(&f.before);
                out.push_str(&f.apply(&get(&f.name)));
            }
            out.push_str(&self.tail);
            out.trim_end().to_string()
        };
        let mut lines = Vec::new();
        if header {
            lines.push(line(&|name| {
                headings
                    .get(name)
                    .map_or_else(|| name.to_uppercase(), |h| h.to_string())
            }));
        }
        for row in rows {
            lines.push(line(&|name| value(row, name)));
        }
        lines
    }
}

impl Field {
    fn apply(&self, text: &str) -> String {
        let mut text = text.to_string();
        if let Some(max) = self.precision
            && text.chars().count() > max
        {
            text = text.chars().take(max).collect();
            if self.mark_truncation && max > 0 {
                text.pop();
                text.push('+');
            }
        }
        if self.right {
            format!("{text:>width$}", width = self.width)
        } else {
            format!("{text:<width$}", width = self.width)
        }
    }
}

fn parse_field(spec: &str, text: &str) -> Result<Field> {
    let bad = || anyhow::anyhow!("invalid format '{text}': bad field '{{{spec}}}'");
    let (mut omit_empty, mut expand) = (false, false);
    let mut spec = spec;
    // Column prefixes sit just inside the braces in our copies of Flux's formats
    // (`?:{x}` in Flux itself); accept both spellings.
    loop {
        if let Some(s) = spec.strip_prefix("?") {
            omit_empty = true;
            spec = s;
        } else if let Some(s) = spec.strip_prefix("+") {
            expand = true;
            spec = s;
        } else {
            break;
        }
    }
    let spec = spec.strip_prefix(':').unwrap_or(spec);
    let (name, fmt) = spec.split_once(':').unwrap_or((spec, ""));
    // `!d`-style conversions are Flux's; the fields that need them are pre-formatted.
    let name = name.split('!').next().unwrap_or(name);
    if name.is_empty() {
        return Err(bad());
    }
    let (right, fmt) = match fmt.chars().next() {
        Some('>') => (true, &fmt[1..]),
        Some('<') => (false, &fmt[1..]),
        _ => (false, fmt),
    };
    let (fmt, mark_truncation) = match fmt.strip_suffix('+') {
        Some(f) => (f, true),
        None => (fmt, false),
    };
    let (width, precision) = fmt.split_once('.').unwrap_or((fmt, ""));
    let number = |s: &str| -> Result<Option<usize>> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| bad())
        }
    };
    Ok(Field {
        before: String::new(),
        name: name.to_string(),
        omit_empty,
        expand,
        right,
        width: number(width)?.unwrap_or(0),
        precision: number(precision)?,
        mark_truncation,
    })
}

/// Expand Flux's column prefixes written before the brace (`?:{ngpus:>5}`,
/// `?+:{x}`, `+:{x}`) into our in-brace spelling.
pub fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let (head, tail) = rest.split_at(i);
        let (head, prefix) = ["?+:", "+?:", "?:", "+:"]
            .iter()
            .find_map(|p| head.strip_suffix(p).map(|h| (h, p.trim_end_matches(':'))))
            .unwrap_or((head, ""));
        out.push_str(head);
        out.push('{');
        out.push_str(prefix);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[&[(&'static str, &str)]]) -> Vec<HashMap<&'static str, String>> {
        values
            .iter()
            .map(|r| r.iter().map(|(k, v)| (*k, v.to_string())).collect())
            .collect()
    }

    #[test]
    fn aligns_omits_and_expands() {
        let text = normalize("{state:>10} {nnodes:>6} +:{ncores:>6} ?+:{ngpus:>5} {nodelist}");
        let fmt =
            Format::parse(&text, &["state", "nnodes", "ncores", "ngpus", "nodelist"]).unwrap();
        let headings: HashMap<&str, &str> = [
            ("state", "STATE"),
            ("nnodes", "NNODES"),
            ("ncores", "NCORES"),
            ("ngpus", "NGPUS"),
            ("nodelist", "NODELIST"),
        ]
        .into();
        let data = rows(&[
            &[
                ("state", "free"),
                ("nnodes", "1"),
                ("ncores", "4"),
                ("ngpus", "0"),
                ("nodelist", "pi"),
            ],
            &[
                ("state", "allocated"),
                ("nnodes", "0"),
                ("ncores", "12345678"),
                ("ngpus", "0"),
            ],
        ]);
        let lines = fmt.render(&headings, &data, true);
        assert_eq!(lines[0], "     STATE NNODES   NCORES NODELIST");
        assert_eq!(lines[1], "      free      1        4 pi");
        assert_eq!(lines[2], " allocated      0 12345678");
    }

    #[test]
    fn truncation_is_marked() {
        let fmt = Format::parse("{reason:<5.5+}|", &["reason"]).unwrap();
        let data = rows(&[&[("reason", "abcdefgh")], &[("reason", "ab")]]);
        let lines = fmt.render(&HashMap::new(), &data, false);
        assert_eq!(lines, ["abcd+|", "ab   |"]);
    }

    #[test]
    fn bad_formats_are_errors() {
        assert!(Format::parse("{nope}", &["state"]).is_err());
        assert!(Format::parse("{state", &["state"]).is_err());
        assert!(Format::parse("{state:>x}", &["state"]).is_err());
    }
}
