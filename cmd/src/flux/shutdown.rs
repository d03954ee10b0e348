//! `flux shutdown`: stop the instance.

use serde_json::{Value, json};

use crate::util;

/// Shut the instance down.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Print nothing
    #[arg(short, long)]
    quiet: bool,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let _: Value = h.rpc_json_to("broker.shutdown", 0, &json!({})).await?;
    if !args.quiet {
        eprintln!("flux-shutdown: shutdown requested");
    }
    Ok(0)
}
