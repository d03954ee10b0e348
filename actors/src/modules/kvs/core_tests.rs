//! The kvs core driven with envelopes, as the actor would, without a runtime.

use bytes::Bytes;
use flux_proto::{Envelope, errno, flags, role};
use flux_store::{Kvs, TreeObj, Txn};
use serde_json::{Value, json};

use super::*;

const OWNER: u32 = 1000;
const GUEST: u32 = 2000;

fn core() -> KvsCore {
    KvsCore::new(Kvs::temporary().unwrap())
}

fn req(topic: &str, body: Value, userid: u32, client: &str, tag: u32) -> Envelope {
    let mut msg = Envelope::request(topic, 0, Bytes::from(body.to_string()));
    msg.userid = userid;
    msg.rolemask = if userid == OWNER {
        role::OWNER
    } else {
        role::USER
    };
    msg.route = vec![client.to_string()];
    msg.matchtag = tag;
    msg
}

fn owner(topic: &str, body: Value) -> Envelope {
    req(topic, body, OWNER, "c1", 1)
}

/// Handle one request (and any commit batch it queued); all effects.
fn run(core: &mut KvsCore, msg: Envelope) -> Vec<Effect> {
    let mut out = Vec::new();
    core.handle(msg, &mut out);
    core.process_commits(&mut out);
    out
}

/// The responses among effects, durable or not.
fn responses(effects: &[Effect]) -> Vec<&Envelope> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Respond(r) | Effect::RespondDurable(r) => Some(r),
            Effect::Publish { .. } => None,
        })
        .collect()
}

fn one(effects: &[Effect]) -> Envelope {
    let rsps = responses(effects);
    assert_eq!(rsps.len(), 1, "{effects:?}");
    rsps[0].clone()
}

fn put_body(ns: &str, pairs: &[(&str, &str)]) -> Value {
    let mut txn = Txn::new();
    for (k, v) in pairs {
        txn.put(*k, *v);
    }
    json!({"namespace": ns, "flags": 0, "ops": txn.to_json().unwrap()})
}

fn get(core: &mut KvsCore, ns: &str, key: &str, flags: i64) -> Result<Value, (i32, String)> {
    let rsp = one(&run(
        core,
        owner(
            "kvs.lookup",
            json!({"key": key, "namespace": ns, "flags": flags}),
        ),
    ));
    if rsp.errnum != 0 {
        return Err((rsp.errnum, rsp.errstr));
    }
    Ok(rsp.json::<Value>().unwrap()["val"].clone())
}

fn value_of(val: &Value) -> Vec<u8> {
    match TreeObj::from_json(val).unwrap() {
        TreeObj::Val(v) => v,
        other => panic!("not a val: {other}"),
    }
}

#[test]
fn commit_is_durable_then_readable() {
    let mut c = core();
    let effects = run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("a.b", "42")])),
    );
    assert!(
        matches!(effects[0], Effect::RespondDurable(_)),
        "{effects:?}"
    );
    let body: Value = one(&effects).json().unwrap();
    assert_eq!(body["rootseq"], 1);
    assert!(body["rootref"].as_str().unwrap().starts_with("sha1-"));
    assert!(effects.iter().any(|e| matches!(e,
        Effect::Publish { topic, .. } if topic == "kvs.namespace-primary-setroot")));
    assert_eq!(value_of(&get(&mut c, "primary", "a.b", 0).unwrap()), b"42");
}

