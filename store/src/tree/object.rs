//! RFC 11 tree objects and their JSON form `{"ver":1,"type":T,"data":D}`.
//!
//! Encoding is hand-written (it runs for every directory of every commit and must be
//! deterministic: fields in the spec's order, directory entries sorted by name).
//! Decoding uses serde with a seed so `data` is parsed directly into the right shape.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::base64;
use crate::blobref::Blobref;
use crate::error::{Result, StoreError};

/// A directory: entry name -> tree object, sorted by name.
pub type Dir = BTreeMap<String, TreeObj>;

/// A symlink target: a key, optionally in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symlink {
    /// Namespace of the target, if not the link's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Target key (absolute from the root of its namespace).
    pub target: String,
}

/// One KVS entry (RFC 11 "dirent").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeObj {
    /// Opaque value stored inline.
    Val(Vec<u8>),
    /// Value stored as the concatenation of these blobs.
    ValRef(Vec<Blobref>),
    /// Directory stored inline.
    Dir(Dir),
    /// Directory stored in a blob.
    DirRef(Blobref),
    /// Link to another key.
    Symlink(Symlink),
}

impl TreeObj {
    /// The RFC 11 type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            TreeObj::Val(_) => "val",
            TreeObj::ValRef(_) => "valref",
            TreeObj::Dir(_) => "dir",
            TreeObj::DirRef(_) => "dirref",
            TreeObj::Symlink(_) => "symlink",
        }
    }

    /// Whether this is a directory (inline or by reference).
    pub fn is_dir(&self) -> bool {
        matches!(self, TreeObj::Dir(_) | TreeObj::DirRef(_))
    }

    /// Serialize to compact JSON.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out);
        out
    }

    /// Serialize a directory as a `dir` object (the content of a `dirref` blob).
    pub fn encode_dir(dir: &Dir) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + dir.len() * 64);
        out.extend_from_slice(br#"{"ver":1,"type":"dir","data":"#);
        write_dir_data(dir, &mut out);
        out.push(b'}');
        out
    }

    /// Parse one tree object from JSON; `EPROTO` if malformed.
    pub fn decode(json: &[u8]) -> Result<TreeObj> {
        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Convert from a JSON value (e.g. a dirent inside a commit request).
    pub fn from_json(v: &serde_json::Value) -> Result<TreeObj> {
        TreeObj::deserialize(v).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Convert to a JSON value.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.encode()).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Append the compact JSON form to `out`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"ver":1,"type":""#);
        out.extend_from_slice(self.type_name().as_bytes());
        out.extend_from_slice(br#"","data":"#);
        match self {
            TreeObj::Val(v) => {
                out.push(b'"');
                base64::encode_into(v, out);
                out.push(b'"');
            }
            TreeObj::ValRef(refs) => write_refs(refs, out),
            TreeObj::DirRef(r) => write_refs(std::slice::from_ref(r), out),
            TreeObj::Dir(d) => write_dir_data(d, out),
            TreeObj::Symlink(s) => {
                out.push(b'{');
                if let Some(ns) = &s.namespace {
                    out.extend_from_slice(br#""namespace":"#);
                    write_str(ns, out);
                    out.push(b',');
                }
                out.extend_from_slice(br#""target":"#);
                write_str(&s.target, out);
                out.push(b'}');
            }
        }
        out.push(b'}');
    }
}

fn write_refs(refs: &[Blobref], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, r) in refs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        // Blobrefs are ASCII hash names and hex: no escaping needed.
        r.write_to(out);
        out.push(b'"');
    }
    out.push(b']');
}

fn write_dir_data(dir: &Dir, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (name, obj)) in dir.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(name, out);
        out.push(b':');
        obj.write_json(out);
    }
    out.push(b'}');
}

/// Write a JSON string literal with the escapes JSON requires.
fn write_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

impl fmt::Display for TreeObj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.encode()))
    }
}

