//! Base-576 emoji digits, most significant first.

use std::sync::OnceLock;

use super::FluidError;

const EMOJI_FILE: &str = include_str!("../../data/emoji.txt");
const BASE: u64 = 576;

/// The 576 digit emoji, index = digit value; each is a single code point.
fn table() -> &'static [char] {
    static TABLE: OnceLock<Vec<char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        EMOJI_FILE
            .lines()
            .filter_map(|l| l.trim().chars().next())
            .collect()
    })
}

pub(super) fn encode(mut v: u64) -> String {
    let table = table();
    let mut digits = Vec::new();
    loop {
        // `v % BASE` < 576 = table length.
        digits.push(table[(v % BASE) as usize]);
        v /= BASE;
        if v == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

pub(super) fn decode(s: &str) -> Result<u64, FluidError> {
    let bad = || FluidError::Emoji(s.to_string());
    if s.is_empty() {
        return Err(bad());
    }
    let table = table();
    s.chars().try_fold(0u64, |acc, c| {
        let d = table.iter().position(|&e| e == c).ok_or_else(bad)?;
        acc.checked_mul(BASE)
            .and_then(|acc| acc.checked_add(d as u64))
            .ok_or_else(bad)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_576_unique_emoji() {
        let t = table();
        assert_eq!(t.len(), 576);
        let set: std::collections::HashSet<_> = t.iter().collect();
        assert_eq!(set.len(), 576);
        assert_eq!(t[0], '\u{1F603}');
        assert_eq!(t[575], '\u{1F38C}');
        assert!(t.iter().all(|c| c.len_utf8() == 4));
    }
}
