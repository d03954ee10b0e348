//! `flux version`: versions of the commands and, inside an instance, of the broker.

use crate::util;

/// Print version information.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub async fn run(_: Args) -> anyhow::Result<i32> {
    let version = env!("CARGO_PKG_VERSION");
    println!("commands:    \t\t{version}");
    println!("libflux-core:\t\t{version}");
    if let Ok(h) = util::connect().await {
        if let Ok(broker) = h.attr_get("version").await {
            println!("broker:\t\t\t{broker}");
        }
        println!("FLUX_URI:\t\t{}", h.uri());
    }
    println!("build-options:\t\t+rust+actix+sled+hwloc");
    Ok(0)
}
