//! Transactions: ordered lists of ops, and their flux wire form
//! (`{"key": s, "flags": i, "dirent": treeobj | null}`).

use serde_json::{Value, json};

use crate::error::{Result, StoreError};
use crate::tree::object::{Dir, Symlink, TreeObj};

/// Op flag `FLUX_KVS_APPEND`.
pub const FLUX_KVS_APPEND: i64 = 32;

/// One transaction op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Store a value (opaque bytes; JSON values are just their bytes).
    Put {
        /// Key.
        key: String,
        /// Value.
        value: Vec<u8>,
    },
    /// Store an arbitrary tree object (`flux kvs put --treeobj`).
    PutTreeObj {
        /// Key.
        key: String,
        /// Object.
        obj: TreeObj,
    },
    /// Remove a key (a directory is removed with its content).
    Unlink {
        /// Key.
        key: String,
    },
    /// Make an empty directory (replacing what was there).
    Mkdir {
        /// Key.
        key: String,
    },
    /// Make a symlink to `target`, optionally in another namespace.
    Symlink {
        /// Key of the link.
        key: String,
        /// Namespace of the target, if not this one.
        namespace: Option<String>,
        /// Target key.
        target: String,
    },
    /// Append bytes to a value (created if missing).
    Append {
        /// Key.
        key: String,
        /// Bytes to append.
        value: Vec<u8>,
    },
}

impl Op {
    /// The key the op names, as given.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. }
            | Op::PutTreeObj { key, .. }
            | Op::Unlink { key }
            | Op::Mkdir { key }
            | Op::Symlink { key, .. }
            | Op::Append { key, .. } => key,
        }
    }

    /// The flux wire form of this op.
    pub fn to_json(&self) -> Result<Value> {
        let (flags, dirent) = match self {
            Op::Put { value, .. } => (0, TreeObj::Val(value.clone()).to_json()?),
            Op::PutTreeObj { obj, .. } => (0, obj.to_json()?),
            Op::Unlink { .. } => (0, Value::Null),
            Op::Mkdir { .. } => (0, TreeObj::Dir(Dir::new()).to_json()?),
            Op::Symlink {
                namespace, target, ..
            } => {
                let link = Symlink {
                    namespace: namespace.clone(),
                    target: target.clone(),
                };
                (0, TreeObj::Symlink(link).to_json()?)
            }
            Op::Append { value, .. } => (FLUX_KVS_APPEND, TreeObj::Val(value.clone()).to_json()?),
        };
        Ok(json!({"key": self.key(), "flags": flags, "dirent": dirent}))
    }

    /// Parse the flux wire form; `EPROTO` if malformed (append needs a `val` dirent).
    pub fn from_json(v: &Value) -> Result<Op> {
        let bad = |why: &str| StoreError::Corrupt(format!("commit op: {why}"));
        let key = v
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing key"))?
            .to_string();
        let flags = v.get("flags").and_then(Value::as_i64).unwrap_or(0);
        let dirent = v.get("dirent").ok_or_else(|| bad("missing dirent"))?;
        if dirent.is_null() {
            return Ok(Op::Unlink { key });
        }
        let obj = TreeObj::from_json(dirent)?;
        if flags & FLUX_KVS_APPEND != 0 {
            return match obj {
                TreeObj::Val(value) => Ok(Op::Append { key, value }),
                _ => Err(bad("append needs a val dirent")),
            };
        }
        Ok(match obj {
            TreeObj::Val(value) => Op::Put { key, value },
            TreeObj::Dir(d) if d.is_empty() => Op::Mkdir { key },
            TreeObj::Symlink(s) => Op::Symlink {
                key,
                namespace: s.namespace,
                target: s.target,
            },
            obj => Op::PutTreeObj { key, obj },
        })
    }
}

/// An ordered list of ops, committed all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    ops: Vec<Op>,
}

impl Txn {
    /// An empty transaction.
    pub fn new() -> Txn {
        Txn::default()
    }

    /// Add any op.
    pub fn push(&mut self, op: Op) -> &mut Txn {
        self.ops.push(op);
        self
    }

    /// Put a value.
    pub fn put(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut Txn {
        self.push(Op::Put {
            key: key.into(),
            value: value.into(),
        })
    }

    /// Put a tree object.
    pub fn put_treeobj(&mut self, key: impl Into<String>, obj: TreeObj) -> &mut Txn {
        self.push(Op::PutTreeObj {
            key: key.into(),
            obj,
        })
    }

    /// Unlink a key (recursively for a directory).
    pub fn unlink(&mut self, key: impl Into<String>) -> &mut Txn {
        self.push(Op::Unlink { key: key.into() })
    }

    /// Make an empty directory.
    pub fn mkdir(&mut self, key: impl Into<String>) -> &mut Txn {
        self.push(Op::Mkdir { key: key.into() })
    }

    /// Make a symlink.
    pub fn symlink(
        &mut self,
        key: impl Into<String>,
        namespace: Option<&str>,
        target: impl Into<String>,
    ) -> &mut Txn {
        self.push(Op::Symlink {
            key: key.into(),
            namespace: namespace.map(str::to_string),
            target: target.into(),
        })
    }

    /// Append to a value.
    pub fn append(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut Txn {
        self.push(Op::Append {
            key: key.into(),
            value: value.into(),
        })
    }

    /// The ops in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no ops.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The `ops` array of a `kvs.commit` request.
    pub fn to_json(&self) -> Result<Value> {
        Ok(Value::Array(
            self.ops.iter().map(Op::to_json).collect::<Result<_>>()?,
        ))
    }

    /// Parse the `ops` array of a `kvs.commit` request.
    pub fn from_json(ops: &Value) -> Result<Txn> {
        let arr = ops
            .as_array()
            .ok_or_else(|| StoreError::Corrupt("commit ops must be an array".into()))?;
        Ok(Txn {
            ops: arr.iter().map(Op::from_json).collect::<Result<_>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_wire_roundtrip() {
        let mut t = Txn::new();
        t.put("a.b", "1")
            .unlink("c")
            .mkdir("d")
            .symlink("e", Some("job-1"), ".")
            .symlink("f", None, "a.b")
            .append("g", b"x".to_vec())
            .put_treeobj("h", TreeObj::Val(b"v".to_vec()));
        assert_eq!(t.len(), 7);
        let wire = t.to_json().unwrap();
        assert_eq!(wire[0]["key"], "a.b");
        assert_eq!(wire[0]["dirent"]["type"], "val");
        assert_eq!(wire[0]["dirent"]["data"], "MQ==");
        assert!(wire[1]["dirent"].is_null());
        assert_eq!(wire[5]["flags"], 32);
        let back = Txn::from_json(&wire).unwrap();
        // `put_treeobj` of a val comes back as a plain put: same meaning.
        assert_eq!(back.ops()[..6], t.ops()[..6]);
        assert_eq!(
            back.ops()[6],
            Op::Put {
                key: "h".into(),
                value: b"v".to_vec()
            }
        );
    }

    #[test]
    fn malformed_wire_ops_are_eproto() {
        for bad in [
            json!({"flags": 0, "dirent": null}),
            json!({"key": "a", "flags": 0}),
            json!({"key": "a", "flags": 32, "dirent": {"ver":1,"type":"dir","data":{}}}),
            json!({"key": "a", "flags": 0, "dirent": {"ver":1,"type":"val","data":"!"}}),
        ] {
            assert_eq!(Op::from_json(&bad).unwrap_err().errnum(), 71, "{bad}");
        }
        assert_eq!(Txn::from_json(&json!({})).unwrap_err().errnum(), 71);
    }
}
