//! Mnemonicode (Oren Tirosh, word list v0.7) for 64-bit ids: `w-w-w--w-w-w`.

use std::sync::OnceLock;

use super::FluidError;

const WORD_FILE: &str = include_str!("../../data/mnemonic-words.txt");
const NWORDS: u64 = 1626;

/// The 1626-word list, index = line number - 1.
fn words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| WORD_FILE.lines().map(str::trim).collect())
}

/// Three words for each 32-bit half, low half first (the C code encodes the little-endian
/// bytes of the id).
pub(super) fn encode(v: u64) -> String {
    let list = words();
    let group = |x: u64| {
        // Each index is `% NWORDS`, in bounds of the 1626-word list.
        let w0 = list[(x % NWORDS) as usize];
        let w1 = list[(x / NWORDS % NWORDS) as usize];
        let w2 = list[(x / (NWORDS * NWORDS) % NWORDS) as usize];
        format!("{w0}-{w1}-{w2}")
    };
    format!("{}--{}", group(v & 0xffff_ffff), group(v >> 32))
}

/// Inverse of [`encode`].
pub(super) fn decode(s: &str) -> Result<u64, FluidError> {
    let bad = || FluidError::Words(s.to_string());
    let (low, high) = s.split_once("--").ok_or_else(bad)?;
    let group = |g: &str| -> Result<u64, FluidError> {
        let mut x = 0u64;
        let mut n = 0;
        for (i, w) in g.split('-').enumerate() {
            if i >= 3 {
                return Err(bad());
            }
            let idx = index_of(w).ok_or_else(|| FluidError::UnknownWord(w.to_string()))?;
            x += idx * NWORDS.pow(i as u32);
            n += 1;
        }
        if n != 3 || x > u64::from(u32::MAX) {
            return Err(bad());
        }
        Ok(x)
    };
    Ok(group(low)? | (group(high)? << 32))
}

fn index_of(word: &str) -> Option<u64> {
    words()
        .iter()
        .position(|w| w.eq_ignore_ascii_case(word))
        .map(|i| i as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_has_1626_unique_words() {
        let list = words();
        assert_eq!(list.len(), 1626);
        let set: std::collections::HashSet<_> = list.iter().collect();
        assert_eq!(set.len(), 1626);
        assert_eq!(list[0], "academy");
        assert_eq!(list[1625], "amen");
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(decode("academy-academy--academy-academy-academy").is_err());
        assert!(decode("academy-academy-academy-academy-academy-academy").is_err());
        assert!(decode("academy-academy-academy-x--academy-academy-academy").is_err());
        // 1625 + 1625*1626 + 1625*1626^2 > u32::MAX
        assert!(decode("verbal-verbal-verbal--academy-academy-academy").is_err());
    }
}
