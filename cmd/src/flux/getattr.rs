//! `flux getattr NAME`: print a broker attribute.

use crate::util;

/// Print the value of a broker attribute.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Attribute name
    name: String,
}

pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    println!("{}", h.attr_get(&args.name).await?);
    Ok(0)
}
