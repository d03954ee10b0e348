//! Behaviour of commits, lookups and namespaces.

use super::*;
use crate::content::open_db;

fn kvs() -> Kvs {
    Kvs::temporary().unwrap()
}

fn put(kvs: &mut Kvs, key: &str, val: &str) -> CommitResult {
    let mut t = Txn::new();
    t.put(key, val);
    kvs.commit(PRIMARY, &t).unwrap()
}

fn get(kvs: &Kvs, key: &str) -> Result<Vec<u8>> {
    kvs.snapshot(PRIMARY).unwrap().get(key)
}

fn errnum<T: std::fmt::Debug>(r: Result<T>) -> i32 {
    r.unwrap_err().errnum()
}

#[test]
fn put_get_and_versions() {
    let mut k = kvs();
    let ns0 = k.namespace(PRIMARY).unwrap().clone();
    assert_eq!(ns0.rootseq, 0);
    let r = put(&mut k, "a.b.c", "42");
    assert_eq!(r.rootseq, 1);
    assert_ne!(r.rootref, ns0.rootref);
    assert_eq!(r.keys.iter().collect::<Vec<_>>(), ["a.b.c"]);
    assert_eq!(get(&k, "a.b.c").unwrap(), b"42");
    assert_eq!(get(&k, "..a..b.c").unwrap(), b"42");
    assert_eq!(k.snapshot(PRIMARY).unwrap().list("a").unwrap(), ["b"]);
    assert_eq!(k.snapshot(PRIMARY).unwrap().list(".").unwrap(), ["a"]);
    assert_eq!(k.namespace(PRIMARY).unwrap().rootseq, 1);
}

#[test]
fn lookup_errors() {
    let mut k = kvs();
    put(&mut k, "a.b", "1");
    let s = k.snapshot(PRIMARY).unwrap();
    assert_eq!(errnum(s.get("nope")), 2);
    assert_eq!(errnum(s.get("a.nope")), 2);
    assert_eq!(errnum(s.get("a")), 21);
    assert_eq!(errnum(s.get(".")), 21);
    assert_eq!(errnum(s.get_dir("a.b")), 20);
    assert_eq!(errnum(s.get("a.b.c")), 20);
    assert_eq!(errnum(s.lookup("a.b.", true)), 20);
    assert_eq!(errnum(s.readlink("a.b")), 22);
    assert_eq!(errnum(s.get("")), 22);
    assert!(s.exists("a.b").unwrap());
    assert!(!s.exists("a.c").unwrap());
    assert_eq!(errnum(k.snapshot("nons").map(|_| ())), 95);
}

#[test]
fn dir_and_value_replace_each_other() {
    let mut k = kvs();
    put(&mut k, "a", "1");
    put(&mut k, "a.b", "2");
    assert_eq!(get(&k, "a.b").unwrap(), b"2");
    put(&mut k, "a", "3");
    assert_eq!(get(&k, "a").unwrap(), b"3");
    assert_eq!(errnum(get(&k, "a.b")), 20);
}

#[test]
fn unlink_semantics() {
    let mut k = kvs();
    put(&mut k, "d.x", "1");
    put(&mut k, "d.y.z", "2");
    put(&mut k, "v", "3");
    let mut t = Txn::new();
    t.unlink("d").unlink("missing").unlink("v.below.value");
    k.commit(PRIMARY, &t).unwrap();
    assert_eq!(errnum(get(&k, "d.x")), 2);
    assert_eq!(get(&k, "v").unwrap(), b"3");
    let mut t = Txn::new();
    t.unlink(".");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 22);
}

#[test]
fn mkdir_makes_empty_dir() {
    let mut k = kvs();
    put(&mut k, "d.x", "1");
    let mut t = Txn::new();
    t.mkdir("d").mkdir("e.f");
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert!(s.list("d").unwrap().is_empty());
    assert!(s.list("e.f").unwrap().is_empty());
    assert!(s.lookup("d.", true).unwrap().is_dir());
}

