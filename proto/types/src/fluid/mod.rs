//! FLUID job ids (RFC 19): a 64-bit id made of a 40-bit millisecond timestamp, a 14-bit
//! generator id and a 10-bit sequence, with every encoding `flux job id` knows.

mod emoji;
mod error;
mod f58;
mod generator;
mod words;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use error::FluidError;
pub use generator::FluidGenerator;

/// Bits of the timestamp field.
pub const TIMESTAMP_BITS: u32 = 40;
/// Bits of the generator id field.
pub const GENERATOR_BITS: u32 = 14;
/// Bits of the sequence field.
pub const SEQUENCE_BITS: u32 = 10;
/// Largest timestamp (ms since the instance epoch).
pub const MAX_TIMESTAMP: u64 = (1 << TIMESTAMP_BITS) - 1;
/// Largest generator id.
pub const MAX_GENERATOR: u32 = (1 << GENERATOR_BITS) - 1;
/// Largest sequence number.
pub const MAX_SEQUENCE: u32 = (1 << SEQUENCE_BITS) - 1;

/// A Flux job id (FLUID).
///
/// `Display` writes F58 with the `ƒ` prefix (as `flux submit` prints it); `{:#}` writes the
/// ASCII `f` fallback. `FromStr` accepts any encoding, like `flux job id`. In JSON the id is
/// an integer (as in Flux RPCs); deserializing also accepts a string in any encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// The encodings of `flux job id --to=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobIdEncoding {
    /// Decimal, `318793880436736`.
    Dec,
    /// `0x` + lowercase hex, `0x121f0fc000000`.
    Hex,
    /// Four 16-bit groups, `0001.21f0.fc00.0000`.
    Dothex,
    /// KVS job directory, `job.0001.21f0.fc00.0000`.
    Kvs,
    /// Mnemonic words, `rufus-cowboy-venice--andrea-arthur-academy`.
    Words,
    /// Base58 with the `ƒ` prefix, `ƒ3VPB8ZEqV`.
    F58,
    /// Base58 with the ASCII `f` prefix, `f3VPB8ZEqV`.
    F58Plain,
    /// Base-576 emoji digits.
    Emoji,
}

impl JobIdEncoding {
    /// All encodings, in `flux job id` documentation order.
    pub const ALL: [JobIdEncoding; 8] = [
        Self::Dec,
        Self::Hex,
        Self::Dothex,
        Self::Kvs,
        Self::Words,
        Self::F58,
        Self::F58Plain,
        Self::Emoji,
    ];

    /// The name used by `flux job id --to=NAME`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dec => "dec",
            Self::Hex => "hex",
            Self::Dothex => "dothex",
            Self::Kvs => "kvs",
            Self::Words => "words",
            Self::F58 => "f58",
            Self::F58Plain => "f58plain",
            Self::Emoji => "emoji",
        }
    }
}

impl fmt::Display for JobIdEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for JobIdEncoding {
    type Err = FluidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| FluidError::UnknownEncoding(s.to_string()))
    }
}

