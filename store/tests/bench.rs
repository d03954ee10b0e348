//! Throughput probes, ignored by default (run in release):
//! `cargo test --release -p flux-store --test bench -- --ignored --nocapture`

use std::time::Instant;

use flux_store::{ContentConfig, ContentStore, HashAlg, Kvs, KvsConfig, PRIMARY, Txn, open_db};

fn open(dir: &std::path::Path, hash: HashAlg) -> Kvs {
    let db = open_db(Some(dir)).unwrap();
    let config = ContentConfig {
        hash,
        ..ContentConfig::default()
    };
    Kvs::open(
        ContentStore::open(&db, config).unwrap(),
        KvsConfig::default(),
    )
    .unwrap()
}

fn rate(n: usize, secs: f64) -> String {
    format!(
        "{:>9.0}/s ({:.1} µs each)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    )
}

fn bulk(hash: HashAlg, flat: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut kvs = open(dir.path(), hash);
    let n = 100_000;
    let mut t = Txn::new();
    for i in 0..n {
        let key = if flat {
            format!("bulk.k{i}")
        } else {
            format!("bulk.{}.k{}", i / 100, i % 100)
        };
        t.put(key, format!("{{\"i\":{i}}}"));
    }
    let start = Instant::now();
    kvs.commit(PRIMARY, &t).unwrap();
    let commit = start.elapsed().as_secs_f64();
    let start = Instant::now();
    kvs.sync().unwrap();
    let sync = start.elapsed().as_secs_f64();
    let shape = if flat { "flat dir" } else { "1000 dirs" };
    println!(
        "{:7} 100k keys in one txn ({shape:9}): {} keys; commit {:.0} ms + sync {:.0} ms",
        hash.name(),
        rate(n, commit),
        commit * 1e3,
        sync * 1e3
    );
    let start = Instant::now();
    let snap = kvs.snapshot(PRIMARY).unwrap();
    for i in (0..n).step_by(10) {
        let key = if flat {
            format!("bulk.k{i}")
        } else {
            format!("bulk.{}.k{}", i / 100, i % 100)
        };
        snap.get(&key).unwrap();
    }
    println!(
        "{:7} lookups after bulk ({shape:9}): {}",
        hash.name(),
        rate(n / 10, start.elapsed().as_secs_f64())
    );
}

fn singles(hash: HashAlg, what: &str, n: usize, key: impl Fn(usize) -> String) {
    let dir = tempfile::tempdir().unwrap();
    let mut kvs = open(dir.path(), hash);
    let start = Instant::now();
    for i in 0..n {
        let mut t = Txn::new();
        t.put(key(i), "{\"timestamp\":1700000000.123,\"name\":\"submit\"}");
        kvs.commit(PRIMARY, &t).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:7} single-key commits, no flush ({what}): {}",
        hash.name(),
        rate(n, secs)
    );
}

fn appends(hash: HashAlg) {
    let dir = tempfile::tempdir().unwrap();
    let mut kvs = open(dir.path(), hash);
    let n = 10_000;
    let start = Instant::now();
    for i in 0..n {
        let mut t = Txn::new();
        let id = i % 1000;
        t.append(
            format!("job.{:04}.{:04}.eventlog", id / 100, id % 100),
            "{\"timestamp\":1700000000.123,\"name\":\"alloc\"}\n",
        );
        kvs.commit(PRIMARY, &t).unwrap();
    }
    println!(
        "{:7} eventlog appends, one per commit:     {}",
        hash.name(),
        rate(n, start.elapsed().as_secs_f64())
    );
}

fn synced(hash: HashAlg) {
    let dir = tempfile::tempdir().unwrap();
    let mut kvs = open(dir.path(), hash);
    let n = 300;
    let start = Instant::now();
    for i in 0..n {
        let mut t = Txn::new();
        t.put(format!("s.{}.k{}", i / 100, i % 100), "v");
        kvs.commit(PRIMARY, &t).unwrap();
        kvs.sync().unwrap();
    }
    println!(
        "{:7} commit + sync each:                   {}",
        hash.name(),
        rate(n, start.elapsed().as_secs_f64())
    );
}

const HASHES: [HashAlg; 2] = [HashAlg::Sha1, HashAlg::Blake3];

#[test]
#[ignore]
fn bench_bulk_one_txn() {
    for hash in HASHES {
        bulk(hash, false);
        bulk(hash, true);
    }
}

#[test]
#[ignore]
fn bench_single_commits() {
    for hash in HASHES {
        singles(hash, "job.XXXX.YYYY.eventlog", 10_000, |i| {
            format!("job.{:04}.{:04}.eventlog", i / 100, i % 100)
        });
    }
}

#[test]
#[ignore]
fn bench_flat_dir_commits() {
    for hash in HASHES {
        singles(hash, "3k keys, one flat dir", 3_000, |i| {
            format!("flat.k{i}")
        });
    }
}

#[test]
#[ignore]
fn bench_appends_and_sync() {
    for hash in HASHES {
        appends(hash);
        synced(hash);
    }
}