impl Serialize for TreeObj {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // Go through our canonical encoding so both paths agree byte for byte.
        let v: serde_json::Value =
            serde_json::from_slice(&self.encode()).map_err(serde::ser::Error::custom)?;
        v.serialize(s)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Val,
    ValRef,
    Dir,
    DirRef,
    Symlink,
}

impl Kind {
    fn from_name<E: de::Error>(s: &str) -> std::result::Result<Kind, E> {
        Ok(match s {
            "val" => Kind::Val,
            "valref" => Kind::ValRef,
            "dir" => Kind::Dir,
            "dirref" => Kind::DirRef,
            "symlink" => Kind::Symlink,
            "hdir" => return Err(E::custom("hdir tree objects are not supported")),
            _ => return Err(E::custom(format!("unknown tree object type {s:?}"))),
        })
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Ver,
    Type,
    Data,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for TreeObj {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<TreeObj, D::Error> {
        d.deserialize_map(ObjVisitor)
    }
}

struct ObjVisitor;

impl<'de> Visitor<'de> for ObjVisitor {
    type Value = TreeObj;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 11 tree object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<TreeObj, A::Error> {
        let mut ver: Option<i64> = None;
        let mut kind: Option<Kind> = None;
        let mut data: Option<TreeObj> = None;
        // `data` before `type` (other encoders may order fields differently): keep it raw.
        let mut early: Option<serde_json::Value> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Ver => ver = Some(map.next_value()?),
                Field::Type => {
                    let name: std::borrow::Cow<'de, str> = map.next_value()?;
                    kind = Some(Kind::from_name(&name)?);
                }
                Field::Data => match kind {
                    Some(k) => data = Some(map.next_value_seed(DataSeed(k))?),
                    None => early = Some(map.next_value()?),
                },
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if ver != Some(1) {
            return Err(de::Error::custom("tree object version must be 1"));
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        match (data, early) {
            (Some(obj), _) => Ok(obj),
            (None, Some(v)) => DataSeed(kind).deserialize(v).map_err(de::Error::custom),
            (None, None) => Err(de::Error::missing_field("data")),
        }
    }
}

/// Parses `data` of a known kind straight into a [`TreeObj`].
struct DataSeed(Kind);

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = TreeObj;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<TreeObj, D::Error> {
        match self.0 {
            Kind::Val => {
                let s: std::borrow::Cow<'de, str> = Deserialize::deserialize(d)?;
                base64::decode(&s)
                    .map(TreeObj::Val)
                    .ok_or_else(|| de::Error::custom("val data is not base64"))
            }
            Kind::ValRef => Ok(TreeObj::ValRef(Vec::deserialize(d)?)),
            Kind::DirRef => {
                let refs: Vec<Blobref> = Vec::deserialize(d)?;
                match refs.as_slice() {
                    [r] => Ok(TreeObj::DirRef(*r)),
                    _ => Err(de::Error::custom("dirref must hold exactly one blobref")),
                }
            }
            Kind::Dir => d.deserialize_map(DirVisitor).map(TreeObj::Dir),
            Kind::Symlink => Ok(TreeObj::Symlink(Symlink::deserialize(d)?)),
        }
    }
}

struct DirVisitor;

impl<'de> Visitor<'de> for DirVisitor {
    type Value = Dir;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a directory object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Dir, A::Error> {
        let mut dir = Dir::new();
        while let Some((name, obj)) = map.next_entry::<String, TreeObj>()? {
            dir.insert(name, obj);
        }
        Ok(dir)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> std::result::Result<Dir, A::Error> {
        Err(de::Error::custom("dir data must be an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobref::HashAlg;

    fn roundtrip(o: &TreeObj) {
        let enc = o.encode();
        assert_eq!(&TreeObj::decode(&enc).unwrap(), o, "{}", o);
    }

    #[test]
    fn spec_examples_decode() {
        let v = TreeObj::decode(br#"{"ver":1,"type":"val","data":"NDIyCg=="}"#).unwrap();
        assert_eq!(v, TreeObj::Val(b"422\n".to_vec()));
        let d = TreeObj::decode(
            br#"{"ver":1,"type":"dir","data":{"a":{"ver":1,"type":"val","data":"Zm9v"}}}"#,
        )
        .unwrap();
        let mut dir = Dir::new();
        dir.insert("a".into(), TreeObj::Val(b"foo".to_vec()));
        assert_eq!(d, TreeObj::Dir(dir));
        let s = TreeObj::decode(
            br#"{"ver":1,"type":"symlink","data":{"namespace":"job-123","target":"."}}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            TreeObj::Symlink(Symlink {
                namespace: Some("job-123".into()),
                target: ".".into()
            })
        );
    }

    #[test]
    fn encoding_is_canonical() {
        assert_eq!(
            TreeObj::Val(b"422\n".to_vec()).encode(),
            br#"{"ver":1,"type":"val","data":"NDIyCg=="}"#
        );
        let r = HashAlg::Sha1.hash(b"foo\n");
        assert_eq!(
            TreeObj::DirRef(r).encode(),
            br#"{"ver":1,"type":"dirref","data":["sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15"]}"#
        );
        let mut dir = Dir::new();
        dir.insert("b".into(), TreeObj::Val(vec![]));
        dir.insert("a".into(), TreeObj::Val(vec![]));
        let enc = TreeObj::encode_dir(&dir);
        assert_eq!(enc, TreeObj::Dir(dir).encode());
        let s = String::from_utf8(enc).unwrap();
        assert!(s.find("\"a\"").unwrap() < s.find("\"b\"").unwrap());
    }

    #[test]
    fn all_kinds_roundtrip() {
        let r1 = HashAlg::Sha1.hash(b"1");
        let r2 = HashAlg::Sha1.hash(b"2");
        let mut dir = Dir::new();
        dir.insert(
            "quote\"back\\slash\nctl\u{1}é".into(),
            TreeObj::Val(b"x".to_vec()),
        );
        dir.insert("ref".into(), TreeObj::ValRef(vec![r1, r2]));
        dir.insert("sub".into(), TreeObj::DirRef(r1));
        dir.insert(
            "link".into(),
            TreeObj::Symlink(Symlink {
                namespace: None,
                target: "a.b".into(),
            }),
        );
        dir.insert("empty".into(), TreeObj::Dir(Dir::new()));
        roundtrip(&TreeObj::Dir(dir.clone()));
        roundtrip(&TreeObj::Val((0..=255).collect()));
        let json = TreeObj::Dir(dir.clone()).to_json().unwrap();
        assert_eq!(TreeObj::from_json(&json).unwrap(), TreeObj::Dir(dir));
    }

    #[test]
    fn field_order_does_not_matter() {
        let o = TreeObj::decode(br#"{"data":"Zm9v","type":"val","ver":1}"#).unwrap();
        assert_eq!(o, TreeObj::Val(b"foo".to_vec()));
        let o = TreeObj::decode(br#"{"data":{},"ver":1,"type":"dir","extra":[1]}"#).unwrap();
        assert_eq!(o, TreeObj::Dir(Dir::new()));
    }

    #[test]
    fn malformed_objects_are_eproto() {
        for bad in [
            &br#"{"ver":2,"type":"val","data":""}"#[..],
            br#"{"ver":1,"type":"val","data":"!!"}"#,
            br#"{"ver":1,"type":"nope","data":""}"#,
            br#"{"ver":1,"type":"hdir","data":{}}"#,
            br#"{"ver":1,"type":"dirref","data":[]}"#,
            br#"{"ver":1,"type":"valref","data":["sha1-xyz"]}"#,
            br#"{"ver":1,"type":"val"}"#,
            br#"{"ver":1,"type":"dir","data":[]}"#,
            br#"[1]"#,
            b"not json",
        ] {
            let e = TreeObj::decode(bad).unwrap_err();
            assert_eq!(e.errnum(), 71, "{}", String::from_utf8_lossy(bad));
        }
    }
}