impl JobId {
    /// Assemble an id from its fields, checking each fits its bit width.
    pub fn from_parts(timestamp: u64, generator: u32, sequence: u32) -> Result<Self, FluidError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(FluidError::Timestamp(timestamp));
        }
        if generator > MAX_GENERATOR {
            return Err(FluidError::GeneratorId(generator));
        }
        if sequence > MAX_SEQUENCE {
            return Err(FluidError::Sequence(sequence));
        }
        Ok(JobId(
            (timestamp << (GENERATOR_BITS + SEQUENCE_BITS))
                | (u64::from(generator) << SEQUENCE_BITS)
                | u64::from(sequence),
        ))
    }

    /// The raw 64-bit value.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Milliseconds since the instance's FLUID epoch.
    pub fn timestamp(self) -> u64 {
        self.0 >> (GENERATOR_BITS + SEQUENCE_BITS)
    }

    /// Generator id (the rank of the job-ingest that made it).
    pub fn generator(self) -> u32 {
        // Masked to 14 bits, so the cast cannot truncate.
        ((self.0 >> SEQUENCE_BITS) & u64::from(MAX_GENERATOR)) as u32
    }

    /// Sequence number within the millisecond.
    pub fn sequence(self) -> u32 {
        // Masked to 10 bits, so the cast cannot truncate.
        (self.0 & u64::from(MAX_SEQUENCE)) as u32
    }

    /// Encode in the given encoding.
    pub fn encode(self, encoding: JobIdEncoding) -> String {
        match encoding {
            JobIdEncoding::Dec => self.0.to_string(),
            JobIdEncoding::Hex => format!("{:#x}", self.0),
            JobIdEncoding::Dothex => self.to_dothex(),
            JobIdEncoding::Kvs => self.to_kvs(),
            JobIdEncoding::Words => words::encode(self.0),
            JobIdEncoding::F58 => self.to_f58(),
            JobIdEncoding::F58Plain => self.to_f58_plain(),
            JobIdEncoding::Emoji => emoji::encode(self.0),
        }
    }

    /// `%04x.%04x.%04x.%04x`, high group first.
    pub fn to_dothex(self) -> String {
        let v = self.0;
        format!(
            "{:04x}.{:04x}.{:04x}.{:04x}",
            (v >> 48) & 0xffff,
            (v >> 32) & 0xffff,
            (v >> 16) & 0xffff,
            v & 0xffff
        )
    }

    /// The KVS job directory key, `job.<dothex>`.
    pub fn to_kvs(self) -> String {
        format!("job.{}", self.to_dothex())
    }

    /// A key under the job's KVS directory, e.g. `job.0000.0000.0000.0001.eventlog`.
    pub fn kvs_key(self, key: &str) -> String {
        format!("{}.{key}", self.to_kvs())
    }

    /// The job's guest KVS namespace, `job-<decimal id>`.
    pub fn guest_namespace(self) -> String {
        format!("job-{}", self.0)
    }

    /// F58 with the `ƒ` prefix.
    pub fn to_f58(self) -> String {
        format!("{}{}", f58::UTF8_PREFIX, f58::encode(self.0))
    }

    /// F58 with the ASCII `f` prefix (non-UTF-8 locales, `FLUX_F58_FORCE_ASCII`).
    pub fn to_f58_plain(self) -> String {
        format!("{}{}", f58::ASCII_PREFIX, f58::encode(self.0))
    }

    /// Mnemonic words, `w-w-w--w-w-w`.
    pub fn to_words(self) -> String {
        words::encode(self.0)
    }

    /// Base-576 emoji digits.
    pub fn to_emoji(self) -> String {
        emoji::encode(self.0)
    }

    /// Parse any encoding, following the rules of flux-core's `flux_job_id_parse`.
    pub fn parse(s: &str) -> Result<Self, FluidError> {
        let s = s.trim();
        let s = s.strip_prefix("job.").unwrap_or(s);
        if s.is_empty() {
            return Err(FluidError::Empty);
        }
        let v = if s.contains('.') {
            parse_dothex(s)?
        } else if s.contains('-') {
            words::decode(s)?
        } else if s.starts_with(f58::UTF8_PREFIX) || s.starts_with(f58::ASCII_PREFIX) {
            f58::decode(s)?
        } else if s.as_bytes().starts_with(&[0xf0, 0x9f]) {
            emoji::decode(s)?
        } else if let Some(hex) = s.strip_prefix("0x") {
            parse_digits(hex, 16).ok_or_else(|| FluidError::Hex(s.to_string()))?
        } else {
            parse_digits(s, 10).ok_or_else(|| FluidError::Decimal(s.to_string()))?
        };
        Ok(JobId(v))
    }

    /// Parse one specific encoding only.
    pub fn parse_as(s: &str, encoding: JobIdEncoding) -> Result<Self, FluidError> {
        let bad = |s: &str| match encoding {
            JobIdEncoding::Dec => FluidError::Decimal(s.to_string()),
            JobIdEncoding::Hex => FluidError::Hex(s.to_string()),
            JobIdEncoding::Dothex | JobIdEncoding::Kvs => FluidError::Dothex(s.to_string()),
            JobIdEncoding::Words => FluidError::Words(s.to_string()),
            JobIdEncoding::F58 | JobIdEncoding::F58Plain => FluidError::F58(s.to_string()),
            JobIdEncoding::Emoji => FluidError::Emoji(s.to_string()),
        };
        let body = match encoding {
            JobIdEncoding::Kvs => s.strip_prefix("job.").ok_or_else(|| bad(s))?,
            _ => s,
        };
        let v = match encoding {
            JobIdEncoding::Dec => parse_digits(body, 10).ok_or_else(|| bad(s))?,
            JobIdEncoding::Hex => body
                .strip_prefix("0x")
                .and_then(|h| parse_digits(h, 16))
                .ok_or_else(|| bad(s))?,
            JobIdEncoding::Dothex | JobIdEncoding::Kvs => parse_dothex(body)?,
            JobIdEncoding::Words => words::decode(body)?,
            JobIdEncoding::F58 if body.starts_with(f58::UTF8_PREFIX) => f58::decode(body)?,
            JobIdEncoding::F58Plain if body.starts_with(f58::ASCII_PREFIX) => f58::decode(body)?,
            JobIdEncoding::F58 | JobIdEncoding::F58Plain => return Err(bad(s)),
            JobIdEncoding::Emoji => emoji::decode(body)?,
        };
        Ok(JobId(v))
    }
}

/// Unsigned integer of ASCII digits only (no sign, no whitespace), checked for overflow.
fn parse_digits(s: &str, radix: u32) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(s, radix).ok()
}

/// `%4x.%4x.%4x.%4x` with nothing after.
fn parse_dothex(s: &str) -> Result<u64, FluidError> {
    let bad = || FluidError::Dothex(s.to_string());
    let mut v: u64 = 0;
    let mut n = 0;
    for group in s.split('.') {
        if group.len() > 4 || n == 4 {
            return Err(bad());
        }
        v = (v << 16) | parse_digits(group, 16).ok_or_else(bad)?;
        n += 1;
    }
    if n != 4 {
        return Err(bad());
    }
    Ok(v)
}

impl From<u64> for JobId {
    fn from(v: u64) -> Self {
        JobId(v)
    }
}

impl From<JobId> for u64 {
    fn from(id: JobId) -> Self {
        id.0
    }
}

impl fmt::Display for JobId {
    /// F58 with `ƒ`; the alternate form `{:#}` uses the ASCII `f` prefix. Width and
    /// alignment are honoured (`{:>12}`) for tables.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if f.alternate() {
            self.to_f58_plain()
        } else {
            self.to_f58()
        };
        f.pad(&s)
    }
}

impl FromStr for JobId {
    type Err = FluidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobId::parse(s)
    }
}

impl Serialize for JobId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = JobId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a job id (integer or string in any FLUID encoding)")
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<JobId, E> {
                Ok(JobId(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<JobId, E> {
                u64::try_from(v)
                    .map(JobId)
                    .map_err(|_| E::custom(format!("negative job id {v}")))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JobId, E> {
                JobId::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests;
