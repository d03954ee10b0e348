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

/// Resident set size of this process, in KiB (Linux), if known.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A FLUID-like id (40-bit ms timestamp, 14-bit generator, 10-bit sequence): job `i` takes
/// the `i`-th id after a base, so consecutive jobs get consecutive ids and (below 65536
/// jobs) share the directory `job.AAAA.BBBB.CCCC`, the worst case a busy ingest produces.
fn fluid(start_ms: u64, i: u64) -> u64 {
    ((start_ms << 24) & !0xffff) + i
}

fn dothex(id: u64) -> String {
    format!(
        "{:04x}.{:04x}.{:04x}.{:04x}",
        (id >> 48) & 0xffff,
        (id >> 32) & 0xffff,
        (id >> 16) & 0xffff,
        id & 0xffff
    )
}

/// The job workload: per job a ~2 KB jobspec put and 10 ~100-byte eventlog appends,
/// 10 jobs' ops per commit; commits/s along the way and at the end, µs per job, growth of
/// the resident size and the directory cache.
fn jobs(hash: HashAlg, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut kvs = open(dir.path(), hash);
    let rss0 = rss_kib();
    let jobspec = format!("{{\"version\":1,\"pad\":\"{}\"}}", "x".repeat(2000));
    let event = format!(
        "{{\"timestamp\":1700000000.123,\"name\":\"x\",\"context\":{{\"pad\":\"{}\"}}}}\n",
        "y".repeat(40)
    );
    let start_ms = 1_700_000_000_000u64 & ((1 << 40) - 1);
    let per_commit = 10;
    let appends = 10;
    let mut commits = 0usize;
    let start = Instant::now();
    let mut last = Instant::now();
    let mut last_commits = 0;
    // Round r: jobs [r*10, r*10+10) are submitted (jobspec put + first event); each job
    // gets one more event in each of the next 9 rounds. So a commit carries 10 jobs' worth
    // of ops (110) touching 100 consecutive jobs, as ingest and job manager interleave.
    let rounds = n / per_commit + appends;
    for r in 0..rounds {
        let mut t = Txn::new();
        for j in 0..per_commit {
            let i = r * per_commit + j;
            if i < n {
                let key = format!("job.{}", dothex(fluid(start_ms, i as u64)));
                t.put(format!("{key}.jobspec"), jobspec.as_str());
                t.append(format!("{key}.eventlog"), event.as_str());
            }
            for back in 1..appends {
                if r >= back && (r - back) * per_commit + j < n {
                    let i = (r - back) * per_commit + j;
                    let key = format!("job.{}", dothex(fluid(start_ms, i as u64)));
                    t.append(format!("{key}.eventlog"), event.as_str());
                }
            }
        }
        if t.is_empty() {
            continue;
        }
        kvs.commit(PRIMARY, &t).unwrap();
        commits += 1;
        if (r + 1) % (n / per_commit / 5).max(1) == 0 {
            let secs = last.elapsed().as_secs_f64();
            println!(
                "{:7}   after {:>6} jobs: {:>7.0} commits/s over the last {} commits",
                hash.name(),
                ((r + 1) * per_commit).min(n),
                (commits - last_commits) as f64 / secs,
                commits - last_commits
            );
            last = Instant::now();
            last_commits = commits;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let snap = kvs.snapshot(PRIMARY).unwrap();
    let last_key = format!("job.{}.eventlog", dothex(fluid(start_ms, n as u64 - 1)));
    assert_eq!(snap.get(&last_key).unwrap().len(), event.len() * appends);
    let growth = match (rss0, rss_kib()) {
        (Some(a), Some(b)) => format!("RSS +{} MiB", b.saturating_sub(a) / 1024),
        _ => "RSS n/a".to_string(),
    };
    println!(
        "{:7} jobs N={n:>6}: {:>7.0} commits/s, {:>7.1} µs per job, {:.2} s total; {growth}, {} cached dirs ({} KiB)",
        hash.name(),
        commits as f64 / secs,
        secs * 1e6 / n as f64,
        secs,
        kvs.tree().cached_dirs(),
        kvs.tree().cached_bytes() / 1024
    );
}

/// `cargo test --release -p flux-store --test bench bench_jobs -- --ignored --nocapture`
/// (`FLUX_BENCH_JOBS=1000,10000` to pick the sizes).
#[test]
#[ignore]
fn bench_jobs() {
    let sizes: Vec<usize> = std::env::var("FLUX_BENCH_JOBS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 50_000]);
    for n in sizes {
        jobs(HashAlg::Sha1, n);
    }
}
