//! Watch table bookkeeping.

use bytes::Bytes;
use flux_proto::{Envelope, flags};
use flux_store::{Kvs, Txn};
use std::collections::BTreeSet;

use super::*;

fn watch_req(client: &str, tag: u32) -> Envelope {
    let mut req = Envelope::request("kvs-watch.lookup", 0, Bytes::new());
    req.route = vec![client.into()];
    req.matchtag = tag;
    req.flags |= flags::STREAMING;
    req
}

fn keys(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn index_follows_adds_and_removals() {
    let mut kvs = Kvs::temporary().unwrap();
    kvs.commit("primary", Txn::new().put("a", "1")).unwrap();
    let mut t = WatchTable::default();
    let f = lookup_flags::WATCH;
    assert_eq!(
        t.add(watch_req("c1", 1), "primary", "a", f, &kvs)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        t.add(watch_req("c1", 2), "primary", ".a", f, &kvs)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        t.add(watch_req("c2", 1), "primary", "a", f, &kvs)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(t.len(), 3);
    // Keys are normalized: ".a" and "a" are the same watch key.
    assert_eq!(t.on_commit("primary", &keys(&["a"]), &kvs).len(), 3);
    assert!(t.on_commit("other", &keys(&["a"]), &kvs).is_empty());
    t.disconnect("c1");
    assert_eq!(t.len(), 1);
    assert!(t.cancel("c1", 1).is_none());
    assert!(t.cancel("c2", 1).is_some());
    assert!(t.is_empty());
    assert!(t.by_key.is_empty(), "index emptied");
}

#[test]
fn bad_key_is_an_error_and_uniq_suppresses_repeats() {
    let mut kvs = Kvs::temporary().unwrap();
    let mut t = WatchTable::default();
    assert!(
        t.add(watch_req("c", 1), "primary", "", lookup_flags::WATCH, &kvs)
            .is_err()
    );
    kvs.commit("primary", Txn::new().put("u", "same")).unwrap();
    let f = lookup_flags::WATCH | lookup_flags::WATCH_UNIQ;
    assert_eq!(
        t.add(watch_req("c", 2), "primary", "u", f, &kvs)
            .unwrap()
            .len(),
        1
    );
    kvs.commit("primary", Txn::new().put("u", "same")).unwrap();
    assert!(t.on_commit("primary", &keys(&["u"]), &kvs).is_empty());
    kvs.commit("primary", Txn::new().put("u", "new")).unwrap();
    assert_eq!(t.on_commit("primary", &keys(&["u"]), &kvs).len(), 1);
}

#[test]
fn overwrite_under_append_watch_is_einval() {
    let mut kvs = Kvs::temporary().unwrap();
    kvs.commit(
        "primary",
        Txn::new().append("log", "aaaa\n").append("log", "bbbb\n"),
    )
    .unwrap();
    let mut t = WatchTable::default();
    let f = lookup_flags::WATCH | lookup_flags::WATCH_APPEND;
    assert_eq!(
        t.add(watch_req("c", 1), "primary", "log", f, &kvs)
            .unwrap()
            .len(),
        1
    );
    kvs.commit("primary", Txn::new().put("log", "x")).unwrap();
    let out = t.on_commit("primary", &keys(&["log"]), &kvs);
    assert_eq!(out[0].errnum, flux_proto::errno::EINVAL);
    assert!(t.is_empty());
}
