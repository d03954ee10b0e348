//! Large directories at the real thresholds (the unit tests use small ones): stored as
//! RFC 11 `hdir` objects, read back as ordinary directories, joined when they shrink.

use flux_store::tree::hdir::{JOIN_ENTRIES, SPLIT_ENTRIES};
use flux_store::{Kvs, PRIMARY, TreeObj, Txn};

fn blob_type(kvs: &Kvs, key: &str) -> String {
    let TreeObj::DirRef(r) = kvs.snapshot(PRIMARY).unwrap().lookup(key, true).unwrap() else {
        panic!("{key} is not a dirref");
    };
    let v: serde_json::Value = serde_json::from_slice(&kvs.content().load(&r).unwrap()).unwrap();
    v["type"].as_str().unwrap().to_string()
}

#[test]
fn large_directory_lifecycle() {
    let mut kvs = Kvs::temporary().unwrap();
    let n = SPLIT_ENTRIES * 6;
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut t = Txn::new();
        for i in chunk {
            t.put(
                format!("job.0000.0001.0002.{i:04x}.jobspec"),
                format!("{i}"),
            );
        }
        kvs.commit(PRIMARY, &t).unwrap();
    }
    assert_eq!(blob_type(&kvs, "job.0000.0001.0002"), "hdir");
    assert_eq!(blob_type(&kvs, "job.0000.0001"), "dir");
    let snap = kvs.snapshot(PRIMARY).unwrap();
    assert_eq!(snap.list("job.0000.0001.0002").unwrap().len(), n);
    assert_eq!(
        snap.get("job.0000.0001.0002.0abc.jobspec").unwrap(),
        b"2748"
    );
    let TreeObj::DirRef(r) = snap.lookup("job.0000.0001.0002", true).unwrap() else {
        unreachable!()
    };
    assert_eq!(kvs.tree().load_dir(&r).unwrap().len(), n);

    let mut t = Txn::new();
    for i in JOIN_ENTRIES / 2..n {
        t.unlink(format!("job.0000.0001.0002.{i:04x}"));
    }
    kvs.commit(PRIMARY, &t).unwrap();
    assert_eq!(blob_type(&kvs, "job.0000.0001.0002"), "dir");
    let snap = kvs.snapshot(PRIMARY).unwrap();
    assert_eq!(
        snap.list("job.0000.0001.0002").unwrap().len(),
        JOIN_ENTRIES / 2
    );
}
