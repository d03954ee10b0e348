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
