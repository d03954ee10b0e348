//! `flux resource drain` and `flux resource undrain`.

use anyhow::Result;
use flux_proto::{Handle, errno};
use serde_json::json;

/// Options of `flux resource drain`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct DrainArgs {
    /// Overwrite the reason of targets already drained (twice: the timestamp too)
    #[arg(short, long, action = clap::ArgAction::Count)]
    force: u8,
    /// Drain only the targets not drained already
    #[arg(short, long)]
    update: bool,
    /// Output format of the list (no targets): `default`, `long`, or a format string
    #[arg(short = 'o', long)]
    format: Option<String>,
    /// Do not print the header of the list
    #[arg(short = 'n', long)]
    no_header: bool,
    /// Ranks or host names (none: list drained nodes)
    targets: Option<String>,
    /// Why
    reason: Vec<String>,
}

/// Options of `flux resource undrain`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct UndrainArgs {
    /// Do not fail on targets that are not drained
    #[arg(short, long)]
    force: bool,
    /// Ranks or host names
    targets: String,
    /// Why (recorded nowhere yet)
    reason: Vec<String>,
}

/// `flux resource drain [-f] [-u] [TARGETS [REASON...]]`.
pub async fn drain(h: &Handle, args: DrainArgs) -> Result<i32> {
    let Some(targets) = args.targets else {
        return super::status::drain_list(h, args.format.as_deref(), !args.no_header).await;
    };
    if args.update && args.force > 0 {
        anyhow::bail!("only one of --force and --update may be specified");
    }
    let mode = match (args.update, args.force) {
        (true, _) => Some("update"),
        (false, 0) => None,
        (false, 1) => Some("overwrite"),
        (false, _) => Some("force-overwrite"),
    };
    let mut body = json!({ "targets": targets });
    if let Some(mode) = mode {
        body["mode"] = json!(mode);
    }
    if !args.reason.is_empty() {
        body["reason"] = json!(args.reason.join(" "));
    }
    let result: Result<serde_json::Value, _> = h.rpc_json_to("resource.drain", 0, &body).await;
    match result {
        Ok(_) => Ok(0),
        Err(e) if e.errnum() == errno::EEXIST => {
            eprintln!("flux-resource: ERROR: {e}");
            eprintln!("flux-resource: Use --force to overwrite existing drain reason");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

/// `flux resource undrain [-f] TARGETS [REASON...]`.
pub async fn undrain(h: &Handle, args: UndrainArgs) -> Result<i32> {
    let mut body = json!({ "targets": args.targets, "force": args.force });
    if !args.reason.is_empty() {
        body["reason"] = json!(args.reason.join(" "));
    }
    let _: serde_json::Value = h.rpc_json_to("resource.undrain", 0, &body).await?;
    Ok(0)
}
