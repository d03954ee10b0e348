//! `flux content load|store|flush|dropcache`: raw blobs of the content store by blobref.

use std::io::{Read, Write};

use anyhow::Context;
use flux_actors::modules::kvs::store::{Blobref, HashAlg};
use flux_proto::nodeid;

use crate::util;

/// Access the content store.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write the blob with this blobref to standard output
    Load {
        /// Blobref
        blobref: String,
    },
    /// Store standard input as a blob and print its blobref
    Store,
    /// Make everything stored durable
    Flush,
    /// Drop the KVS directory cache
    Dropcache,
}

/// Run `flux content ...`.
pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    match cmd {
        Command::Load { blobref } => {
            let r: Blobref = blobref
                .parse()
                .with_context(|| format!("invalid blobref {blobref}"))?;
            let rsp = h
                .rpc("content.load", nodeid::ANY, r.digest().to_vec())
                .await?;
            let mut out = std::io::stdout().lock();
            out.write_all(&rsp.payload)?;
            out.flush()?;
        }
        Command::Store => {
            let mut blob = Vec::new();
            std::io::stdin().read_to_end(&mut blob)?;
            let rsp = h.rpc("content.store", nodeid::ANY, blob).await?;
            // The response is the binary digest; its length tells the hash.
            let alg = [HashAlg::Sha1, HashAlg::Blake3]
                .into_iter()
                .find(|a| a.digest_len() == rsp.payload.len())
                .context("content.store: unexpected digest size")?;
            println!("{}", Blobref::from_digest(alg, &rsp.payload)?);
        }
        Command::Flush => {
            h.rpc("content.flush", nodeid::ANY, Vec::new()).await?;
        }
        Command::Dropcache => {
            h.rpc("content.dropcache", nodeid::ANY, Vec::new()).await?;
        }
    }
    Ok(0)
}
