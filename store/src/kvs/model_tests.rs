//! Property tests: random commits of puts, unlinks, appends and mkdirs compared with a
//! plain `BTreeMap` model of the tree; plus the same through a reopened database.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::content::open_db;

type Path = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Val(Vec<u8>),
    Dir,
}

/// Model: every path that exists, values and (possibly empty) directories.
#[derive(Debug, Clone, Default)]
struct Model {
    map: BTreeMap<Path, Entry>,
}

impl Model {
    fn is_prefix(p: &Path, of: &Path) -> bool {
        of.len() > p.len() && of[..p.len()] == p[..]
    }

    fn remove_subtree(&mut self, p: &Path) {
        self.map.retain(|k, _| k != p && !Self::is_prefix(p, k));
    }

    /// Make every ancestor of `p` a directory (values on the way are replaced).
    fn make_parents(&mut self, p: &Path) {
        for n in 1..p.len() {
            let a = p[..n].to_vec();
            if self.map.get(&a) != Some(&Entry::Dir) {
                self.remove_subtree(&a);
                self.map.insert(a, Entry::Dir);
            }
        }
    }

    /// Apply one op; `Err(())` where the KVS must fail.
    fn apply(&mut self, op: &Op) -> std::result::Result<(), ()> {
        let p: Path = op.key().split('.').map(str::to_string).collect();
        match op {
            Op::Put { value, .. } => {
                self.make_parents(&p);
                self.remove_subtree(&p);
                self.map.insert(p, Entry::Val(value.clone()));
            }
            Op::Mkdir { .. } => {
                self.make_parents(&p);
                self.remove_subtree(&p);
                self.map.insert(p, Entry::Dir);
            }
            Op::Unlink { .. } => {
                let parents_are_dirs =
                    (1..p.len()).all(|n| self.map.get(&p[..n]) == Some(&Entry::Dir));
                if parents_are_dirs {
                    self.remove_subtree(&p);
                }
            }
            Op::Append { value, .. } => {
                self.make_parents(&p);
                match self.map.get_mut(&p) {
                    Some(Entry::Dir) => return Err(()),
                    Some(Entry::Val(v)) => v.extend_from_slice(value),
                    None => {
                        self.map.insert(p, Entry::Val(value.clone()));
                    }
                }
            }
            _ => unreachable!("not generated"),
        }
        Ok(())
    }
}

/// Walk the whole tree at the namespace's root into the model's shape.
fn dump(kvs: &Kvs, ns: &str) -> BTreeMap<Path, Entry> {
    fn walk(kvs: &Kvs, dir: &Dir, prefix: &mut Path, out: &mut BTreeMap<Path, Entry>) {
        for (name, obj) in dir {
            prefix.push(name.clone());
            match obj {
                TreeObj::DirRef(r) => {
                    out.insert(prefix.clone(), Entry::Dir);
                    let d = kvs.tree().load_dir(r).unwrap();
                    walk(kvs, &d, prefix, out);
                }
                TreeObj::Val(_) | TreeObj::ValRef(_) => {
                    let v = kvs.tree().read_value(obj, name).unwrap();
                    out.insert(prefix.clone(), Entry::Val(v));
                }
                other => panic!("unexpected {other}"),
            }
            prefix.pop();
        }
    }
    let mut out = BTreeMap::new();
    let root = kvs
        .tree()
        .load_dir(&kvs.namespace(ns).unwrap().rootref)
        .unwrap();
    walk(kvs, &root, &mut Vec::new(), &mut out);
    out
}

fn key() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof!["a", "b", "c"], 1..4).prop_map(|v| v.join("."))
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    // Sizes on both sides of the valref threshold (55 bytes).
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..8),
        proptest::collection::vec(any::<u8>(), 50..70),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (key(), value()).prop_map(|(key, value)| Op::Put { key, value }),
        2 => key().prop_map(|key| Op::Unlink { key }),
        2 => (key(), value()).prop_map(|(key, value)| Op::Append { key, value }),
        1 => key().prop_map(|key| Op::Mkdir { key }),
    ]
}

fn txns() -> impl Strategy<Value = Vec<Vec<Op>>> {
    proptest::collection::vec(proptest::collection::vec(op(), 1..6), 1..12)
}

