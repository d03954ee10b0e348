//! F58: base58 (Bitcoin alphabet) with a `ƒ` or `f` prefix.

use super::FluidError;

/// The prefix printed in UTF-8 locales (U+0192).
pub(super) const UTF8_PREFIX: &str = "ƒ";
/// The ASCII fallback prefix.
pub(super) const ASCII_PREFIX: &str = "f";

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// flux-core's decoder rejects longer strings; u64 needs at most 11 digits.
const MAX_DIGITS: usize = 12;

/// Base58 digits, most significant first, no padding (0 is `1`).
pub(super) fn encode(mut v: u64) -> String {
    let mut digits = Vec::with_capacity(11);
    loop {
        // `v % 58` < 58, so indexing is in bounds.
        digits.push(ALPHABET[(v % 58) as usize]);
        v /= 58;
        if v == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&b| char::from(b)).collect()
}

/// Decode `ƒDIGITS` or `fDIGITS`.
pub(super) fn decode(s: &str) -> Result<u64, FluidError> {
    let bad = || FluidError::F58(s.to_string());
    let digits = s
        .strip_prefix(UTF8_PREFIX)
        .or_else(|| s.strip_prefix(ASCII_PREFIX))
        .ok_or_else(bad)?;
    if digits.is_empty() || digits.len() > MAX_DIGITS {
        return Err(bad());
    }
    digits.bytes().try_fold(0u64, |acc, b| {
        let d = ALPHABET.iter().position(|&a| a == b).ok_or_else(bad)?;
        acc.checked_mul(58)
            .and_then(|acc| acc.checked_add(d as u64))
            .ok_or_else(bad)
    })
}
