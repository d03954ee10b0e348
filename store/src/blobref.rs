//! Blobrefs (RFC 10): `<hashname>-<lowercase hex digest>`.
//!
//! Hash choice: the spec (kvs.md §1) names `sha1` as Flux's default `content.hash` and `sha256`
//! as the alternative, with digests of at most 32 bytes and blobref strings of at most 72 chars.
//! We default to **sha1** so that blobrefs look exactly like Flux's (`flux content store` prints
//! what `sha1sum` prints for a blob) and implement it in-crate ([`crate::sha1`]) since no SHA-1
//! crate is in the workspace. **blake3** is offered as an opt-in `content.hash=blake3`: it keeps
//! the RFC 10 shape (32-byte digest, 71-char blobref) and hashes several times faster, for
//! instances that care more about commit throughput than about byte-for-byte Flux blobrefs.
//! The algorithm is fixed per database (recorded by the content store on first open).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Result, StoreError};

/// Longest digest of any supported hash (RFC 10: 32 bytes).
pub const MAX_DIGEST: usize = 32;

/// Longest blobref string allowed by RFC 10.
pub const MAX_BLOBREF_LEN: usize = 72;

/// A content hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HashAlg {
    /// SHA-1, 20-byte digest: Flux's default.
    #[default]
    Sha1,
    /// BLAKE3, 32-byte digest: faster, opt-in.
    Blake3,
}

impl HashAlg {
    /// The name used in blobrefs and in the `content.hash` attribute.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Blake3 => "blake3",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Blake3 => 32,
        }
    }

    /// Parse an algorithm name (`sha1`, `blake3`).
    pub fn from_name(name: &str) -> Result<HashAlg> {
        match name {
            "sha1" => Ok(HashAlg::Sha1),
            "blake3" => Ok(HashAlg::Blake3),
            _ => Err(StoreError::Invalid(format!("unknown hash {name:?}"))),
        }
    }

    /// Hash `data` into a blobref.
    pub fn hash(self, data: &[u8]) -> Blobref {
        let mut digest = [0u8; MAX_DIGEST];
        match self {
            HashAlg::Sha1 => digest[..20].copy_from_slice(&crate::sha1::sha1(data)),
            HashAlg::Blake3 => digest.copy_from_slice(blake3::hash(data).as_bytes()),
        }
        Blobref { alg: self, digest }
    }
}

/// A reference to a blob: hash algorithm plus binary digest. Cheap to copy and compare.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Blobref {
    alg: HashAlg,
    // Unused tail bytes are zero, so derived Eq/Hash/Ord are correct.
    digest: [u8; MAX_DIGEST],
}

impl Blobref {
    /// Build from a binary digest (the `content.store` / `content.load` wire form).
    pub fn from_digest(alg: HashAlg, digest: &[u8]) -> Result<Blobref> {
        if digest.len() != alg.digest_len() {
            return Err(StoreError::InvalidBlobref(format!(
                "{}-byte digest for {}",
                digest.len(),
                alg.name()
            )));
        }
        let mut d = [0u8; MAX_DIGEST];
        d[..digest.len()].copy_from_slice(digest);
        Ok(Blobref { alg, digest: d })
    }

    /// The hash algorithm.
    pub fn alg(&self) -> HashAlg {
        self.alg
    }

    /// The binary digest.
    pub fn digest(&self) -> &[u8] {
        &self.digest[..self.alg.digest_len()]
    }
}

impl Blobref {
    /// Append the string form to `out` (hot path of directory encoding: no formatter).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(self.alg.name().as_bytes());
        out.push(b'-');
        for &b in self.digest() {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

impl fmt::Display for Blobref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = Vec::with_capacity(MAX_BLOBREF_LEN);
        self.write_to(&mut s);
        // Hash names and hex digits are ASCII.
        f.write_str(std::str::from_utf8(&s).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Blobref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Blobref {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Blobref> {
        let bad = || StoreError::InvalidBlobref(s.to_string());
        if s.len() > MAX_BLOBREF_LEN {
            return Err(bad());
        }
        let (name, hex) = s.split_once('-').ok_or_else(bad)?;
        let alg = HashAlg::from_name(name).map_err(|_| bad())?;
        if hex.len() != alg.digest_len() * 2 {
            return Err(bad());
        }
        let mut digest = [0u8; MAX_DIGEST];
        for (i, pair) in hex.as_bytes().chunks_exact(2).enumerate() {
            digest[i] =
                (nibble(pair[0]).ok_or_else(bad)? << 4) | nibble(pair[1]).ok_or_else(bad)?;
        }
        Ok(Blobref { alg, digest })
    }
}

/// Lowercase hex only, as RFC 10 requires.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl Serialize for Blobref {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Blobref {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Blobref, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_blobref_matches_spec_example() {
        let r = HashAlg::Sha1.hash(b"foo\n");
        assert_eq!(
            r.to_string(),
            "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15"
        );
        assert_eq!(r.digest().len(), 20);
    }

    #[test]
    fn roundtrip_string_and_digest() {
        for alg in [HashAlg::Sha1, HashAlg::Blake3] {
            let r = alg.hash(b"hello");
            let s = r.to_string();
            assert!(s.len() <= MAX_BLOBREF_LEN);
            assert_eq!(s.parse::<Blobref>().unwrap(), r);
            assert_eq!(Blobref::from_digest(alg, r.digest()).unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Blobref>(&json).unwrap(), r);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "sha1",
            "sha1-",
            "md5-d41d8cd98f00b204e9800998ecf8427e",
            "sha1-F1D2D2F924E986AC86FDF7B36C94BCDF32BEEC15",
            "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec1",
            "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec1z",
        ] {
            let e = s.parse::<Blobref>().unwrap_err();
            assert_eq!(e.errnum(), 22, "{s}");
        }
        assert!(Blobref::from_digest(HashAlg::Sha1, &[0; 32]).is_err());
        assert!(HashAlg::from_name("sha256").is_err());
    }
}
