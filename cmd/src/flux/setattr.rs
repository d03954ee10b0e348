//! `flux setattr NAME VALUE`: set a broker attribute.

use serde_json::{Value, json};

use crate::util;

/// Set a broker attribute.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Attribute name
    name: String,
    /// New value
    value: String,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let _: Value = h
        .rpc_json(
            "attr.set",
            &json!({ "name": args.name, "value": args.value }),
        )
        .await?;
    Ok(0)
}
