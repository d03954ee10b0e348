//! Decoding hostlist strings.

use std::str::FromStr;

use thiserror::Error;

use super::Hostlist;
use super::host::{Run, pad};

/// Hosts a bracket expression with a suffix may expand to: such hosts are stored one by
/// one, so cap them to bound memory on hostile input.
const MAX_SUFFIX_EXPANSION: u64 = 1 << 20;

/// Why a string is not a valid hostlist.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HostlistError {
    /// Whitespace or a non-printable / non-ASCII character.
    #[error("invalid hostlist '{0}': unexpected character")]
    Character(String),
    /// Unbalanced, nested or repeated brackets.
    #[error("invalid hostlist '{0}': mismatched or repeated brackets")]
    Brackets(String),
    /// An empty host or bracket element.
    #[error("invalid hostlist '{0}': empty element")]
    EmptyElement(String),
    /// Something other than `N` or `LO-HI` inside brackets.
    #[error("invalid hostlist '{input}': bad range '{range}'")]
    Range {
        /// The whole input.
        input: String,
        /// The offending range.
        range: String,
    },
    /// A range whose end is below its start.
    #[error("invalid hostlist '{input}': range '{range}' is reversed")]
    Reversed {
        /// The whole input.
        input: String,
        /// The offending range.
        range: String,
    },
    /// A bracket expression with a suffix that expands to too many hosts.
    #[error("invalid hostlist '{0}': expansion too large")]
    TooLarge(String),
}

impl FromStr for Hostlist {
    type Err = HostlistError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(HostlistError::Character(s.to_string()));
        }
        let mut hl = Hostlist::new();
        if s.is_empty() {
            return Ok(hl);
        }
        for expr in split_top_level(s)? {
            parse_expression(s, expr, &mut hl)?;
        }
        Ok(hl)
    }
}

impl Hostlist {
    /// Parse a hostlist string (same as `str::parse`).
    pub fn parse(s: &str) -> Result<Self, HostlistError> {
        s.parse()
    }
}

/// Split at commas outside brackets, checking brackets balance and do not nest.
fn split_top_level(s: &str) -> Result<Vec<&str>, HostlistError> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' if depth == 0 => depth = 1,
            ']' if depth == 1 => depth = 0,
            '[' | ']' => return Err(HostlistError::Brackets(s.to_string())),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(HostlistError::Brackets(s.to_string()));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

/// One `prefix[idlist]suffix` expression (each part optional).
fn parse_expression(input: &str, expr: &str, hl: &mut Hostlist) -> Result<(), HostlistError> {
    if expr.is_empty() {
        return Err(HostlistError::EmptyElement(input.to_string()));
    }
    let Some((prefix, rest)) = expr.split_once('[') else {
        hl.push(expr);
        return Ok(());
    };
    // split_top_level guarantees a matching `]` follows.
    let (idlist, suffix) = rest
        .split_once(']')
        .ok_or_else(|| HostlistError::Brackets(input.to_string()))?;
    if suffix.contains(['[', ']']) {
        return Err(HostlistError::Brackets(input.to_string()));
    }
    if idlist.is_empty() {
        return Err(HostlistError::EmptyElement(input.to_string()));
    }
    let mut width = None;
    for range in idlist.split(',') {
        let bad = || HostlistError::Range {
            input: input.to_string(),
            range: range.to_string(),
        };
        let (lo_text, hi_text) = range.split_once('-').unwrap_or((range, range));
        let lo = parse_number(lo_text).ok_or_else(bad)?;
        let hi = parse_number(hi_text).ok_or_else(bad)?;
        if hi < lo {
            return Err(HostlistError::Reversed {
                input: input.to_string(),
                range: range.to_string(),
            });
        }
        // RFC 29: the first number of the idlist sets the width of all.
        let width = *width.get_or_insert(lo_text.len());
        if suffix.is_empty() {
            hl.push_run(Run::numbered(prefix, lo, hi, width));
        } else {
            if hi - lo >= MAX_SUFFIX_EXPANSION {
                return Err(HostlistError::TooLarge(input.to_string()));
            }
            // Like flux-core, hosts with a suffix are pushed one by one, each split on
            // its own trailing digits.
            for v in lo..=hi {
                hl.push(&format!("{prefix}{}{suffix}", pad(v, width)));
            }
        }
    }
    Ok(())
}

fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
