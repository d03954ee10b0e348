//! `flux kvs namespace create|remove|list`.

use flux_actors::modules::kvs::wire::{NamespaceCreate, NamespaceList, NamespaceRequest};
use flux_proto::Handle;
use serde_json::Value;

use super::client;

/// Manage namespaces.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Create namespaces
    Create {
        /// Owner uid (default: you)
        #[arg(short, long, value_name = "UID")]
        owner: Option<u32>,
        /// Initial root (a dirref tree object or blobref)
        #[arg(short, long, value_name = "TREEOBJ")]
        rootref: Option<String>,
        /// Names
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
    /// Remove namespaces
    Remove {
        /// Names
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
    /// List namespaces
    List,
}

/// Run `flux kvs namespace ...`.
pub async fn run(h: &Handle, cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Create {
            owner,
            rootref,
            names,
        } => {
            let rootref = rootref.as_deref().map(client::parse_root).transpose()?;
            for name in names {
                let body = NamespaceCreate {
                    namespace: name,
                    owner,
                    rootref: rootref.as_ref().map(|r| r.to_json()).transpose()?,
                    flags: 0,
                };
                let _: Value = h.rpc_json("kvs.namespace-create", &body).await?;
            }
        }
        Command::Remove { names } => {
            for namespace in names {
                let _: Value = h
                    .rpc_json("kvs.namespace-remove", &NamespaceRequest { namespace })
                    .await?;
            }
        }
        Command::List => {
            let list: NamespaceList = h
                .rpc_json("kvs.namespace-list", &serde_json::json!({}))
                .await?;
            println!("{:<36} {:<10} FLAGS", "NAMESPACE", "OWNER");
            for ns in list.namespaces {
                println!("{:<36} {:>10} 0x{:08X}", ns.namespace, ns.owner, ns.flags);
            }
        }
    }
    Ok(0)
}
