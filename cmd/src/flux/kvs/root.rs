//! `flux kvs getroot|dropcache`.

use flux_actors::modules::kvs::store::{Blobref, TreeObj};
use flux_proto::Handle;
use serde_json::{Value, json};

use super::client;

/// Print the root of a namespace.
#[derive(clap::Args, Debug)]
pub struct GetrootArgs {
    /// Print the namespace owner
    #[arg(short, long)]
    owner: bool,
    /// Print the root blobref
    #[arg(short, long)]
    blobref: bool,
    /// Print the root sequence number
    #[arg(short, long)]
    sequence: bool,
}

/// Run `flux kvs getroot`: the root's `dirref` tree object unless told otherwise.
pub async fn getroot(h: &Handle, ns: &str, args: GetrootArgs) -> anyhow::Result<i32> {
    let root = client::getroot(h, ns).await?;
    if args.owner {
        println!("{}", root.owner);
    } else if args.blobref {
        println!("{}", root.rootref);
    } else if args.sequence {
        println!("{}", root.rootseq);
    } else {
        let r: Blobref = root.rootref.parse()?;
        println!("{}", TreeObj::DirRef(r));
    }
    Ok(0)
}

/// Run `flux kvs dropcache`.
pub async fn dropcache(h: &Handle) -> anyhow::Result<i32> {
    let _: Value = h.rpc_json("kvs.dropcache", &json!({})).await?;
    Ok(0)
}
