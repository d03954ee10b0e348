//! `flux kvs`: the key-value store from the command line (flux-kvs(1), spec/kvs.md §6).
//! One file per group of subcommands; [`client`] holds the rpcs they share.

mod bench;
pub(crate) mod client;
mod dir;
mod eventlog;
mod get;
mod namespace;
mod put;
mod root;

use crate::util;

/// Access the key-value store.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Operate in namespace NAME (default: $FLUX_KVS_NAMESPACE or primary)
    #[arg(short = 'N', long, global = true, value_name = "NAME")]
    namespace: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Print the values of keys
    Get(get::Args),
    /// Store KEY=VALUE pairs, all in one transaction
    Put(put::PutArgs),
    /// List directories, like ls(1)
    Ls(dir::LsArgs),
    /// Print a directory's keys and values
    Dir(dir::DirArgs),
    /// Remove keys
    Unlink(put::UnlinkArgs),
    /// Create empty directories
    Mkdir(put::MkdirArgs),
    /// Create a symbolic link LINKNAME pointing to TARGET
    Link(put::LinkArgs),
    /// Print the targets of symbolic links
    Readlink(dir::ReadlinkArgs),
    /// Copy a key (a directory is copied by reference)
    Copy(put::CopyArgs),
    /// Move a key
    Move(put::CopyArgs),
    /// Print the root of a namespace
    Getroot(root::GetrootArgs),
    /// Drop the KVS directory cache
    Dropcache,
    /// Manage namespaces
    #[command(subcommand)]
    Namespace(namespace::Command),
    /// Read, append to and wait on eventlogs
    #[command(subcommand)]
    Eventlog(eventlog::Command),
    /// Measure commit throughput (for scripts/bench-kvs)
    #[command(hide = true)]
    Bench(bench::Args),
}

/// Run `flux kvs ...`.
pub async fn run(args: Args) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    let ns = args
        .namespace
        .or_else(|| std::env::var("FLUX_KVS_NAMESPACE").ok())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "primary".to_string());
    match args.command {
        Command::Get(a) => get::run(&h, &ns, a).await,
        Command::Put(a) => put::put(&h, &ns, a).await,
        Command::Ls(a) => dir::ls(&h, &ns, a).await,
        Command::Dir(a) => dir::dir(&h, &ns, a).await,
        Command::Unlink(a) => put::unlink(&h, &ns, a).await,
        Command::Mkdir(a) => put::mkdir(&h, &ns, a).await,
        Command::Link(a) => put::link(&h, &ns, a).await,
        Command::Readlink(a) => dir::readlink(&h, &ns, a).await,
        Command::Copy(a) => put::copy(&h, &ns, a, false).await,
        Command::Move(a) => put::copy(&h, &ns, a, true).await,
        Command::Getroot(a) => root::getroot(&h, &ns, a).await,
        Command::Dropcache => root::dropcache(&h).await,
        Command::Namespace(c) => namespace::run(&h, c).await,
        Command::Eventlog(c) => eventlog::run(&h, &ns, c).await,
        Command::Bench(a) => bench::run(&h, &ns, a).await,
    }
}
