//! `flux exec [-r IDSET] [-x IDSET] [-l] [-d DIR] CMD...`: run a command on broker ranks
//! (all by default) and exit with the highest exit code.

use std::collections::BTreeMap;
use std::io::Write;

use flux_proto::types::IdSet;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde::Deserialize;
use serde_json::json;

use crate::util;

/// Run a command on broker ranks.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Ranks to run on (default: all)
    #[arg(short, long, value_name = "IDSET")]
    rank: Option<String>,
    /// Ranks to leave out
    #[arg(short = 'x', long, value_name = "IDSET")]
    exclude: Option<String>,
    /// Prefix each output line with the rank
    #[arg(short = 'l', long = "label-io")]
    label_io: bool,
    /// Do not forward standard input (it is never forwarded yet)
    #[arg(short = 'n', long)]
    noinput: bool,
    /// Working directory of the command
    #[arg(short = 'd', long, value_name = "DIR")]
    dir: Option<String>,
    /// Print a line per rank as processes start and finish
    #[arg(short, long)]
    verbose: bool,
    /// Do not report ranks that failed
    #[arg(short, long)]
    quiet: bool,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Deserialize)]
struct Reply {
    r#type: String,
    stream: Option<String>,
    data: Option<String>,
    status: Option<i32>,
    pid: Option<u32>,
}

/// What one rank said, tagged with the rank.
type Event = (u32, Result<Reply, flux_proto::Error>);

fn parse_idset(text: &str, what: &str) -> anyhow::Result<IdSet> {
    IdSet::parse(text).map_err(|e| anyhow::anyhow!("invalid {what} '{text}': {e}"))
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let size: u32 = h.attr_get("size").await?.parse()?;
    let mut ranks = match &args.rank {
        Some(text) if text == "all" => IdSet::from_range(0, size - 1),
        Some(text) => parse_idset(text, "--rank")?,
        None => IdSet::from_range(0, size - 1),
    };
    if let Some(text) = &args.exclude {
        ranks = ranks.difference(&parse_idset(text, "--exclude")?);
    }
    if let Some(bad) = ranks.iter().find(|&r| r >= size) {
        anyhow::bail!("rank {bad} is not in this instance of size {size}");
    }
    let body = serde_json::to_vec(&json!({ "cmd": args.command, "cwd": args.dir }))?;
    let mut streams: Vec<BoxStream<'static, Event>> = Vec::new();
    for rank in ranks.iter() {
        let rpc = h.rpc_stream("rexec.exec", rank, body.clone()).await?;
        let replies = stream::unfold(rpc, move |mut rpc| async move {
            let next = rpc.next().await?;
            let event = next.and_then(|rsp| Ok(rsp.json::<Reply>()?));
            Some(((rank, event), rpc))
        });
        streams.push(replies.boxed());
    }
    let mut all = stream::select_all(streams);
    let mut failures: BTreeMap<String, IdSet> = BTreeMap::new();
    let mut code = 0;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some((rank, event)) = all.next().await {
        match event {
            Ok(reply) => match reply.r#type.as_str() {
                "output" => {
                    let data = reply.data.unwrap_or_default();
                    let sink: &mut dyn Write = if reply.stream.as_deref() == Some("stderr") {
                        &mut err
                    } else {
                        &mut out
                    };
                    if args.label_io {
                        for line in data.split_inclusive('\n') {
                            write!(sink, "{rank}: {line}")?;
                        }
                    } else {
                        sink.write_all(data.as_bytes())?;
                    }
                    sink.flush()?;
                }
                "started" if args.verbose => {
                    eprintln!("{rank}: started pid {}", reply.pid.unwrap_or(0))
                }
                "finished" => {
                    let status = reply.status.unwrap_or(1);
                    if args.verbose {
                        eprintln!("{rank}: exit {status}");
                    }
                    if status != 0 {
                        let text = if status > 128 {
                            signal_text(status - 128)
                        } else {
                            format!("Exit {status}")
                        };
                        failures.entry(text).or_default().insert(rank);
                    }
                    code = code.max(status);
                }
                _ => {}
            },
            Err(e) => {
                let status = if e.errnum() == flux_proto::errno::ENOENT {
                    127
                } else {
                    126
                };
                failures.entry(e.to_string()).or_default().insert(rank);
                code = code.max(status);
            }
        }
    }
    if !args.quiet {
        for (text, ranks) in failures {
            eprintln!("{ranks}: {text}");
        }
    }
    Ok(code)
}

/// The C library's name for a signal ("Killed", "Terminated", ...).
fn signal_text(signum: i32) -> String {
    // SAFETY: strsignal returns a pointer to a static or thread-local NUL-terminated string.
    let ptr = unsafe { libc::strsignal(signum) };
    if ptr.is_null() {
        return format!("signal {signum}");
    }
    // SAFETY: non-null, NUL-terminated as above.
    unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}