#[test]
fn symlinks() {
    let mut k = kvs();
    put(&mut k, "real.dir.val", "v");
    let mut t = Txn::new();
    t.symlink("link", None, "real.dir")
        .symlink("vlink", None, "real.dir.val")
        .symlink("dangling", None, "no.where")
        .symlink("loop1", None, "loop2")
        .symlink("loop2", None, "loop1");
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert_eq!(s.get("link.val").unwrap(), b"v");
    assert_eq!(s.get("vlink").unwrap(), b"v");
    assert_eq!(s.list("link").unwrap(), ["val"]);
    assert_eq!(s.readlink("link").unwrap().target, "real.dir");
    assert_eq!(errnum(s.get("dangling")), 2);
    assert_eq!(errnum(s.get("loop1")), 40);
    assert!(matches!(
        s.lookup("link", false).unwrap(),
        TreeObj::Symlink(_)
    ));
    // A commit through a symlink on the path writes to the target.
    put(&mut k, "link.new", "n");
    assert_eq!(get(&k, "real.dir.new").unwrap(), b"n");
    let mut t = Txn::new();
    t.put("loop1.x", "1");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 40);
}

#[test]
fn cross_namespace_symlinks() {
    let mut k = kvs();
    k.create_namespace("job-1", 1000, None).unwrap();
    let mut t = Txn::new();
    t.put("out", "hello");
    k.commit("job-1", &t).unwrap();
    let mut t = Txn::new();
    t.symlink("job.guest", Some("job-1"), ".");
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert_eq!(s.get("job.guest.out").unwrap(), b"hello");
    let link = s.readlink("job.guest").unwrap();
    assert_eq!(link.namespace.as_deref(), Some("job-1"));
    // Commits cannot cross into another namespace.
    let mut t = Txn::new();
    t.put("job.guest.x", "1");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 22);
    // Removed namespace: following the link fails with ENOTSUP.
    k.remove_namespace("job-1").unwrap();
    assert_eq!(
        errnum(k.snapshot(PRIMARY).unwrap().get("job.guest.out")),
        95
    );
}

#[test]
fn valref_threshold() {
    let mut k = kvs();
    let small = "x".repeat(54); // base64: 72 chars -> inline
    let large = "y".repeat(55); // base64: 76 chars -> valref
    let mut t = Txn::new();
    t.put("s", small.clone()).put("l", large.clone());
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert!(matches!(s.lookup("s", true).unwrap(), TreeObj::Val(_)));
    match s.lookup("l", true).unwrap() {
        TreeObj::ValRef(refs) => {
            assert_eq!(refs.len(), 1);
            assert_eq!(
                k.content().load(&refs[0]).unwrap().as_ref(),
                large.as_bytes()
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(s.get("l").unwrap(), large.as_bytes());
}

#[test]
fn append_semantics() {
    let mut k = kvs();
    let mut t = Txn::new();
    t.append("log", "a").append("log", "b");
    k.commit(PRIMARY, &t).unwrap();
    let mut t = Txn::new();
    t.append("log", "c");
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert_eq!(s.get("log").unwrap(), b"abc");
    match s.lookup("log", true).unwrap() {
        TreeObj::ValRef(refs) => assert_eq!(refs.len(), 3),
        other => panic!("{other}"),
    }
    put(&mut k, "d.x", "1");
    let mut t = Txn::new();
    t.append("d", "z");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 21);
    let mut t = Txn::new();
    t.symlink("l", None, "log");
    k.commit(PRIMARY, &t).unwrap();
    let mut t = Txn::new();
    t.append("l", "z");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 95);
}

#[test]
fn failed_commit_changes_nothing() {
    let mut k = kvs();
    put(&mut k, "d.x", "1");
    let before = k.namespace(PRIMARY).unwrap().clone();
    let blobs = k.content().count();
    let mut t = Txn::new();
    t.put("new", "1").put("other.key", "2").append("d", "boom");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 21);
    assert_eq!(k.namespace(PRIMARY).unwrap(), &before);
    assert_eq!(k.content().count(), blobs);
    assert_eq!(errnum(get(&k, "new")), 2);
    let mut t = Txn::new();
    t.put("ok", "1").put("bad..", "2").put("", "3");
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 22);
    assert_eq!(k.namespace(PRIMARY).unwrap(), &before);
}

