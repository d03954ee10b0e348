//! `flux logger [--severity S] [--appname A] MESSAGE...`: add to the broker log.

use serde_json::{Value, json};

use crate::util;

const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Add an entry to the broker log.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Severity: emerg, alert, crit, err, warning, notice, info, debug (or 0-7)
    #[arg(short, long, default_value = "notice")]
    severity: String,
    /// Application name
    #[arg(short, long, default_value = "logger")]
    appname: String,
    /// The message
    #[arg(required = true)]
    message: Vec<String>,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let severity = match SEVERITIES.iter().position(|s| *s == args.severity) {
        Some(level) => level,
        None => match args.severity.parse::<usize>() {
            Ok(level) if level < 8 => level,
            _ => anyhow::bail!("invalid severity '{}'", args.severity),
        },
    };
    let h = util::connect().await?;
    let body =
        json!({ "severity": severity, "appname": args.appname, "msg": args.message.join(" ") });
    let _: Value = h.rpc_json("log.append", &body).await?;
    Ok(0)
}
