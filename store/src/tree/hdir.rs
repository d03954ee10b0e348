//! RFC 11 `hdir` objects: large directories split into hash buckets.
//!
//! A directory of more than [`SPLIT_ENTRIES`] entries is stored as
//! `{"ver":1,"type":"hdir","data":{"size":N,"func":"fnv1a64-stem","bucket":[dirref,...]}}`:
//! `size` is the number of entries, `func` names the function that picks a bucket, and
//! each `bucket` is a `dirref` to an ordinary `dir` blob holding the entries that hash
//! there. A commit that touches `k` entries of a big directory then rewrites at most `k`
//! small buckets and the bucket array, instead of the whole directory.
//!
//! The function, `fnv1a64-stem`, is the 64-bit FNV-1a hash of the name's *stem* (the name
//! without its last byte, for names of 3 bytes or more; the whole name otherwise), modulo
//! the bucket count (a power of two). Names that differ only in their last character share
//! a bucket: consecutive job ids (`job.<dothex>` entries `0000`, `0001`, ...) touched by one
//! commit land in one or two buckets rather than one bucket each, while unrelated names
//! still spread evenly.
//!
//! A `dirref` may point to a `dir` or an `hdir` blob (RFC 11). The [`TreeObj`] API never
//! exposes an `hdir`: directory reads ([`crate::tree::TreeStore::load_dir`], `READDIR`)
//! materialize the merged entries, and lookups of one key read only its bucket.
//!
//! [`TreeObj`]: crate::tree::object::TreeObj

use serde::Deserialize;

use crate::blobref::Blobref;
use crate::error::{Result, StoreError};
use crate::tree::object::TreeObj;

/// A plain directory with more entries than this is written as an `hdir` (unit tests of
/// this crate use small thresholds, so that every test exercises hashed directories).
pub const SPLIT_ENTRIES: usize = if cfg!(test) { 24 } else { 512 };
/// An `hdir` left with fewer entries than this is written back as a plain `dir`.
pub const JOIN_ENTRIES: usize = if cfg!(test) { 8 } else { 128 };
/// Name of the bucket function, in `func`.
pub const FUNC: &str = "fnv1a64-stem";

const MIN_BUCKETS: usize = 16;
const MAX_BUCKETS: usize = 1 << 14;

/// The prefix this crate writes (decoding also accepts other field orders).
const PREFIX: &[u8] = br#"{"ver":1,"type":"hdir","#;

/// A decoded `hdir`: entry count and bucket directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HDir {
    /// Number of entries in all buckets.
    pub size: usize,
    /// The bucket directories (a power-of-two count).
    pub buckets: Vec<Blobref>,
}

