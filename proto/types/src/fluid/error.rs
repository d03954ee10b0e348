//! Errors for FLUID parsing and generation.

use thiserror::Error;

/// Why a FLUID string could not be decoded or an id could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FluidError {
    /// The input was empty (after trimming whitespace).
    #[error("empty job id")]
    Empty,
    /// Not a valid decimal id (e.g. `42plusbad`) or too large for 64 bits.
    #[error("invalid decimal job id '{0}'")]
    Decimal(String),
    /// Not a valid `0x` hexadecimal id.
    #[error("invalid hex job id '{0}'")]
    Hex(String),
    /// Not four groups of 1-4 hex digits separated by `.`.
    #[error("invalid dothex job id '{0}'")]
    Dothex(String),
    /// Not a valid `w-w-w--w-w-w` mnemonic.
    #[error("invalid mnemonic job id '{0}'")]
    Words(String),
    /// A word that is not in the mnemonic word list.
    #[error("unknown mnemonic word '{0}' in job id")]
    UnknownWord(String),
    /// Not a valid F58 id (bad digit, too long, or overflow).
    #[error("invalid F58 job id '{0}'")]
    F58(String),
    /// Not a valid emoji id.
    #[error("invalid emoji job id '{0}'")]
    Emoji(String),
    /// Name given to `--to=` that is not an encoding.
    #[error("unknown job id encoding '{0}'")]
    UnknownEncoding(String),
    /// Generator id does not fit in 14 bits.
    #[error("FLUID generator id {0} out of range (max 16383)")]
    GeneratorId(u32),
    /// Timestamp does not fit in 40 bits.
    #[error("FLUID timestamp {0} out of range (max 2^40-1 ms)")]
    Timestamp(u64),
    /// Sequence does not fit in 10 bits.
    #[error("FLUID sequence {0} out of range (max 1023)")]
    Sequence(u32),
    /// 1024 ids were already generated in this millisecond: retry when the clock advances.
    #[error("FLUID sequence exhausted for timestamp {0}; retry in the next millisecond")]
    SequenceExhausted(u64),
}
