//! `flux dashboard`: print the URL of this instance's tracing dashboard, starting it if
//! it is not running.

use serde_json::{Value, json};

use crate::util;

/// Print the URL of the instance's dashboard (starting it if needed).
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Where to listen if the dashboard must be started (loopback only)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    bind: String,
    /// Print JSON ({"uri": ...})
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let rsp: Value = h
        .rpc_json_to("broker.dashboard", 0, &json!({ "bind": args.bind }))
        .await?;
    if args.json {
        println!("{rsp}");
    } else {
        println!("{}", rsp["uri"].as_str().unwrap_or_default());
    }
    Ok(0)
}
