//! `flux job info|id|submit|last`.

use std::io::Read;

use flux_proto::Handle;
use flux_proto::types::{JobId, JobIdEncoding};
use serde::Deserialize;
use serde_json::{Value, json};

use super::parse_id;
use crate::kvs::client;

/// Print job data from the KVS.
#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Job id
    id: String,
    /// Key: jobspec, R, eventlog, guest.exec.eventlog, guest.output, ...
    key: String,
}

/// Convert ids.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct IdArgs {
    /// Output encoding: dec, hex, dothex, kvs, words, f58, f58plain, emoji
    #[arg(short, long, default_value = "dec")]
    to: String,
    /// Ids (default: read from stdin)
    ids: Vec<String>,
}

/// Submit a jobspec file.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct SubmitArgs {
    /// Urgency 0-31
    #[arg(short, long, default_value_t = 16)]
    urgency: u32,
    /// Submit flags: waitable, debug, novalidate
    #[arg(short, long, value_delimiter = ',')]
    flags: Vec<String>,
    /// Jobspec file (default: stdin)
    file: Option<String>,
}

/// Most recent job ids.
#[derive(clap::Args, Debug)]
pub struct LastArgs {
    /// How many (default 1)
    count: Option<usize>,
}

pub async fn info(h: &Handle, args: InfoArgs) -> anyhow::Result<i32> {
    let id = parse_id(&args.id)?;
    let key = format!("{}.{}", id.to_kvs(), args.key);
    let value = client::get_value(h, "primary", &key)
        .await
        .map_err(|e| anyhow::anyhow!("job {} {}: {e:#}", id.to_f58(), args.key))?;
    let text = String::from_utf8_lossy(&value);
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(0)
}

pub fn id(args: IdArgs) -> anyhow::Result<i32> {
    let encoding: JobIdEncoding = args
        .to
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown encoding '{}'", args.to))?;
    let ids = if args.ids.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.split_whitespace().map(String::from).collect()
    } else {
        args.ids
    };
    for text in ids {
        println!("{}", parse_id(&text)?.encode(encoding));
    }
    Ok(0)
}

/// Submit a jobspec and return its id.
pub async fn submit_jobspec(
    h: &Handle,
    jobspec: Value,
    urgency: u32,
    flags: u32,
) -> flux_proto::Result<JobId> {
    #[derive(Deserialize)]
    struct Id {
        id: u64,
    }
    let body = json!({ "jobspec": jobspec, "urgency": urgency, "flags": flags });
    let rsp: Id = h.rpc_json("job-ingest.submit", &body).await?;
    Ok(JobId(rsp.id))
}

pub async fn submit(h: &Handle, args: SubmitArgs) -> anyhow::Result<i32> {
    let mut text = String::new();
    match &args.file {
        Some(path) if path != "-" => text = std::fs::read_to_string(path)?,
        _ => {
            std::io::stdin().read_to_string(&mut text)?;
        }
    }
    let jobspec: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("jobspec is not valid JSON: {e}"))?;
    let flags = crate::jobopts::JobOpts {
        flags: args.flags,
        ..Default::default()
    }
    .submit_flags()?;
    let id = submit_jobspec(h, jobspec, args.urgency, flags).await?;
    println!("{}", id.to_f58());
    Ok(0)
}

pub async fn last(h: &Handle, args: LastArgs) -> anyhow::Result<i32> {
    #[derive(Deserialize)]
    struct List {
        jobs: Vec<Value>,
    }
    let count = args.count.unwrap_or(1);
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    let list: List = h
        .rpc_json("job-manager.list", &json!({ "userid": uid, "max": count }))
        .await?;
    if list.jobs.is_empty() {
        anyhow::bail!("job history is empty");
    }
    for job in list.jobs {
        if let Some(id) = job.get("id").and_then(Value::as_u64) {
            println!("{}", JobId(id).to_f58());
        }
    }
    Ok(0)
}
