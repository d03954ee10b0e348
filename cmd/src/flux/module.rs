//! `flux module list|load|remove|reload|stats`: manage broker modules.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::util;

/// Manage broker modules.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List loaded modules
    List {
        /// Show the module path too
        #[arg(short, long)]
        long: bool,
    },
    /// Load a module with optional key=value arguments
    Load {
        /// Module name
        name: String,
        /// Arguments (key=value)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Unload a module
    Remove {
        /// Do not fail if the module is not loaded
        #[arg(short, long)]
        force: bool,
        /// Module name
        name: String,
    },
    /// Unload then load a module
    Reload {
        /// Do not fail if the module is not loaded
        #[arg(short, long)]
        force: bool,
        /// Module name
        name: String,
        /// Arguments (key=value)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a module's counters as JSON
    Stats {
        /// Module name
        name: String,
    },
}

#[derive(Deserialize)]
struct Row {
    name: String,
    idle: Option<f64>,
    state: char,
    sendq: u64,
    recvq: u64,
    services: Vec<String>,
    path: String,
}

#[derive(Deserialize)]
struct List {
    mods: Vec<Row>,
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    match cmd {
        Command::List { long } => {
            let list: List = h.rpc_json("module.list", &json!({})).await?;
            print!("{:<25} {:>4}  S Sendq Recvq Service", "Module", "Idle");
            println!("{}", if long { " Path" } else { "" });
            for row in list.mods {
                let idle = match row.idle {
                    Some(secs) => format!("{}", secs as u64),
                    None => "idle".to_string(),
                };
                let name: String = row.name.chars().take(25).collect();
                let services = if row.services.is_empty() {
                    String::new()
                } else {
                    row.services.join(",")
                };
                print!(
                    "{name:<25} {idle:>4}  {} {:>5} {:>5} {services}",
                    row.state, row.sendq, row.recvq
                );
                println!(
                    "{}",
                    if long {
                        format!(" {}", row.path)
                    } else {
                        String::new()
                    }
                );
            }
        }
        Command::Load { name, args } => load(&h, &name, &args).await?,
        Command::Remove { force, name } => remove(&h, &name, force).await?,
        Command::Reload { force, name, args } => {
            remove(&h, &name, force).await?;
            load(&h, &name, &args).await?;
        }
        Command::Stats { name } => {
            let stats: Value = h.rpc_json("module.stats", &json!({ "name": name })).await?;
            println!("{}", serde_json::to_string_pretty(&stats)?);
        }
    }
    Ok(0)
}

async fn load(h: &flux_proto::Handle, name: &str, args: &[String]) -> anyhow::Result<()> {
    let _: Value = h
        .rpc_json("module.load", &json!({ "name": name, "args": args }))
        .await?;
    Ok(())
}

async fn remove(h: &flux_proto::Handle, name: &str, force: bool) -> anyhow::Result<()> {
    match h
        .rpc_json::<_, Value>("module.remove", &json!({ "name": name }))
        .await
    {
        Err(e) if force && e.errnum() == flux_proto::errno::ENOENT => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}
