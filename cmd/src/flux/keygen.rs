//! `flux keygen PATH`: write a new instance key, which the brokers of a multi-node instance
//! use to prove to each other that they belong to it (`curve_cert` in the bootstrap config).

use anyhow::Context as _;
use flux_actors::overlay::InstanceKey;

/// Generate an instance key.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the key (must not exist)
    path: std::path::PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let key = InstanceKey::generate()?;
    key.save(&args.path)
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    Ok(0)
}