#[test]
fn blob_limit_fails_commit() {
    let content = ContentStore::temporary(ContentConfig {
        blob_size_limit: 100,
        ..ContentConfig::default()
    })
    .unwrap();
    let mut k = Kvs::open(content, KvsConfig::default()).unwrap();
    let before = k.namespace(PRIMARY).unwrap().clone();
    let mut t = Txn::new();
    t.put("big", vec![0u8; 101]);
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 27);
    // Many small values: the directory object itself outgrows the limit.
    let mut t = Txn::new();
    for i in 0..10 {
        t.put(format!("k{i}"), "v");
    }
    assert_eq!(errnum(k.commit(PRIMARY, &t)), 27);
    assert_eq!(k.namespace(PRIMARY).unwrap(), &before);
}

#[test]
fn merged_commit_is_one_version() {
    let mut k = kvs();
    let mut t1 = Txn::new();
    t1.put("a", "1").put("x.y", "first");
    let mut t2 = Txn::new();
    t2.put("b", "2").put("x.y", "second");
    let r = k.commit_merged(PRIMARY, [&t1, &t2]).unwrap();
    assert_eq!(r.rootseq, 1);
    assert_eq!(r.keys.iter().collect::<Vec<_>>(), ["a", "b", "x.y"]);
    assert_eq!(get(&k, "x.y").unwrap(), b"second");
    // A failing member fails the whole merge.
    let mut bad = Txn::new();
    bad.append("x", "boom");
    let mut t3 = Txn::new();
    t3.put("c", "3");
    assert_eq!(errnum(k.commit_merged(PRIMARY, [&t3, &bad])), 21);
    assert_eq!(k.namespace(PRIMARY).unwrap().rootseq, 1);
    assert_eq!(errnum(get(&k, "c")), 2);
}

#[test]
fn snapshots_see_old_roots_and_content_is_deduplicated() {
    let mut k = kvs();
    let r1 = put(&mut k, "a", "1");
    let r2 = put(&mut k, "a", "2");
    assert_eq!(k.at(r1.rootref).get("a").unwrap(), b"1");
    assert_eq!(k.at(r2.rootref).get("a").unwrap(), b"2");
    let r3 = put(&mut k, "a", "1");
    assert_eq!(r3.rootref, r1.rootref);
    assert_eq!(r3.rootseq, 3);
    // A dirref treeobj put elsewhere is a cheap copy of a subtree.
    put(&mut k, "src.deep.v", "x");
    let src = k.snapshot(PRIMARY).unwrap().lookup("src", true).unwrap();
    let mut t = Txn::new();
    t.put_treeobj("dst", src);
    k.commit(PRIMARY, &t).unwrap();
    assert_eq!(get(&k, "dst.deep.v").unwrap(), b"x");
}

#[test]
fn inline_dir_treeobj_is_unrolled() {
    let mut k = kvs();
    let mut dir = Dir::new();
    dir.insert("v".into(), TreeObj::Val(b"1".to_vec()));
    let mut t = Txn::new();
    t.put_treeobj("d", TreeObj::Dir(dir));
    k.commit(PRIMARY, &t).unwrap();
    let s = k.snapshot(PRIMARY).unwrap();
    assert!(matches!(s.lookup("d", true).unwrap(), TreeObj::DirRef(_)));
    assert_eq!(s.get("d.v").unwrap(), b"1");
}

#[test]
fn namespaces() {
    let mut k = kvs();
    let ns = k.create_namespace("test", 42, None).unwrap().clone();
    assert_eq!((ns.owner, ns.rootseq), (42, 0));
    assert_eq!(errnum(k.create_namespace("test", 1, None).map(|_| ())), 17);
    assert_eq!(errnum(k.create_namespace("", 1, None).map(|_| ())), 22);
    let mut t = Txn::new();
    t.put("k", "in test");
    k.commit("test", &t).unwrap();
    assert_eq!(k.snapshot("test").unwrap().get("k").unwrap(), b"in test");
    assert_eq!(errnum(get(&k, "k")), 2);
    let names: Vec<_> = k.namespaces().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, ["primary", "test"]);
    // Create at an existing root.
    let root = k.namespace("test").unwrap().rootref;
    k.create_namespace("copy", 7, Some(root)).unwrap();
    assert_eq!(k.snapshot("copy").unwrap().get("k").unwrap(), b"in test");
    let missing = k.content().hash(b"not stored");
    assert_eq!(
        errnum(k.create_namespace("bad", 7, Some(missing)).map(|_| ())),
        2
    );
    assert_eq!(errnum(k.remove_namespace(PRIMARY)), 22);
    assert_eq!(errnum(k.remove_namespace("nope")), 95);
    k.remove_namespace("test").unwrap();
    assert_eq!(errnum(k.commit("test", &t)), 95);
}

