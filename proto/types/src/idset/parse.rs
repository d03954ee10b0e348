//! Decoding idset strings.

use std::str::FromStr;

use thiserror::Error;

use super::IdSet;

/// Why a string is not a valid idset.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdSetError {
    /// A character other than digits, `,`, `-`, `[`, `]`.
    #[error("invalid idset '{0}': unexpected character")]
    Character(String),
    /// Unbalanced or misplaced brackets.
    #[error("invalid idset '{0}': mismatched brackets")]
    Brackets(String),
    /// An empty element, e.g. `1,,2` or a trailing comma.
    #[error("invalid idset '{0}': empty element")]
    EmptyElement(String),
    /// Not `N` or `LO-HI`.
    #[error("invalid idset '{input}': bad element '{element}'")]
    Element {
        /// The whole input.
        input: String,
        /// The offending element.
        element: String,
    },
    /// A range whose end is below its start.
    #[error("invalid idset '{input}': range {lo}-{hi} is reversed")]
    Reversed {
        /// The whole input.
        input: String,
        /// Range start.
        lo: u32,
        /// Range end.
        hi: u32,
    },
    /// An id larger than 4294967295.
    #[error("invalid idset '{input}': id '{id}' too large")]
    TooLarge {
        /// The whole input.
        input: String,
        /// The offending id text.
        id: String,
    },
}

impl FromStr for IdSet {
    type Err = IdSetError;

    /// Accepts `1,2,3`, `1-3,5`, `[1-3,5]` and the empty string; ids may appear in any
    /// order and overlap, as flux-core's decoder allows.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.chars()
            .any(|c| !matches!(c, '0'..='9' | ',' | '-' | '[' | ']'))
        {
            return Err(IdSetError::Character(s.to_string()));
        }
        let body = match (s.strip_prefix('['), s.ends_with(']')) {
            (Some(inner), true) => &inner[..inner.len() - 1],
            (None, false) => s,
            _ => return Err(IdSetError::Brackets(s.to_string())),
        };
        if body.contains(['[', ']']) {
            return Err(IdSetError::Brackets(s.to_string()));
        }
        let mut set = IdSet::new();
        if body.is_empty() {
            return Ok(set);
        }
        for element in body.split(',') {
            if element.is_empty() {
                return Err(IdSetError::EmptyElement(s.to_string()));
            }
            let (lo, hi) = match element.split_once('-') {
                Some((lo, hi)) => (parse_id(s, element, lo)?, parse_id(s, element, hi)?),
                None => {
                    let id = parse_id(s, element, element)?;
                    (id, id)
                }
            };
            if lo > hi {
                return Err(IdSetError::Reversed {
                    input: s.to_string(),
                    lo,
                    hi,
                });
            }
            set.insert_range(lo, hi);
        }
        Ok(set)
    }
}

fn parse_id(input: &str, element: &str, text: &str) -> Result<u32, IdSetError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdSetError::Element {
            input: input.to_string(),
            element: element.to_string(),
        });
    }
    text.parse().map_err(|_| IdSetError::TooLarge {
        input: input.to_string(),
        id: text.to_string(),
    })
}

impl IdSet {
    /// Parse an idset string (same as `str::parse`).
    pub fn parse(s: &str) -> Result<Self, IdSetError> {
        s.parse()
    }
}
