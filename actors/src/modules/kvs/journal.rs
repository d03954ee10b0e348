//! The kvs module's journal records, and their replay at start.
//!
//! Each applied change is journaled before it is acknowledged: a commit as the raw
//! `kvs.commit` payloads it merged with the version they produced, and namespace
//! creation and removal. Replay re-applies, in order, what the database does not have yet:
//! a commit only if its namespace is one version behind it; a create only if the
//! namespace is missing; a remove only if it exists.

use bytes::Bytes;
use flux_store::{Blobref, Kvs, Txn};
use serde::Deserialize;

use super::error::{KvsError, KvsResult};
use super::wire::CommitRequest;

/// A commit: the requests merged into version `rootseq` of `namespace`.
pub fn commit_record(namespace: &str, rootseq: u64, payloads: &[&Bytes]) -> Vec<u8> {
    // The payloads parsed as JSON objects already: splice them in rather than re-encode.
    let len = payloads.iter().map(|p| p.len() + 1).sum::<usize>();
    let mut out = Vec::with_capacity(len + 96);
    out.extend_from_slice(br#"{"op":"commit","namespace":"#);
    out.extend_from_slice(&json_string(namespace));
    out.extend_from_slice(format!(r#","rootseq":{rootseq},"requests":["#).as_bytes());
    for (i, p) in payloads.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(p);
    }
    out.extend_from_slice(b"]}");
    out
}

/// A namespace creation.
pub fn create_record(namespace: &str, owner: u32, rootref: Option<Blobref>) -> Vec<u8> {
    let body = serde_json::json!({
        "op": "create", "namespace": namespace, "owner": owner,
        "rootref": rootref.map(|r| r.to_string()),
    });
    body.to_string().into_bytes()
}

/// A namespace removal.
pub fn remove_record(namespace: &str) -> Vec<u8> {
    serde_json::json!({"op": "remove", "namespace": namespace})
        .to_string()
        .into_bytes()
}

fn json_string(s: &str) -> Vec<u8> {
    // Serializing a str cannot fail.
    serde_json::to_vec(s).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Record {
    Commit {
        namespace: String,
        rootseq: u64,
        requests: Vec<CommitRequest>,
    },
    Create {
        namespace: String,
        owner: u32,
        rootref: Option<String>,
    },
    Remove {
        namespace: String,
    },
}

/// What a replay did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records re-applied.
    pub applied: usize,
    /// Records the database already had.
    pub skipped: usize,
    /// Records that could not be applied (unreadable, or not following the database).
    pub failed: usize,
}

/// Re-apply the journal records the database does not have yet.
pub fn replay(kvs: &mut Kvs, records: &[Vec<u8>]) -> ReplayStats {
    let mut stats = ReplayStats::default();
    for record in records {
        match apply(kvs, record) {
            Ok(true) => stats.applied += 1,
            Ok(false) => stats.skipped += 1,
            Err(_) => stats.failed += 1,
        }
    }
    stats
}

fn apply(kvs: &mut Kvs, record: &[u8]) -> KvsResult<bool> {
    match serde_json::from_slice::<Record>(record)? {
        Record::Commit {
            namespace,
            rootseq,
            requests,
        } => {
            let current = kvs.namespace(&namespace)?.rootseq;
            if current >= rootseq {
                return Ok(false);
            }
            if current + 1 != rootseq {
                return Err(KvsError::Proto(format!(
                    "journal: {namespace} is at version {current}, record makes {rootseq}"
                )));
            }
            let txns = requests
                .iter()
                .map(|r| Txn::from_json(&r.ops))
                .collect::<Result<Vec<_>, _>>()?;
            kvs.commit_merged(&namespace, &txns)?;
            Ok(true)
        }
        Record::Create {
            namespace,
            owner,
            rootref,
        } => {
            if kvs.namespace(&namespace).is_ok() {
                return Ok(false);
            }
            let rootref = rootref.map(|r| r.parse::<Blobref>()).transpose()?;
            kvs.create_namespace(&namespace, owner, rootref)?;
            Ok(true)
        }
        Record::Remove { namespace } => {
            if kvs.namespace(&namespace).is_err() {
                return Ok(false);
            }
            kvs.remove_namespace(&namespace)?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flux_store::PRIMARY;

    fn payload(key: &str, value: &str) -> Bytes {
        let mut txn = Txn::new();
        txn.put(key, value);
        let body = serde_json::json!({"namespace": PRIMARY, "ops": txn.to_json().unwrap()});
        Bytes::from(body.to_string())
    }

    #[test]
    fn replay_applies_only_what_is_missing() {
        let (p1, p2, p3) = (payload("a", "1"), payload("b", "2"), payload("c", "3"));
        let records = vec![
            commit_record(PRIMARY, 1, &[&p1]),
            commit_record(PRIMARY, 2, &[&p2, &p3]),
            create_record("ns \"q\"", 42, None),
            remove_record("gone"),
        ];
        // A database that already has the first commit.
        let mut kvs = Kvs::temporary().unwrap();
        kvs.commit(PRIMARY, Txn::new().put("a", "1")).unwrap();
        kvs.create_namespace("gone", 0, None).unwrap();
        let stats = replay(&mut kvs, &records);
        assert_eq!(
            stats,
            ReplayStats {
                applied: 3,
                skipped: 1,
                failed: 0
            }
        );
        let snap = kvs.snapshot(PRIMARY).unwrap();
        assert_eq!(snap.get("b").unwrap(), b"2");
        assert_eq!(snap.get("c").unwrap(), b"3");
        assert_eq!(
            kvs.namespace(PRIMARY).unwrap().rootseq,
            2,
            "merged: one version"
        );
        assert_eq!(kvs.namespace("ns \"q\"").unwrap().owner, 42);
        assert!(kvs.namespace("gone").is_err());
        // Replaying again changes nothing.
        assert_eq!(replay(&mut kvs, &records).applied, 0);
    }

    #[test]
    fn gaps_and_garbage_fail_without_applying() {
        let mut kvs = Kvs::temporary().unwrap();
        let p = payload("a", "1");
        let stats = replay(
            &mut kvs,
            &[commit_record(PRIMARY, 5, &[&p]), b"junk".to_vec()],
        );
        assert_eq!(stats.failed, 2);
        assert_eq!(kvs.namespace(PRIMARY).unwrap().rootseq, 0);
    }
}