#[test]
fn reopen_restores_namespaces_and_roots() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let db = open_db(Some(dir.path())).unwrap();
        let content = ContentStore::open(&db, ContentConfig::default()).unwrap();
        Kvs::open(
            content,
            KvsConfig {
                owner: 1000,
                ..KvsConfig::default()
            },
        )
        .unwrap()
    };
    let (primary, guest) = {
        let mut k = open();
        put(&mut k, "job.0000.eventlog", "{\"name\":\"submit\"}\n");
        k.create_namespace("job-5", 1001, None).unwrap();
        let mut t = Txn::new();
        t.put("output", "x".repeat(100));
        k.commit("job-5", &t).unwrap();
        put(&mut k, "big", &"y".repeat(1000));
        k.sync().unwrap();
        (
            k.namespace(PRIMARY).unwrap().clone(),
            k.namespace("job-5").unwrap().clone(),
        )
    };
    let k = open();
    assert_eq!(k.namespace(PRIMARY).unwrap(), &primary);
    assert_eq!(k.namespace("job-5").unwrap(), &guest);
    assert_eq!(primary.owner, 1000);
    assert_eq!(primary.rootseq, 2);
    assert_eq!(
        get(&k, "job.0000.eventlog").unwrap(),
        b"{\"name\":\"submit\"}\n"
    );
    assert_eq!(get(&k, "big").unwrap().len(), 1000);
    assert_eq!(
        k.snapshot("job-5").unwrap().get("output").unwrap(),
        "x".repeat(100).as_bytes()
    );
    assert_eq!(k.namespaces().count(), 2);
}

#[test]
fn wire_ops_commit() {
    let mut k = kvs();
    let ops = serde_json::json!([
        {"key": "a", "flags": 0, "dirent": {"ver":1,"type":"val","data":"NDIyCg=="}},
        {"key": "log", "flags": 32, "dirent": {"ver":1,"type":"val","data":"Zm9v"}},
        {"key": "d", "flags": 0, "dirent": {"ver":1,"type":"dir","data":{}}},
    ]);
    let t = Txn::from_json(&ops).unwrap();
    k.commit(PRIMARY, &t).unwrap();
    assert_eq!(get(&k, "a").unwrap(), b"422\n");
    assert_eq!(get(&k, "log").unwrap(), b"foo");
}

#[test]
fn clean_drop_persists_without_sync() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let db = open_db(Some(dir.path())).unwrap();
        Kvs::open(
            ContentStore::open(&db, ContentConfig::default()).unwrap(),
            KvsConfig::default(),
        )
        .unwrap()
    };
    let ns = {
        let mut k = open();
        put(&mut k, "a.b", "1");
        k.namespace(PRIMARY).unwrap().clone()
    };
    // sled flushes when its last handle drops; `sync` is for crashes.
    let k = open();
    assert_eq!(k.namespace(PRIMARY).unwrap(), &ns);
    assert_eq!(get(&k, "a.b").unwrap(), b"1");
}

#[test]
fn empty_commit_bumps_version_only() {
    let mut k = kvs();
    let r0 = k.namespace(PRIMARY).unwrap().rootref;
    let r = k.commit(PRIMARY, &Txn::new()).unwrap();
    assert_eq!((r.rootref, r.rootseq), (r0, 1));
    assert!(r.keys.is_empty());
}

