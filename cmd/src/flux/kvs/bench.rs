//! `flux kvs bench` (hidden): commit throughput as seen by clients, for scripts/bench-kvs.

use std::time::Instant;

use flux_actors::modules::kvs::store::Txn;
use flux_actors::modules::kvs::wire::commit_flags;
use flux_proto::Handle;
use futures::future::try_join_all;

use super::client;
use crate::util;

/// Benchmark options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Put this many keys in one transaction and report keys/s
    #[arg(long, value_name = "N")]
    keys: Option<usize>,
    /// Make this many single-key commits and report commits/s
    #[arg(long, value_name = "N", default_value_t = 0)]
    commits: usize,
    /// Spread the commits over this many clients (connections)
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Commits each client keeps in flight
    #[arg(long, default_value_t = 1)]
    window: usize,
    /// Put all keys of a stream in one directory (default: directories of 256 keys, the
    /// way job keys spread; one flat directory is re-encoded whole by every commit)
    #[arg(long)]
    flat: bool,
    /// Commit with FLUX_KVS_SYNC: acknowledged only once flushed to disk
    #[arg(long)]
    sync: bool,
}

/// Flushes the kvs module has made so far (group commit shares them between commits).
async fn flushes(h: &Handle) -> anyhow::Result<u64> {
    let stats: serde_json::Value = h.rpc_json("kvs.stats-get", &serde_json::json!({})).await?;
    Ok(stats["flushes"].as_u64().unwrap_or(0))
}

/// Run the benchmark; one line of results per measurement.
pub async fn run(h: &Handle, ns: &str, args: Args) -> anyhow::Result<i32> {
    if let Some(n) = args.keys {
        let mut txn = Txn::new();
        for i in 0..n {
            txn.put(format!("bench.batch.k{i}"), format!("value-{i}"));
        }
        let start = Instant::now();
        client::commit(h, ns, &txn, 0).await?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "one transaction of {n} keys: {:.3} s, {:.0} keys/s",
            secs,
            n as f64 / secs
        );
    }
    if args.commits > 0 {
        let clients = args.clients.max(1);
        let window = args.window.max(1);
        let per_stream = args.commits.div_ceil(clients * window);
        let mut handles = Vec::new();
        for _ in 0..clients {
            handles.push(util::connect().await?);
        }
        let flushes_before = flushes(h).await?;
        let start = Instant::now();
        let flat = args.flat;
        let flags = if args.sync { commit_flags::SYNC } else { 0 };
        let streams = handles.iter().enumerate().flat_map(|(c, h)| {
            (0..window).map(move |w| async move {
                for i in 0..per_stream {
                    let key = if flat {
                        format!("bench.c{c}w{w}.k{i}")
                    } else {
                        format!("bench.c{c}w{w}.{:04x}.{:02x}", i >> 8, i & 0xff)
                    };
                    let mut txn = Txn::new();
                    txn.put(key, "x");
                    client::commit(h, ns, &txn, flags).await?;
                }
                anyhow::Ok(())
            })
        });
        try_join_all(streams).await?;
        let secs = start.elapsed().as_secs_f64();
        let total = per_stream * clients * window;
        let flushes = flushes(h).await? - flushes_before;
        println!(
            "{total} single-key commits{}{}, {clients} client(s) x {window} in flight: {secs:.3} s, \
             {:.0} commits/s, {flushes} flushes",
            if args.sync { " with --sync" } else { "" },
            if flat { " (one flat directory)" } else { "" },
            total as f64 / secs
        );
    }
    Ok(0)
}