/// 64-bit FNV-1a of the stem of a name.
fn fnv1a64_stem(name: &str) -> u64 {
    let b = name.as_bytes();
    let stem = if b.len() >= 3 { &b[..b.len() - 1] } else { b };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in stem {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The bucket of `name` among `buckets` (a power of two).
pub fn bucket_of(name: &str, buckets: usize) -> usize {
    debug_assert!(buckets.is_power_of_two());
    // Truncation is intended: the low bits select the bucket.
    (fnv1a64_stem(name) & (buckets as u64 - 1)) as usize
}

/// Bucket count for `size` entries: about `sqrt(4 * size)`, so that the bucket array and
/// the few buckets a commit touches cost about the same to rewrite.
pub fn target_buckets(size: usize) -> usize {
    let want = (size.saturating_mul(4) as f64).sqrt() as usize;
    want.next_power_of_two().clamp(MIN_BUCKETS, MAX_BUCKETS)
}

/// Whether an `hdir` of `buckets` buckets holding `size` entries should be rebuilt (joined
/// into a plain `dir` or re-bucketed): only on a 4x drift, so rebuilds are amortized.
pub fn needs_rebuild(size: usize, buckets: usize) -> bool {
    let target = target_buckets(size);
    size < JOIN_ENTRIES
        || target >= buckets.saturating_mul(4)
        || target.saturating_mul(4) <= buckets
}

impl HDir {
    /// The canonical JSON form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.buckets.len() * 80);
        out.extend_from_slice(PREFIX);
        out.extend_from_slice(br#""data":{"size":"#);
        out.extend_from_slice(self.size.to_string().as_bytes());
        out.extend_from_slice(br#","func":""#);
        out.extend_from_slice(FUNC.as_bytes());
        out.extend_from_slice(br#"","bucket":["#);
        for (i, r) in self.buckets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            TreeObj::DirRef(*r).write_json(&mut out);
        }
        out.extend_from_slice(b"]}}");
        out
    }

    /// Whether a blob looks like an `hdir` written by this crate (cheap test).
    pub fn is_hdir_blob(blob: &[u8]) -> bool {
        blob.starts_with(PREFIX)
    }

    /// Parse an `hdir` blob; `EPROTO` if it is not one this crate can read.
    pub fn decode(blob: &[u8]) -> Result<HDir> {
        #[derive(Deserialize)]
        struct Obj {
            ver: i64,
            #[serde(rename = "type")]
            kind: String,
            data: Data,
        }
        #[derive(Deserialize)]
        struct Data {
            size: usize,
            func: String,
            bucket: Vec<TreeObj>,
        }
        let bad = |why: String| StoreError::Corrupt(format!("hdir: {why}"));
        let obj: Obj = serde_json::from_slice(blob).map_err(|e| bad(e.to_string()))?;
        if obj.ver != 1 || obj.kind != "hdir" {
            return Err(bad("not a version 1 hdir object".into()));
        }
        if obj.data.func != FUNC {
            return Err(bad(format!("unknown bucket function {:?}", obj.data.func)));
        }
        if !obj.data.bucket.len().is_power_of_two() {
            return Err(bad("bucket count must be a power of two".into()));
        }
        let buckets = obj
            .data
            .bucket
            .into_iter()
            .map(|b| match b {
                TreeObj::DirRef(r) => Ok(r),
                other => Err(bad(format!("bucket is a {}", other.type_name()))),
            })
            .collect::<Result<_>>()?;
        Ok(HDir {
            size: obj.data.size,
            buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobref::HashAlg;

    #[test]
    fn encode_decode_roundtrip() {
        let h = HDir {
            size: 1234,
            buckets: (0..16u8).map(|i| HashAlg::Sha1.hash(&[i])).collect(),
        };
        let enc = h.encode();
        assert!(HDir::is_hdir_blob(&enc));
        assert_eq!(HDir::decode(&enc).unwrap(), h);
        let v: serde_json::Value = serde_json::from_slice(&enc).unwrap();
        assert_eq!(v["type"], "hdir");
        assert_eq!(v["data"]["size"], 1234);
        assert_eq!(v["data"]["func"], FUNC);
        assert_eq!(v["data"]["bucket"][3]["type"], "dirref");
        // Other field orders decode too.
        let mut other = serde_json::json!({"data": v["data"].clone(), "type": "hdir", "ver": 1});
        assert_eq!(
            HDir::decode(&serde_json::to_vec(&other).unwrap()).unwrap(),
            h
        );
        other["data"]["func"] = "murmur3".into();
        let e = HDir::decode(&serde_json::to_vec(&other).unwrap()).unwrap_err();
        assert_eq!(e.errnum(), 71);
    }

    #[test]
    fn malformed_hdirs_are_eproto() {
        for bad in [
            &br#"{"ver":1,"type":"hdir","data":{"size":0,"func":"fnv1a64-stem","bucket":[]}}"#[..],
            br#"{"ver":2,"type":"hdir","data":{"size":0,"func":"fnv1a64-stem","bucket":[]}}"#,
            br#"{"ver":1,"type":"dir","data":{}}"#,
            br#"{"ver":1,"type":"hdir","data":{"size":0,"func":"fnv1a64-stem","bucket":[{"ver":1,"type":"val","data":""}]}}"#,
            b"junk",
        ] {
            assert_eq!(HDir::decode(bad).unwrap_err().errnum(), 71);
        }
    }

    #[test]
    fn buckets_are_spread_and_stable() {
        assert_eq!(bucket_of("0000", 64), bucket_of("0000", 64));
        // Names differing in the last character share a bucket.
        assert_eq!(bucket_of("0120", 64), bucket_of("012f", 64));
        let mut counts = vec![0usize; 64];
        for i in 0..0x10000u32 {
            counts[bucket_of(&format!("{i:04x}"), 64)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 512 && c < 1536), "{counts:?}");
        let mut counts = vec![0usize; 64];
        for i in 0..6400u32 {
            counts[bucket_of(&format!("k{i}"), 64)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 25 && c < 200), "{counts:?}");
        assert_eq!(target_buckets(0), MIN_BUCKETS);
        assert_eq!(target_buckets(513), 64);
        assert_eq!(target_buckets(usize::MAX / 16), MAX_BUCKETS);
        assert!(needs_rebuild(JOIN_ENTRIES - 1, 64));
        assert!(!needs_rebuild(513, 64));
        assert!(needs_rebuild(100_000, 64));
    }
}
