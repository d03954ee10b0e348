//! One host name split into prefix and trailing number, and runs of consecutive hosts.

/// A host name: `prefix` followed by an optional trailing number of at least `width`
/// digits (zero padded).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Host {
    prefix: String,
    /// (value, width); `None` for a name without trailing digits.
    num: Option<(u64, usize)>,
}

/// Digits of `v` padded with zeros to `width`.
pub(super) fn pad(v: u64, width: usize) -> String {
    format!("{v:0width$}")
}

/// Canonical width of a number written `text`: its length if zero padded, else 1 (an
/// unpadded number prints the same at any width up to its digit count).
pub(super) fn canonical_width(text: &str) -> usize {
    if text.len() > 1 && text.starts_with('0') {
        text.len()
    } else {
        1
    }
}

impl Host {
    /// Split trailing ASCII digits off `name` (digits too long for u64 stay in the prefix).
    pub(super) fn parse(name: &str) -> Host {
        let digits_at = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, digits) = name.split_at(digits_at);
        match digits.parse::<u64>() {
            Ok(v) if !digits.is_empty() => Host {
                prefix: prefix.to_string(),
                num: Some((v, canonical_width(digits))),
            },
            _ => Host {
                prefix: name.to_string(),
                num: None,
            },
        }
    }

    pub(super) fn into_run(self) -> Run {
        Run {
            prefix: self.prefix,
            num: self.num.map(|(v, width)| (v, v, width)),
        }
    }
}

/// Consecutive hosts `prefix{lo..=hi}` at one width, or a single non-numbered name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Run {
    prefix: String,
    /// (lo, hi, width), `lo <= hi`, width canonical for `lo`.
    num: Option<(u64, u64, usize)>,
}

impl Run {
    /// `prefix{lo..=hi}` with numbers padded to `width`.
    pub(super) fn numbered(prefix: &str, lo: u64, hi: u64, width: usize) -> Run {
        Run {
            prefix: prefix.to_string(),
            num: Some((lo, hi, canonical_width(&pad(lo, width)))),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(super) fn len(&self) -> usize {
        match self.num {
            // Saturate rather than wrap for absurd ranges on small targets.
            Some((lo, hi, _)) => {
                usize::try_from(hi - lo).map_or(usize::MAX, |n| n.saturating_add(1))
            }
            None => 1,
        }
    }

    /// The `n`th host of the run; `n < len()`.
    pub(super) fn nth(&self, n: usize) -> String {
        match self.num {
            Some((lo, _, w)) => format!("{}{}", self.prefix, pad(lo + n as u64, w)),
            None => self.prefix.clone(),
        }
    }

    pub(super) fn hosts(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.len()).map(|i| self.nth(i))
    }

    /// Index of `host` in this run.
    pub(super) fn position(&self, host: &Host) -> Option<usize> {
        if host.prefix != self.prefix {
            return None;
        }
        match (self.num, host.num) {
            (None, None) => Some(0),
            (Some((lo, hi, w)), Some((v, hw))) if lo <= v && v <= hi && pad(v, w) == pad(v, hw) => {
                usize::try_from(v - lo).ok()
            }
            _ => None,
        }
    }

    /// Append `next` to this run if it continues it (same prefix, next number, same
    /// printed digits); returns whether it did.
    pub(super) fn try_extend(&mut self, next: &Run) -> bool {
        let (Some((lo, hi, w)), Some((nlo, nhi, nw))) = (self.num, next.num) else {
            return false;
        };
        // Numbers only grow along a run, so if `nlo` prints the same at both widths, so
        // does every later number.
        if next.prefix == self.prefix
            && hi.checked_add(1) == Some(nlo)
            && pad(nlo, w) == pad(nlo, nw)
        {
            self.num = Some((lo, nhi, w));
            true
        } else {
            false
        }
    }

    /// True if `next` can follow this run inside one bracket expression: same prefix, and
    /// its numbers print the same at the width that the first number implies on re-parse.
    pub(super) fn groups_with(&self, next: &Run) -> bool {
        let (Some((lo, _, w)), Some((nlo, _, nw))) = (self.num, next.num) else {
            return false;
        };
        let group_width = pad(lo, w).len();
        next.prefix == self.prefix && pad(nlo, group_width) == pad(nlo, nw)
    }

    /// `lo` or `lo-hi` with padding, for inside brackets.
    pub(super) fn range_text(&self) -> String {
        match self.num {
            Some((lo, hi, w)) if lo == hi => pad(lo, w),
            Some((lo, hi, w)) => format!("{}-{}", pad(lo, w), pad(hi, w)),
            None => self.prefix.clone(),
        }
    }
}
