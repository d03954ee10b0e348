//! `flux uptime`: ` HH:MM:SS STATE ELAPSED,  owner USER,  depth N,  size N`.

use flux_proto::types::fsd::Fsd;
use serde::Deserialize;
use serde_json::json;

use crate::util;

/// Show how long the instance has been up.
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Deserialize)]
struct State {
    state: String,
    uptime: f64,
    owner: u32,
}

pub async fn run(_: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let state: State = h.rpc_json("broker.state", &json!({})).await?;
    let depth = h.attr_get("instance-level").await?;
    let size = h.attr_get("size").await?;
    let elapsed = Fsd::from_secs(state.uptime.max(0.0))?.format_with_precision(2);
    let now = chrono::Local::now().format("%H:%M:%S");
    println!(
        " {now} {} {elapsed},  owner {},  depth {depth},  size {size}",
        state.state,
        util::username(state.owner)
    );
    Ok(0)
}