#[test]
fn contemporaneous_commits_merge_and_a_bad_one_fails_alone() {
    let mut c = core();
    let mut out = Vec::new();
    c.handle(
        req(
            "kvs.commit",
            put_body("primary", &[("x", "1")]),
            OWNER,
            "c1",
            1,
        ),
        &mut out,
    );
    c.handle(
        req(
            "kvs.commit",
            put_body("primary", &[("y", "2")]),
            OWNER,
            "c2",
            2,
        ),
        &mut out,
    );
    assert!(out.is_empty() && c.has_pending());
    c.process_commits(&mut out);
    let seqs: Vec<u64> = responses(&out)
        .iter()
        .map(|r| r.json::<Value>().unwrap()["rootseq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 1], "merged into one version");

    let mut out = Vec::new();
    let bad = json!({"namespace": "primary", "ops": [{"key": "", "flags": 0, "dirent": null}]});
    c.handle(
        req(
            "kvs.commit",
            put_body("primary", &[("z", "3")]),
            OWNER,
            "c1",
            3,
        ),
        &mut out,
    );
    c.handle(req("kvs.commit", bad, OWNER, "c2", 4), &mut out);
    c.process_commits(&mut out);
    let mut rsps: Vec<(u32, i32)> = responses(&out)
        .iter()
        .map(|r| (r.matchtag, r.errnum))
        .collect();
    rsps.sort();
    assert_eq!(rsps, [(3, 0), (4, errno::EINVAL)]);
    assert_eq!(value_of(&get(&mut c, "primary", "z", 0).unwrap()), b"3");
}

#[test]
fn lookup_errors() {
    let mut c = core();
    run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("d.v", "1")])),
    );
    assert_eq!(
        get(&mut c, "primary", "nope", 0).unwrap_err().0,
        errno::ENOENT
    );
    assert_eq!(get(&mut c, "primary", "d", 0).unwrap_err().0, errno::EISDIR);
    assert_eq!(
        get(&mut c, "primary", "d.v", lookup_flags::READDIR)
            .unwrap_err()
            .0,
        errno::ENOTDIR
    );
    assert_eq!(
        get(&mut c, "nons", "d", 0).unwrap_err().0,
        errno::EOPNOTSUPP
    );
    let dir = get(&mut c, "primary", "d", lookup_flags::READDIR).unwrap();
    assert_eq!(dir["type"], "dir");
    assert!(dir["data"]["v"].is_object());
    let bad = one(&run(&mut c, owner("kvs.lookup", json!({"nokey": 1}))));
    assert_eq!(bad.errnum, errno::EPROTO);
    let unknown = one(&run(&mut c, owner("kvs.frobnicate", json!({}))));
    assert_eq!(unknown.errnum, errno::ENOSYS);
}

#[test]
fn guests_write_only_namespaces_they_own() {
    let mut c = core();
    let denied = one(&run(
        &mut c,
        req(
            "kvs.commit",
            put_body("primary", &[("a", "1")]),
            GUEST,
            "g",
            1,
        ),
    ));
    assert_eq!(denied.errnum, errno::EPERM);
    let create = json!({"namespace": "job-1", "owner": GUEST, "flags": 0});
    let denied = one(&run(
        &mut c,
        req("kvs.namespace-create", create.clone(), GUEST, "g", 2),
    ));
    assert_eq!(denied.errnum, errno::EPERM);
    assert_eq!(
        one(&run(&mut c, owner("kvs.namespace-create", create))).errnum,
        0
    );
    let ok = one(&run(
        &mut c,
        req(
            "kvs.commit",
            put_body("job-1", &[("a", "1")]),
            GUEST,
            "g",
            3,
        ),
    ));
    assert_eq!(ok.errnum, 0);
    // A guest lists only what it may access.
    let list: Value = one(&run(
        &mut c,
        req("kvs.namespace-list", json!({}), GUEST, "g", 4),
    ))
    .json()
    .unwrap();
    assert_eq!(list["namespaces"].as_array().unwrap().len(), 1);
    assert_eq!(list["namespaces"][0]["namespace"], "job-1");
    let content = one(&run(&mut c, req("content.load", json!({}), GUEST, "g", 5)));
    assert_eq!(content.errnum, errno::EPERM);
}

#[test]
fn watch_sends_values_until_canceled() {
    let mut c = core();
    run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("k", "v1")])),
    );
    let mut w = req(
        "kvs-watch.lookup",
        json!({"key": "k", "flags": lookup_flags::WATCH}),
        OWNER,
        "w",
        9,
    );
    w.flags |= flags::STREAMING;
    let first = one(&run(&mut c, w));
    assert_eq!(value_of(&first.json::<Value>().unwrap()["val"]), b"v1");
    assert!(first.is_streaming());
    let next = run(
        &mut c,
        owner(
            "kvs.commit",
            put_body("primary", &[("k", "v2"), ("other", "x")]),
        ),
    );
    let watch_rsp: Vec<_> = responses(&next)
        .into_iter()
        .filter(|r| r.matchtag == 9)
        .collect();
    assert_eq!(watch_rsp.len(), 1);
    assert_eq!(
        value_of(&watch_rsp[0].json::<Value>().unwrap()["val"]),
        b"v2"
    );
    // A commit not naming the key fires nothing.
    let quiet = run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("other", "y")])),
    );
    assert!(responses(&quiet).iter().all(|r| r.matchtag != 9));
    // Cancel from another client does nothing; from the watcher ends with ENODATA.
    let mut cancel = req(
        "kvs-watch.cancel",
        json!({"matchtag": 9}),
        OWNER,
        "other",
        0,
    );
    cancel.flags |= flags::NORESPONSE;
    assert!(run(&mut c, cancel.clone()).is_empty());
    cancel.route = vec!["w".into()];
    let end = one(&run(&mut c, cancel));
    assert_eq!((end.errnum, end.matchtag), (errno::ENODATA, 9));
    assert_eq!(c.watch_count(), 0);
}

