//! `flux kvs eventlog get|append|wait-event`: RFC 18 eventlogs stored as KVS values.

use std::time::Duration;

use anyhow::{Context, bail};
use flux_actors::modules::kvs::store::Txn;
use flux_actors::modules::kvs::wire::lookup_flags;
use flux_proto::Handle;
use flux_proto::types::eventlog::{self, Context as EventContext, Entry};

use super::client;

/// Eventlog commands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print an eventlog
    Get {
        /// Wait for the eventlog to be created
        #[arg(short = 'W', long)]
        waitcreate: bool,
        /// Print events as they are appended
        #[arg(short, long)]
        watch: bool,
        /// With --watch: stop after COUNT events
        #[arg(short, long, value_name = "COUNT")]
        count: Option<u64>,
        /// Print raw JSON lines
        #[arg(short, long)]
        unformatted: bool,
        /// Key
        key: String,
    },
    /// Append an event
    Append {
        /// Timestamp (default: now)
        #[arg(short, long, value_name = "SEC")]
        timestamp: Option<f64>,
        /// Key
        key: String,
        /// Event name
        name: String,
        /// Context, a JSON object
        context: Option<String>,
    },
    /// Wait until an event is appended
    WaitEvent {
        /// Wait for the eventlog to be created
        #[arg(short = 'W', long)]
        waitcreate: bool,
        /// Give up after SEC seconds
        #[arg(short, long, value_name = "SEC")]
        timeout: Option<f64>,
        /// Print raw JSON lines
        #[arg(short, long)]
        unformatted: bool,
        /// Print nothing
        #[arg(short, long)]
        quiet: bool,
        /// Print the events before the awaited one too
        #[arg(short, long)]
        verbose: bool,
        /// Key
        key: String,
        /// Event name
        event: String,
    },
}

fn show(entry: &Entry, raw: bool) {
    if raw {
        print!("{}", entry.to_line());
    } else {
        println!("{}", entry.to_text());
    }
}

/// Run `flux kvs eventlog ...`.
pub async fn run(h: &Handle, ns: &str, cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Get {
            waitcreate,
            watch,
            count,
            unformatted,
            key,
        } => {
            if !watch && !waitcreate {
                let text = client::get_value(h, ns, &key).await?;
                for entry in parse(&key, &text)? {
                    show(&entry, unformatted);
                }
                return Ok(0);
            }
            let mut seen = 0;
            follow(h, ns, &key, watch, waitcreate, |entry| {
                show(entry, unformatted);
                seen += 1;
                count.is_some_and(|n| seen >= n)
            })
            .await?;
        }
        Command::Append {
            timestamp,
            key,
            name,
            context,
        } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
            let mut entry = Entry::new(timestamp.unwrap_or(now.as_secs_f64()), name);
            if let Some(text) = context {
                // Context keeps the key order given, as flux-core writes it.
                let v: serde_json::Value = serde_json::from_str(&text)
                    .with_context(|| format!("context is not JSON: {text}"))?;
                if !v.is_object() {
                    bail!("context must be a JSON object: {text}");
                }
                entry.context = serde_json::from_str::<EventContext>(&text)?;
            }
            let mut txn = Txn::new();
            txn.append(&key, entry.to_line());
            client::commit(h, ns, &txn, 0).await?;
        }
        Command::WaitEvent {
            waitcreate,
            timeout,
            unformatted,
            quiet,
            verbose,
            key,
            event,
        } => {
            let wait = follow(h, ns, &key, true, waitcreate, |entry| {
                let found = entry.name == event;
                if !quiet && (found || verbose) {
                    show(entry, unformatted);
                }
                found
            });
            let found = match timeout {
                Some(secs) => tokio::time::timeout(Duration::from_secs_f64(secs.max(0.0)), wait)
                    .await
                    .map_err(|_| anyhow::anyhow!("wait-event timeout on event '{event}'"))??,
                None => wait.await?,
            };
            if !found {
                bail!("{key}: eventlog ended before event '{event}'");
            }
        }
    }
    Ok(0)
}

fn parse(key: &str, text: &[u8]) -> anyhow::Result<Vec<Entry>> {
    let text = std::str::from_utf8(text).with_context(|| format!("{key}: not UTF-8"))?;
    eventlog::parse(text).with_context(|| format!("{key}: invalid eventlog"))
}

/// Feed each event of the eventlog at `key` to `on_entry` (existing ones, then, with
/// `watch`, appended ones) until it returns true; returns whether it did.
async fn follow(
    h: &Handle,
    ns: &str,
    key: &str,
    watch: bool,
    waitcreate: bool,
    mut on_entry: impl FnMut(&Entry) -> bool,
) -> anyhow::Result<bool> {
    let mut flags = lookup_flags::WATCH_APPEND;
    if watch {
        flags |= lookup_flags::WATCH;
    }
    if waitcreate {
        flags |= lookup_flags::WAITCREATE;
    }
    let mut stream = client::watch(h, ns, key, flags).await?;
    // Appends arrive as whole lines (one append per event), but keep any partial tail.
    let mut pending = Vec::new();
    while let Some(chunk) = client::next_value(&mut stream).await? {
        pending.extend_from_slice(&chunk);
        let Some(end) = pending.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let complete: Vec<u8> = pending.drain(..=end).collect();
        for entry in parse(key, &complete)? {
            if on_entry(&entry) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
