//! `flux lsattr [-v]`: list broker attributes.

use serde::Deserialize;
use serde_json::json;

use crate::util;

/// List broker attributes.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Show values too
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Deserialize)]
struct List {
    attrs: Vec<(String, Option<String>)>,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let list: List = h.rpc_json("attr.list", &json!({})).await?;
    for (name, value) in list.attrs {
        if args.verbose {
            println!("{:<40}{}", name, value.as_deref().unwrap_or("-"));
        } else {
            println!("{name}");
        }
    }
    Ok(0)
}