/// Commit each op list, merging pairs when `merge`; check against the model after each.
fn run(kvs: &mut Kvs, commits: &[Vec<Op>], merge: bool) -> Model {
    let mut model = Model::default();
    let groups: Vec<&[Vec<Op>]> = if merge {
        commits.chunks(2).collect()
    } else {
        commits.chunks(1).collect()
    };
    for group in groups {
        let txns: Vec<Txn> = group
            .iter()
            .map(|ops| {
                let mut t = Txn::new();
                for op in ops {
                    t.push(op.clone());
                }
                t
            })
            .collect();
        let before = kvs.namespace(PRIMARY).unwrap().clone();
        let mut next = model.clone();
        let expect_ok = group.iter().flatten().all(|op| next.apply(op).is_ok());
        let res = kvs.commit_merged(PRIMARY, txns.iter());
        assert_eq!(res.is_ok(), expect_ok, "{res:?} for {group:?}");
        if expect_ok {
            model = next;
            assert_eq!(kvs.namespace(PRIMARY).unwrap().rootseq, before.rootseq + 1);
        } else {
            assert_eq!(res.unwrap_err().errnum(), 21);
            assert_eq!(kvs.namespace(PRIMARY).unwrap(), &before);
        }
        assert_eq!(dump(kvs, PRIMARY), model.map);
    }
    model
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn commits_match_model(commits in txns()) {
        let mut kvs = Kvs::temporary().unwrap();
        let model = run(&mut kvs, &commits, false);
        let snap = kvs.snapshot(PRIMARY).unwrap();
        for (path, entry) in &model.map {
            let key = path.join(".");
            match entry {
                Entry::Val(v) => prop_assert_eq!(&snap.get(&key).unwrap(), v),
                Entry::Dir => prop_assert_eq!(snap.get(&key).unwrap_err().errnum(), 21),
            }
        }
    }

    #[test]
    fn merged_commits_match_model(commits in txns()) {
        let mut kvs = Kvs::temporary().unwrap();
        run(&mut kvs, &commits, true);
    }

    #[test]
    fn reopened_database_matches_model(commits in proptest::collection::vec(
        proptest::collection::vec(op(), 1..6), 1..5)) {
        let dir = tempfile::tempdir().unwrap();
        let open = || {
            let db = open_db(Some(dir.path())).unwrap();
            Kvs::open(ContentStore::open(&db, ContentConfig::default()).unwrap(),
                KvsConfig::default()).unwrap()
        };
        let (model, ns) = {
            let mut kvs = open();
            let model = run(&mut kvs, &commits, false);
            kvs.sync().unwrap();
            (model, kvs.namespace(PRIMARY).unwrap().clone())
        };
        let kvs = open();
        prop_assert_eq!(kvs.namespace(PRIMARY).unwrap(), &ns);
        prop_assert_eq!(dump(&kvs, PRIMARY), model.map);
    }
}

/// Check the shape of every stored directory under `r`: an `hdir` has at least
/// `JOIN_ENTRIES` entries, its `size` is right and every entry sits in its own bucket;
/// a plain `dir` has at most `SPLIT_ENTRIES`. Returns the number of `hdir`s seen.
fn check_shape(kvs: &Kvs, r: &crate::Blobref) -> usize {
    use crate::tree::Stored;
    use crate::tree::hdir::{JOIN_ENTRIES, SPLIT_ENTRIES, bucket_of};
    let mut hdirs = 0;
    let entries: Vec<TreeObj> = match kvs.tree().load_stored(r).unwrap() {
        Stored::Dir(d) => {
            assert!(d.len() <= SPLIT_ENTRIES, "plain dir of {}", d.len());
            d.values().cloned().collect()
        }
        Stored::Hashed(h) => {
            hdirs += 1;
            assert!(h.size >= JOIN_ENTRIES, "hdir of {}", h.size);
            let mut n = 0;
            let mut all = Vec::new();
            for (i, b) in h.buckets.iter().enumerate() {
                let d = match kvs.tree().load_stored(b).unwrap() {
                    Stored::Dir(d) => d,
                    Stored::Hashed(_) => panic!("nested hdir"),
                };
                for (name, obj) in d.iter() {
                    assert_eq!(bucket_of(name, h.buckets.len()), i, "{name} misplaced");
                    all.push(obj.clone());
                }
                n += d.len();
            }
            assert_eq!(n, h.size);
            all
        }
    };
    for obj in entries {
        if let TreeObj::DirRef(sub) = obj {
            hdirs += check_shape(kvs, &sub);
        }
    }
    hdirs
}

/// Keys in a few wide directories, so commits split, grow, re-bucket and join `hdir`s
/// (the unit-test thresholds are small: split above 24 entries, join below 8).
fn wide_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..300u32).prop_map(|i| format!("w.k{i}")),
        2 => (0..300u32, prop_oneof!["a", "b"]).prop_map(|(i, s)| format!("w.k{i}.{s}")),
        1 => (0..40u32).prop_map(|i| format!("v.k{i}")),
        1 => (0..40u32).prop_map(|i| format!("k{i}")),
    ]
}

fn wide_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (wide_key(), value()).prop_map(|(key, value)| Op::Put { key, value }),
        3 => wide_key().prop_map(|key| Op::Unlink { key }),
        2 => (wide_key(), value()).prop_map(|(key, value)| Op::Append { key, value }),
        1 => wide_key().prop_map(|key| Op::Mkdir { key }),
    ]
}

