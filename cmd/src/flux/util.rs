//! What the subcommands share: argument errors in Flux's words, a runtime, a handle.

use std::future::Future;

use clap::Parser;
use clap::error::ErrorKind;
use flux_proto::Handle;

/// Parse the command line; usage errors read `flux-CMD: ERROR: ...` and exit 1.
pub fn parse_args<P: Parser>() -> P {
    let mut args: Vec<String> = std::env::args().collect();
    // `flux mini submit|run|batch|alloc|bulksubmit` is the older spelling of these commands.
    if args.get(1).map(String::as_str) == Some("mini") {
        args.remove(1);
    }
    match P::try_parse_from(&args) {
        Ok(parsed) => parsed,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            std::process::exit(1);
        }
        Err(e) => {
            let cmd = args
                .get(1)
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str);
            let prefix = match cmd {
                Some(cmd) => format!("flux-{cmd}"),
                None => "flux".to_string(),
            };
            let text = e.render().to_string();
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default();
            eprintln!("{prefix}: ERROR: {}", first.trim_start_matches("error: "));
            for line in lines.filter(|l| !l.is_empty()) {
                eprintln!("{line}");
            }
            std::process::exit(1);
        }
    }
}

/// Run an async command on a single-threaded runtime.
pub fn block_on<F: Future<Output = anyhow::Result<i32>>>(fut: F) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(fut)
}

/// Connect to the enclosing instance (`FLUX_URI`).
pub async fn connect() -> anyhow::Result<Handle> {
    Ok(Handle::connect_env().await?)
}

/// The login name of `uid`, or the number when it has none.
pub fn username(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; getpwuid_r writes only into `pwd` and `buf`
    // (within buf.len()), and `result` is non-null only if `pwd` was filled in.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return uid.to_string();
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
    unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }
        .to_string_lossy()
        .into_owned()
}

/// The instance's queues and job policy, from its configuration (`config.get`).
pub async fn instance_policy(
    h: &Handle,
) -> anyhow::Result<flux_actors::modules::job_ingest::policy::Policy> {
    let conf: serde_json::Value = h.rpc_json("config.get", &serde_json::json!({})).await?;
    let conf = flux_actors::broker::Conf::from_json(conf)
        .ok_or_else(|| anyhow::anyhow!("config.get: the configuration is not a table"))?;
    Ok(flux_actors::modules::job_ingest::policy::Policy::from_conf(
        &conf,
    )?)
}