#[test]
fn old_roots_outlive_their_namespace() {
    let mut k = kvs();
    k.create_namespace("tmp", 1, None).unwrap();
    let mut t = Txn::new();
    t.put("x", "kept");
    let r = k.commit("tmp", &t).unwrap();
    k.remove_namespace("tmp").unwrap();
    assert_eq!(k.at(r.rootref).get("x").unwrap(), b"kept");
    // A root that is not a directory cannot be read.
    let blob = k.content().store(b"raw").unwrap();
    assert_eq!(errnum(k.at(blob).get("x")), 71);
}

#[test]
fn blake3_store_works_the_same() {
    let content = ContentStore::temporary(ContentConfig {
        hash: crate::HashAlg::Blake3,
        ..ContentConfig::default()
    })
    .unwrap();
    let mut k = Kvs::open(content, KvsConfig::default()).unwrap();
    let r = put(&mut k, "a.b", &"z".repeat(80));
    assert!(r.rootref.to_string().starts_with("blake3-"));
    assert_eq!(get(&k, "a.b").unwrap(), "z".repeat(80).as_bytes());
}

#[test]
fn batch_falls_back_to_single_commits() {
    let mut k = kvs();
    put(&mut k, "d.x", "1");
    let mut good1 = Txn::new();
    good1.put("a", "1");
    let mut bad = Txn::new();
    bad.append("d", "boom");
    let mut good2 = Txn::new();
    good2.put("b", "2");
    let results = k.commit_batch(PRIMARY, &[good1.clone(), bad, good2.clone()]);
    assert!(results[0].is_ok() && results[2].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().errnum(), 21);
    assert_eq!(k.namespace(PRIMARY).unwrap().rootseq, 3);
    // All good: one merged version shared by every transaction.
    let results = k.commit_batch(PRIMARY, &[good1, good2]);
    let seqs: Vec<u64> = results
        .iter()
        .map(|r| r.as_ref().unwrap().rootseq)
        .collect();
    assert_eq!(seqs, [4, 4]);
}

/// The blob at the directory `key`, and whether it is an `hdir`.
fn dir_blob(kvs: &Kvs, key: &str) -> (Blobref, bool) {
    match kvs.snapshot(PRIMARY).unwrap().lookup(key, true).unwrap() {
        TreeObj::DirRef(r) => {
            let blob = kvs.content().load(&r).unwrap();
            (r, crate::tree::hdir::HDir::is_hdir_blob(&blob))
        }
        other => panic!("{key}: {other}"),
    }
}