#[test]
fn waitcreate_waits_then_ends() {
    let mut c = core();
    let mut w = req(
        "kvs-watch.lookup",
        json!({"key": "later", "flags": lookup_flags::WAITCREATE}),
        OWNER,
        "w",
        5,
    );
    w.flags |= flags::STREAMING;
    assert!(run(&mut c, w).is_empty());
    let out = run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("later", "here")])),
    );
    let mine: Vec<_> = responses(&out)
        .into_iter()
        .filter(|r| r.matchtag == 5)
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(value_of(&mine[0].json::<Value>().unwrap()["val"]), b"here");
    assert_eq!(mine[1].errnum, errno::ENODATA);
    assert_eq!(c.watch_count(), 0);
    // WATCH without a streaming request is a protocol error.
    let plain = req(
        "kvs-watch.lookup",
        json!({"key": "later", "flags": lookup_flags::WATCH}),
        OWNER,
        "w",
        7,
    );
    assert_eq!(one(&run(&mut c, plain)).errnum, errno::EPROTO);
    // Without WAITCREATE a missing key ends at once.
    let mut w = req(
        "kvs-watch.lookup",
        json!({"key": "missing", "flags": lookup_flags::WATCH}),
        OWNER,
        "w",
        6,
    );
    w.flags |= flags::STREAMING;
    assert_eq!(one(&run(&mut c, w)).errnum, errno::ENOENT);
}

#[test]
fn append_watch_streams_only_new_bytes_and_ends_on_disconnect() {
    let mut c = core();
    let append = |line: &str| {
        let mut txn = Txn::new();
        txn.append("log", line);
        owner("kvs.commit", json!({"ops": txn.to_json().unwrap()}))
    };
    run(&mut c, append("one\n"));
    let flags_ = lookup_flags::WATCH | lookup_flags::WATCH_APPEND | lookup_flags::WAITCREATE;
    let mut w = req(
        "kvs-watch.lookup",
        json!({"key": "log", "flags": flags_}),
        OWNER,
        "w",
        3,
    );
    w.flags |= flags::STREAMING;
    assert_eq!(
        value_of(&one(&run(&mut c, w)).json::<Value>().unwrap()["val"]),
        b"one\n"
    );
    for line in ["two\n", "three\n"] {
        let out = run(&mut c, append(line));
        let mine: Vec<_> = responses(&out)
            .into_iter()
            .filter(|r| r.matchtag == 3)
            .collect();
        assert_eq!(
            value_of(&mine[0].json::<Value>().unwrap()["val"]),
            line.as_bytes()
        );
    }
    let mut bye = req("kvs-watch.disconnect", json!({}), OWNER, "w", 0);
    bye.flags |= flags::NORESPONSE;
    assert!(run(&mut c, bye).is_empty());
    assert_eq!(c.watch_count(), 0);
}

#[test]
fn namespace_removal_ends_its_watches() {
    let mut c = core();
    run(
        &mut c,
        owner("kvs.namespace-create", json!({"namespace": "tmp"})),
    );
    run(&mut c, owner("kvs.commit", put_body("tmp", &[("a", "1")])));
    let mut w = req(
        "kvs-watch.lookup",
        json!({"key": "a", "namespace": "tmp", "flags": lookup_flags::WATCH}),
        OWNER,
        "w",
        4,
    );
    w.flags |= flags::STREAMING;
    run(&mut c, w);
    let out = run(
        &mut c,
        owner("kvs.namespace-remove", json!({"namespace": "tmp"})),
    );
    let ended: Vec<_> = responses(&out)
        .into_iter()
        .filter(|r| r.matchtag == 4)
        .collect();
    assert_eq!(ended[0].errnum, errno::EOPNOTSUPP);
    assert_eq!(get(&mut c, "tmp", "a", 0).unwrap_err().0, errno::EOPNOTSUPP);
    let primary = one(&run(
        &mut c,
        owner("kvs.namespace-remove", json!({"namespace": "primary"})),
    ));
    assert_eq!(primary.errnum, errno::EINVAL);
}

