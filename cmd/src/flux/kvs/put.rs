//! `flux kvs put|unlink|mkdir|link|copy|move`: the commands that commit.

use std::io::Read;

use anyhow::{Context, bail};
use flux_actors::modules::kvs::store::{TreeObj, Txn};
use flux_actors::modules::kvs::wire::{commit_flags, lookup_flags};
use flux_proto::{Handle, errno};

use super::client;

/// How to report the new root after a commit (`-O`, `-b`, `-s`).
#[derive(clap::Args, Debug)]
pub struct RootOut {
    /// Print the new root as a tree object
    #[arg(short = 'O', long = "treeobj-root")]
    treeobj_root: bool,
    /// Print the new root's blobref
    #[arg(short, long)]
    blobref: bool,
    /// Print the new root's sequence number
    #[arg(short, long)]
    sequence: bool,
}

impl RootOut {
    fn print(&self, rsp: &flux_actors::modules::kvs::wire::CommitResponse) -> anyhow::Result<()> {
        client::print_root(rsp, self.treeobj_root, self.blobref, self.sequence)
    }
}

/// Store values.
#[derive(clap::Args, Debug)]
pub struct PutArgs {
    /// Store VALUE as raw bytes; `-` reads them from standard input
    #[arg(short, long)]
    raw: bool,
    /// VALUE must be JSON; it is stored compacted
    #[arg(short, long)]
    json: bool,
    /// VALUE is a tree object
    #[arg(short, long)]
    treeobj: bool,
    /// Append VALUE to the key's current value
    #[arg(short = 'A', long)]
    append: bool,
    /// Do not merge this commit with others
    #[arg(short, long)]
    no_merge: bool,
    /// Return only once flushed to disk (survives a machine crash, not only fluxd's)
    #[arg(short = 'S', long)]
    sync: bool,
    #[command(flatten)]
    root: RootOut,
    /// KEY=VALUE pairs
    #[arg(required = true, value_name = "KEY=VALUE")]
    pairs: Vec<String>,
}

/// Run `flux kvs put`: every pair in one transaction.
pub async fn put(h: &Handle, ns: &str, args: PutArgs) -> anyhow::Result<i32> {
    let mut txn = Txn::new();
    for pair in &args.pairs {
        let Some((key, text)) = pair.split_once('=') else {
            bail!("{pair}: value must be given as KEY=VALUE");
        };
        let value = if args.raw && text == "-" {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf)?;
            buf
        } else if args.json {
            let v: serde_json::Value =
                serde_json::from_str(text).with_context(|| format!("{key}: value is not JSON"))?;
            v.to_string().into_bytes()
        } else {
            text.as_bytes().to_vec()
        };
        if args.treeobj {
            let v: serde_json::Value = serde_json::from_slice(&value)
                .with_context(|| format!("{key}: invalid tree object"))?;
            txn.put_treeobj(key, TreeObj::from_json(&v)?);
        } else if args.append {
            txn.append(key, value);
        } else {
            txn.put(key, value);
        }
    }
    let mut flags = 0;
    if args.sync {
        flags |= commit_flags::SYNC;
    }
    if args.no_merge {
        flags |= commit_flags::NO_MERGE;
    }
    let rsp = client::commit(h, ns, &txn, flags).await?;
    args.root.print(&rsp)?;
    Ok(0)
}

/// Remove keys.
#[derive(clap::Args, Debug)]
pub struct UnlinkArgs {
    /// Remove directories and their content
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Ignore keys that do not exist
    #[arg(short, long)]
    force: bool,
    #[command(flatten)]
    root: RootOut,
    /// Keys
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

/// Run `flux kvs unlink`: checks first, then one transaction for all keys.
pub async fn unlink(h: &Handle, ns: &str, args: UnlinkArgs) -> anyhow::Result<i32> {
    let mut txn = Txn::new();
    for key in &args.keys {
        match client::lookup(
            h,
            ns,
            key,
            lookup_flags::TREEOBJ | lookup_flags::READLINK,
            None,
        )
        .await
        {
            Ok(obj) if obj.is_dir() && !args.recursive => {
                let dir = client::lookup(h, ns, key, lookup_flags::READDIR, None).await?;
                if !matches!(&dir, TreeObj::Dir(d) if d.is_empty()) {
                    bail!("{key}: cannot unlink non-empty directory (use -R)");
                }
            }
            Ok(_) => {}
            Err(e) if args.force && rpc_errnum(&e) == Some(errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        txn.unlink(key);
    }
    let rsp = client::commit(h, ns, &txn, 0).await?;
    args.root.print(&rsp)?;
    Ok(0)
}

/// Create empty directories.
#[derive(clap::Args, Debug)]
pub struct MkdirArgs {
    #[command(flatten)]
    root: RootOut,
    /// Keys
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

/// Run `flux kvs mkdir`.
pub async fn mkdir(h: &Handle, ns: &str, args: MkdirArgs) -> anyhow::Result<i32> {
    let mut txn = Txn::new();
    for key in &args.keys {
        txn.mkdir(key);
    }
    let rsp = client::commit(h, ns, &txn, 0).await?;
    args.root.print(&rsp)?;
    Ok(0)
}

/// Create a symbolic link.
#[derive(clap::Args, Debug)]
pub struct LinkArgs {
    /// The target lives in this namespace
    #[arg(short = 'T', long, value_name = "NAME")]
    target_namespace: Option<String>,
    #[command(flatten)]
    root: RootOut,
    /// Key the link points to (need not exist)
    target: String,
    /// Key of the link
    linkname: String,
}

/// Run `flux kvs link`.
pub async fn link(h: &Handle, ns: &str, args: LinkArgs) -> anyhow::Result<i32> {
    let mut txn = Txn::new();
    txn.symlink(
        &args.linkname,
        args.target_namespace.as_deref(),
        &args.target,
    );
    let rsp = client::commit(h, ns, &txn, 0).await?;
    args.root.print(&rsp)?;
    Ok(0)
}

/// Copy or move a key.
#[derive(clap::Args, Debug)]
pub struct CopyArgs {
    /// Namespace of the source
    #[arg(short = 'S', long, value_name = "NAME")]
    src_namespace: Option<String>,
    /// Namespace of the destination
    #[arg(short = 'D', long, value_name = "NAME")]
    dst_namespace: Option<String>,
    /// Source key
    source: String,
    /// Destination key
    destination: String,
}

/// Run `flux kvs copy` or `flux kvs move`: the source's tree object is linked at the
/// destination (a directory is shared, not duplicated), then for a move the source goes.
pub async fn copy(h: &Handle, ns: &str, args: CopyArgs, remove: bool) -> anyhow::Result<i32> {
    let src_ns = args.src_namespace.as_deref().unwrap_or(ns);
    let dst_ns = args.dst_namespace.as_deref().unwrap_or(ns);
    let obj = client::lookup(h, src_ns, &args.source, lookup_flags::TREEOBJ, None).await?;
    let mut txn = Txn::new();
    txn.put_treeobj(&args.destination, obj);
    client::commit(h, dst_ns, &txn, 0).await?;
    if remove {
        let mut txn = Txn::new();
        txn.unlink(&args.source);
        client::commit(h, src_ns, &txn, 0).await?;
    }
    Ok(0)
}

/// The errno of a failed rpc, if that is what `e` is.
pub fn rpc_errnum(e: &anyhow::Error) -> Option<i32> {
    e.downcast_ref::<flux_proto::Error>()
        .map(flux_proto::Error::errnum)
}