#[test]
fn big_directories_are_hashed_and_read_back_whole() {
    use crate::tree::hdir::{JOIN_ENTRIES, SPLIT_ENTRIES};
    let mut k = kvs();
    let n = SPLIT_ENTRIES * 20;
    for chunk in (0..n).collect::<Vec<_>>().chunks(37) {
        let mut t = Txn::new();
        for i in chunk {
            t.put(format!("job.0000.{i:04x}.jobspec"), format!("spec {i}"));
            t.append(format!("job.0000.{i:04x}.eventlog"), "x".repeat(60));
        }
        k.commit(PRIMARY, &t).unwrap();
    }
    let (r, hashed) = dir_blob(&k, "job.0000");
    assert!(hashed);
    // The TreeObj API and READDIR see an ordinary directory.
    let snap = k.snapshot(PRIMARY).unwrap();
    let names = snap.list("job.0000").unwrap();
    assert_eq!(names.len(), n);
    assert_eq!(names[5], "0005");
    assert!(
        snap.get_dir("job.0000")
            .unwrap()
            .values()
            .all(TreeObj::is_dir)
    );
    assert_eq!(k.tree().load_dir(&r).unwrap().len(), n);
    assert_eq!(snap.get("job.0000.0123.jobspec").unwrap(), b"spec 291");
    assert_eq!(snap.get("job.0000.0123.eventlog").unwrap().len(), 60);
    assert_eq!(errnum(snap.get("job.0000.9999.jobspec")), 2);
    assert_eq!(errnum(snap.get("job.0000.0001.jobspec.x")), 20);
    assert_eq!(snap.list("job.0000.0001").unwrap(), ["eventlog", "jobspec"]);
    // A new root made at the hashed directory works like any root.
    let at = k.at(r);
    assert_eq!(at.get("0123.jobspec").unwrap(), b"spec 291");
    k.create_namespace("copy", 0, Some(r)).unwrap();
    assert_eq!(
        k.snapshot("copy").unwrap().get("0002.jobspec").unwrap(),
        b"spec 2"
    );
    // Symlinks through a hashed directory.
    let mut t = Txn::new();
    t.symlink("link", None, "job.0000.0042");
    k.commit(PRIMARY, &t).unwrap();
    assert_eq!(get(&k, "link.jobspec").unwrap(), b"spec 66");

    // A commit touching one entry writes a few small blobs, not the whole directory.
    let root = k.namespace(PRIMARY).unwrap().rootref;
    let whole = TreeObj::encode_dir(&k.tree().load_dir(&r).unwrap()).len();
    let mut b = Builder::new(k.tree(), PRIMARY, &root).unwrap();
    b.apply(
        &Key::parse("job.0000.0100.eventlog").unwrap(),
        Action::Append(b"y".to_vec()),
    )
    .unwrap();
    let fin = b.finish().unwrap();
    let written: usize = fin.blobs.iter().map(|(_, b)| b.len()).sum();
    assert!(written * 4 < whole, "{written} of {whole}");
    assert_eq!(fin.hdirs.len(), 1);

    // Shrinking: unlink all but a few entries and it is a plain dir again.
    let mut t = Txn::new();
    for i in JOIN_ENTRIES / 2..n {
        t.unlink(format!("job.0000.{i:04x}"));
    }
    k.commit(PRIMARY, &t).unwrap();
    let (_, hashed) = dir_blob(&k, "job.0000");
    assert!(!hashed);
    assert_eq!(list(&k, "job.0000").len(), JOIN_ENTRIES / 2);
    assert_eq!(get(&k, "job.0000.0003.jobspec").unwrap(), b"spec 3");
}

fn list(k: &Kvs, key: &str) -> Vec<String> {
    k.snapshot(PRIMARY).unwrap().list(key).unwrap()
}

#[test]
fn hashed_directories_survive_reopen() {
    use crate::tree::hdir::SPLIT_ENTRIES;
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let db = open_db(Some(dir.path())).unwrap();
        Kvs::open(
            ContentStore::open(&db, ContentConfig::default()).unwrap(),
            KvsConfig::default(),
        )
        .unwrap()
    };
    let n = SPLIT_ENTRIES * 5;
    let ns = {
        let mut k = open();
        let mut t = Txn::new();
        for i in 0..n {
            t.put(format!("big.k{i}"), format!("{i}"));
        }
        k.commit(PRIMARY, &t).unwrap();
        assert!(dir_blob(&k, "big").1);
        k.sync().unwrap();
        k.namespace(PRIMARY).unwrap().clone()
    };
    let mut k = open();
    assert_eq!(k.namespace(PRIMARY).unwrap(), &ns);
    assert_eq!(list(&k, "big").len(), n);
    assert_eq!(get(&k, "big.k17").unwrap(), b"17");
    put(&mut k, "big.k17", "changed");
    put(&mut k, "big.new", "new");
    assert_eq!(get(&k, "big.k17").unwrap(), b"changed");
    assert_eq!(list(&k, "big").len(), n + 1);
    assert!(dir_blob(&k, "big").1);
}

#[test]
fn cache_is_bounded_in_bytes() {
    let content = ContentStore::temporary(ContentConfig::default()).unwrap();
    let mut k = Kvs::open(
        content,
        KvsConfig {
            cache_bytes: 256 << 10,
            ..KvsConfig::default()
        },
    )
    .unwrap();
    for i in 0..200 {
        let mut t = Txn::new();
        for j in 0..20 {
            t.put(format!("d{i}.k{j}"), "v".repeat(40));
        }
        k.commit(PRIMARY, &t).unwrap();
    }
    // At most the budget plus the one directory that overflowed a generation.
    assert!(
        k.tree().cached_bytes() <= 320 << 10,
        "{}",
        k.tree().cached_bytes()
    );
    assert_eq!(list(&k, ".").len(), 200);
}