#[test]
fn content_store_and_load_by_digest() {
    let mut c = core();
    let mut store = owner("content.store", json!(null));
    store.payload = Bytes::from_static(b"foo\n");
    let effects = run(&mut c, store);
    assert!(matches!(effects[0], Effect::RespondDurable(_)));
    let digest = one(&effects).payload;
    assert_eq!(digest.len(), 20);
    let mut load = owner("content.load", json!(null));
    load.payload = digest;
    assert_eq!(one(&run(&mut c, load)).payload.as_ref(), b"foo\n");
    let mut missing = owner("content.load", json!(null));
    missing.payload = Bytes::from(vec![0u8; 20]);
    assert_eq!(one(&run(&mut c, missing)).errnum, errno::ENOENT);
    let mut short = owner("content.load", json!(null));
    short.payload = Bytes::from_static(b"abc");
    assert_eq!(one(&run(&mut c, short)).errnum, errno::EINVAL);
}

#[test]
fn getroot_reports_version_and_owner() {
    let mut c = core();
    run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("a", "1")])),
    );
    let root: Value = one(&run(&mut c, owner("kvs.getroot", json!({}))))
        .json()
        .unwrap();
    assert_eq!(root["rootseq"], 1);
    assert_eq!(root["namespace"], "primary");
    // Lookup at the old root still sees the old value.
    let rootdir = json!({"ver": 1, "type": "dirref", "data": [root["rootref"]]});
    run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("a", "2")])),
    );
    let rsp = one(&run(
        &mut c,
        owner("kvs.lookup", json!({"key": "a", "rootdir": rootdir})),
    ));
    assert_eq!(value_of(&rsp.json::<Value>().unwrap()["val"]), b"1");
}

#[test]
fn journaled_commits_are_acknowledged_at_once_unless_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = flux_store::Journal::open(dir.path()).unwrap();
    let mut c = KvsCore::with_journal(Kvs::temporary().unwrap(), journal, false);
    let effects = run(
        &mut c,
        owner("kvs.commit", put_body("primary", &[("a", "1")])),
    );
    assert!(matches!(effects[0], Effect::Respond(_)), "{effects:?}");
    assert!(c.journal_bytes() > 0);
    let mut body = put_body("primary", &[("b", "2")]);
    body["flags"] = json!(commit_flags::SYNC);
    let effects = run(&mut c, owner("kvs.commit", body));
    assert!(
        matches!(effects[0], Effect::RespondDurable(_)),
        "{effects:?}"
    );
    let created = run(
        &mut c,
        owner("kvs.namespace-create", json!({"namespace": "n"})),
    );
    assert!(matches!(created[0], Effect::Respond(_)), "{created:?}");
    // What was journaled replays into an empty database.
    let generation = c.rotate_journal().unwrap();
    assert_eq!(c.journal_bytes(), 0);
    drop(c);
    let (journal, records) = flux_store::Journal::open(dir.path()).unwrap();
    assert_eq!(records.len(), 3);
    let mut fresh = Kvs::temporary().unwrap();
    assert_eq!(journal::replay(&mut fresh, &records).applied, 3);
    assert_eq!(fresh.snapshot("primary").unwrap().get("b").unwrap(), b"2");
    assert!(fresh.namespace("n").is_ok());
    journal.remove_before(generation).unwrap();

    let (journal, _) = flux_store::Journal::open(dir.path()).unwrap();
    let mut strict = KvsCore::with_journal(Kvs::temporary().unwrap(), journal, true);
    let effects = run(
        &mut strict,
        owner("kvs.commit", put_body("primary", &[("a", "1")])),
    );
    assert!(
        matches!(effects[0], Effect::RespondDurable(_)),
        "{effects:?}"
    );
}
