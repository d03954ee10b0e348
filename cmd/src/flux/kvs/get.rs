//! `flux kvs get`: print values, or follow them (`--watch`, `--waitcreate`).

use std::io::Write;

use anyhow::{Context, bail};
use flux_actors::modules::kvs::wire::lookup_flags;
use flux_proto::Handle;

use super::client;

/// Print the values of keys.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print values as raw bytes, without a newline
    #[arg(short, long)]
    raw: bool,
    /// Print the values parsed and re-encoded as JSON (fails on non-JSON values)
    #[arg(short, long)]
    json: bool,
    /// Print the tree objects instead of the values
    #[arg(short, long)]
    treeobj: bool,
    /// Look up at this root (a dirref tree object or blobref)
    #[arg(short, long, value_name = "TREEOBJ")]
    at: Option<String>,
    /// Prefix each value with `KEY=`
    #[arg(short, long)]
    label: bool,
    /// Wait for the key to be created
    #[arg(short = 'W', long)]
    waitcreate: bool,
    /// Print the value, then each new value it takes
    #[arg(short, long)]
    watch: bool,
    /// With --watch: stop after COUNT values
    #[arg(short, long, value_name = "COUNT")]
    count: Option<u64>,
    /// With --watch: print only values that differ from the previous one
    #[arg(short, long)]
    uniq: bool,
    /// With --watch: print only what was appended since the previous value
    #[arg(short = 'A', long)]
    append: bool,
    /// Keys
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

/// Run `flux kvs get`.
pub async fn run(h: &Handle, ns: &str, args: Args) -> anyhow::Result<i32> {
    if args.watch || args.waitcreate {
        return watch(h, ns, &args).await;
    }
    let at = args.at.as_deref().map(client::parse_root).transpose()?;
    let flags = if args.treeobj {
        lookup_flags::TREEOBJ
    } else {
        0
    };
    for key in &args.keys {
        let obj = client::lookup(h, ns, key, flags, at.as_ref()).await?;
        if args.treeobj {
            output(&args, key, obj.to_string().as_bytes())?;
        } else {
            output(&args, key, &client::value_bytes(obj, key)?)?;
        }
    }
    Ok(0)
}

async fn watch(h: &Handle, ns: &str, args: &Args) -> anyhow::Result<i32> {
    let [key] = args.keys.as_slice() else {
        bail!("--watch and --waitcreate take exactly one key");
    };
    let mut flags = 0;
    if args.watch {
        flags |= lookup_flags::WATCH;
    }
    if args.waitcreate {
        flags |= lookup_flags::WAITCREATE;
    }
    if args.uniq {
        flags |= lookup_flags::WATCH_UNIQ;
    }
    if args.append {
        flags |= lookup_flags::WATCH_APPEND;
    }
    let mut stream = client::watch(h, ns, key, flags).await?;
    let mut seen = 0;
    while args.count.is_none_or(|n| seen < n) {
        match client::next_value(&mut stream).await? {
            Some(value) => output(args, key, &value)?,
            None => break,
        }
        seen += 1;
    }
    Ok(0)
}

/// Print one value as the options ask.
fn output(args: &Args, key: &str, value: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.label {
        write!(out, "{key}=")?;
    }
    if args.json {
        let v: serde_json::Value =
            serde_json::from_slice(value).with_context(|| format!("{key}: value is not JSON"))?;
        writeln!(out, "{v}")?;
    } else if args.raw {
        out.write_all(value)?;
    } else {
        out.write_all(value)?;
        if !value.is_empty() {
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(())
}