/// Commits of many ops, with now and then a mass unlink of a range of `w.k*` keys.
fn wide_txns() -> impl Strategy<Value = Vec<Vec<Op>>> {
    let txn = prop_oneof![
        6 => proptest::collection::vec(wide_op(), 1..60),
        1 => (0..300u32, 1..300u32).prop_map(|(a, n)| {
            (a..(a + n).min(300))
                .map(|i| Op::Unlink { key: format!("w.k{i}") })
                .collect()
        }),
    ];
    proptest::collection::vec(txn, 1..14)
}

fn to_txn(ops: &[Op]) -> Txn {
    let mut t = Txn::new();
    for op in ops {
        t.push(op.clone());
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn wide_dirs_match_model(commits in wide_txns()) {
        let mut kvs = Kvs::temporary().unwrap();
        let model = run(&mut kvs, &commits, false);
        check_shape(&kvs, &kvs.namespace(PRIMARY).unwrap().rootref);
        let snap = kvs.snapshot(PRIMARY).unwrap();
        for (path, entry) in &model.map {
            let key = path.join(".");
            match entry {
                Entry::Val(v) => prop_assert_eq!(&snap.get(&key).unwrap(), v),
                Entry::Dir => {
                    let names: Vec<String> = model.map.keys()
                        .filter(|p| p.len() == path.len() + 1 && p[..path.len()] == path[..])
                        .map(|p| p[path.len()].clone())
                        .collect();
                    prop_assert_eq!(snap.list(&key).unwrap(), names);
                }
            }
        }
        // Lookups of missing keys in (possibly hashed) directories.
        prop_assert_eq!(snap.exists("w.nope").unwrap(), false);
    }

    #[test]
    fn wide_dirs_merged_match_model(commits in wide_txns()) {
        let mut kvs = Kvs::temporary().unwrap();
        run(&mut kvs, &commits, true);
        check_shape(&kvs, &kvs.namespace(PRIMARY).unwrap().rootref);
    }

    /// Reopen after restart, with an empty cache, and go on committing; then replay the
    /// journaled transactions on a fresh store: same roots, version by version.
    #[test]
    fn wide_dirs_reopen_and_journal_replay(commits in wide_txns(), more in wide_txns()) {
        let dir = tempfile::tempdir().unwrap();
        let jdir = tempfile::tempdir().unwrap();
        let open = || {
            let db = open_db(Some(dir.path())).unwrap();
            Kvs::open(ContentStore::open(&db, ContentConfig::default()).unwrap(),
                KvsConfig::default()).unwrap()
        };
        let mut roots = Vec::new();
        let (model, ns) = {
            let (mut journal, old) = crate::Journal::open(jdir.path()).unwrap();
            prop_assert!(old.is_empty());
            let mut kvs = open();
            let mut model = Model::default();
            for ops in &commits {
                let mut next = model.clone();
                if ops.iter().all(|op| next.apply(op).is_ok()) {
                    let t = to_txn(ops);
                    roots.push(kvs.commit(PRIMARY, &t).unwrap().rootref);
                    journal.append(&serde_json::to_vec(&t.to_json().unwrap()).unwrap()).unwrap();
                    model = next;
                }
            }
            kvs.sync().unwrap();
            (model, kvs.namespace(PRIMARY).unwrap().clone())
        };
        let mut kvs = open();
        prop_assert_eq!(kvs.namespace(PRIMARY).unwrap(), &ns);
        prop_assert_eq!(dump(&kvs, PRIMARY), model.map.clone());
        check_shape(&kvs, &ns.rootref);
        // Go on after the restart (cold cache) and compare with the model.
        let mut model = model;
        for ops in &more {
            let mut next = model.clone();
            let ok = ops.iter().all(|op| next.apply(op).is_ok());
            prop_assert_eq!(kvs.commit(PRIMARY, &to_txn(ops)).is_ok(), ok);
            if ok {
                model = next;
            }
        }
        prop_assert_eq!(dump(&kvs, PRIMARY), model.map);
        check_shape(&kvs, &kvs.namespace(PRIMARY).unwrap().rootref);

        // Replay: the journal's records, in order, on a fresh store give the same roots.
        let (_, records) = crate::Journal::open(jdir.path()).unwrap();
        prop_assert_eq!(records.len(), roots.len());
        let mut fresh = Kvs::temporary().unwrap();
        for (rec, root) in records.iter().zip(&roots) {
            let ops: serde_json::Value = serde_json::from_slice(rec).unwrap();
            let t = Txn::from_json(&ops).unwrap();
            prop_assert_eq!(&fresh.commit(PRIMARY, &t).unwrap().rootref, root);
        }
    }
}
