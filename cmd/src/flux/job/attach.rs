//! `flux job attach ID`: copy a job's output as it is produced, report its exceptions,
//! and exit as its tasks did (spec/job-states.md §7). `flux run` and `submit --watch` use it.

use std::io::Write;

use flux_proto::Handle;
use flux_proto::types::JobId;
use flux_proto::types::eventlog::Entry;
use serde_json::Value;

use super::follow::Follower;
use crate::kvs::client;

/// Options of `flux job attach`.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Prefix output lines with the task rank
    #[arg(short = 'l', long = "label-io")]
    pub label_io: bool,
    /// Print the job's events on stderr
    #[arg(short = 'E', long = "show-events")]
    pub show_events: bool,
    /// Print the jobid on stderr
    #[arg(short, long)]
    pub verbose: bool,
    /// Job id
    pub id: String,
}

/// What attaching learned about the job.
#[derive(Debug, Default)]
struct Progress {
    t0: Option<f64>,
    status: Option<i32>,
    fatal: bool,
    clean: bool,
}

/// Follow job `id` to its end; returns the exit code `flux run` gives.
pub async fn attach(
    h: &Handle,
    id: JobId,
    label_io: bool,
    show_events: bool,
) -> anyhow::Result<i32> {
    let mut events = Follower::job(h, id, "eventlog").await?;
    let mut output = Follower::job(h, id, "guest.output").await?;
    let mut progress = Progress::default();
    let mut eofs_needed: Option<u64> = None;
    let mut eofs = 0u64;
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    loop {
        let output_done = eofs_needed.is_some_and(|n| eofs >= n);
        if progress.clean && output_done {
            break;
        }
        tokio::select! {
            entry = events.next(), if !progress.clean => {
                let Some(entry) = entry? else { break };
                on_event(id, &entry, &mut progress, show_events);
                if progress.clean && eofs_needed.is_none() {
                    // Jobs that never ran tasks (simulated, canceled early) have no output.
                    let key = format!("{}.guest.output", id.to_kvs());
                    if client::lookup(h, "primary", &key, 0, None).await.is_err() {
                        break;
                    }
                }
            }
            entry = output.next(), if !output_done => {
                let Some(entry) = entry? else { break };
                match entry.name.as_str() {
                    "header" => {
                        let count = entry.context.get("count").cloned().unwrap_or(Value::Null);
                        let n = |s: &str| count.get(s).and_then(Value::as_u64).unwrap_or(0);
                        eofs_needed = Some(n("stdout") + n("stderr"));
                    }
                    "data" => {
                        let ctx = &entry.context;
                        if ctx.get("eof").and_then(Value::as_bool) == Some(true) {
                            eofs += 1;
                        }
                        if let Some(data) = ctx.get_str("data") {
                            let sink: &mut dyn Write = if ctx.get_str("stream") == Some("stderr") { &mut stderr } else { &mut stdout };
                            write_data(sink, data, label_io.then(|| ctx.get_str("rank").unwrap_or("0")))?;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(exit_code(&progress))
}

fn on_event(id: JobId, entry: &Entry, p: &mut Progress, show: bool) {
    let t0 = *p.t0.get_or_insert(entry.timestamp);
    if show {
        eprintln!("{:.3}s: job.{}", entry.timestamp - t0, entry.name);
    }
    match entry.name.as_str() {
        "exception" => {
            let ctx = &entry.context;
            let severity = ctx.get_i64("severity").unwrap_or(0);
            if severity == 0 {
                p.fatal = true;
            }
            eprintln!(
                "{:.3}s: job.exception {} type={} severity={} {}",
                entry.timestamp - t0,
                id.to_f58(),
                ctx.get_str("type").unwrap_or(""),
                severity,
                ctx.get_str("note").unwrap_or("")
            );
        }
        "finish" => p.status = entry.context.get_i64("status").map(|s| s as i32),
        "clean" => p.clean = true,
        _ => {}
    }
}

fn write_data(sink: &mut dyn Write, data: &str, label: Option<&str>) -> std::io::Result<()> {
    match label {
        Some(rank) => {
            for line in data.split_inclusive('\n') {
                write!(sink, "{rank}: {line}")?;
            }
        }
        None => sink.write_all(data.as_bytes())?,
    }
    sink.flush()
}

/// 128+signal, or the exit status; 1 after a fatal exception or without a finish.
fn exit_code(p: &Progress) -> i32 {
    let code = match p.status {
        Some(status) if status & 0x7f != 0 => {
            let sig = status & 0x7f;
            eprintln!("flux-job: task(s) {}", signal_name(sig));
            128 + sig
        }
        Some(status) => {
            let code = (status >> 8) & 0xff;
            if code != 0 {
                eprintln!("flux-job: task(s) exited with exit code {code}");
            }
            code
        }
        None => 1,
    };
    if code == 0 && p.fatal { 1 } else { code }
}

fn signal_name(sig: i32) -> String {
    // SAFETY: strsignal returns a pointer to a NUL-terminated string (static or per-thread).
    let ptr = unsafe { libc::strsignal(sig) };
    if ptr.is_null() {
        return format!("signal {sig}");
    }
    // SAFETY: non-null and NUL-terminated, as above.
    unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// Send this process's stdin to tasks `ranks` (`all` or an idset) of job `id` once it has
/// started, then end it (`flux run`). Returns when stdin is done or the job is.
pub async fn forward_stdin(h: &Handle, id: JobId, ranks: &str) -> anyhow::Result<()> {
    let mut events = Follower::job(h, id, "eventlog").await?;
    loop {
        match events.next().await? {
            Some(e) if e.name == "start" => break,
            Some(e) if e.name == "clean" => return Ok(()),
            Some(_) => {}
            None => return Ok(()),
        }
    }
    // A plain thread: a blocked read of a terminal must not hold up the exit.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = vec![0u8; 16 << 10];
        let mut stdin = std::io::stdin().lock();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut chars = flux_shell::jobshell::output::Utf8Chunks::default();
    // Data goes to `ranks`; the end of input to every task, so none waits for more.
    let send = |data: String, eof: bool| {
        let to = if eof { "all" } else { ranks };
        let body = serde_json::json!({ "id": id.0, "ranks": to, "data": data, "eof": eof });
        async move { h.rpc_json_to::<_, Value>("job-exec.stdin", 0, &body).await }
    };
    while let Some(chunk) = rx.recv().await {
        if send(chars.push(&chunk), false).await.is_err() {
            return Ok(());
        }
    }
    let _ = send(chars.finish(), true).await;
    Ok(())
}

/// `flux job attach`.
pub async fn run(h: &Handle, args: Args) -> anyhow::Result<i32> {
    let id = super::parse_id(&args.id)?;
    if args.verbose {
        eprintln!("jobid: {}", id.to_f58());
    }
    let attached = attach(h, id, args.label_io, args.show_events);
    if !reads_forwarded_stdin(h, id).await {
        return attached.await;
    }
    // The job's tasks read what its submitter forwards: forward ours too.
    tokio::pin!(attached);
    let forward = forward_stdin(h, id, "all");
    tokio::pin!(forward);
    let mut forwarding = true;
    loop {
        tokio::select! {
            code = &mut attached => return code,
            _ = &mut forward, if forwarding => forwarding = false,
        }
    }
}

/// Whether job `id` takes stdin from `flux run`/`flux job attach` (`input.stdin.type`
/// is `service`).
async fn reads_forwarded_stdin(h: &Handle, id: JobId) -> bool {
    let key = format!("{}.jobspec", id.to_kvs());
    let Ok(obj) = client::lookup(h, "primary", &key, 0, None).await else {
        return false;
    };
    client::value_bytes(obj, &key)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            v.pointer("/attributes/system/shell/options/input/stdin/type")
                .cloned()
        })
        .is_some_and(|t| t == "service")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_flux_run() {
        let p = |status, fatal| Progress {
            status,
            fatal,
            ..Default::default()
        };
        assert_eq!(exit_code(&p(Some(0), false)), 0);
        assert_eq!(exit_code(&p(Some(3 << 8), false)), 3);
        assert_eq!(exit_code(&p(Some(9), false)), 137);
        assert_eq!(exit_code(&p(Some(0), true)), 1);
        assert_eq!(exit_code(&p(None, true)), 1);
    }

    #[test]
    fn labels_prefix_every_line() {
        let mut out = Vec::new();
        write_data(&mut out, "a\nb\n", Some("3")).unwrap();
        assert_eq!(out, b"3: a\n3: b\n");
    }
}
