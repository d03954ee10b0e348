//! `flux overlay status`: the tree of brokers with the state of each subtree.

use std::future::Future;
use std::pin::Pin;

use flux_proto::Handle;
use serde::Deserialize;
use serde_json::json;

use crate::util;

/// Show the overlay network.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the tree of brokers and the state of each
    Status {
        /// Start at this rank
        #[arg(short, long, default_value_t = 0)]
        rank: u32,
        /// Only print the state of the starting rank's subtree
        #[arg(long)]
        summary: bool,
        /// Only show brokers that are not fully up
        #[arg(long)]
        down: bool,
        /// Plain indentation instead of tree-drawing characters
        #[arg(long = "no-pretty")]
        no_pretty: bool,
    },
}

#[derive(Deserialize)]
struct Child {
    rank: u32,
    state: String,
    #[serde(default)]
    host: String,
}

#[derive(Deserialize)]
struct Status {
    rank: u32,
    hostname: String,
    children: Vec<Child>,
}

/// A broker and what is known below it.
struct Node {
    rank: u32,
    hostname: String,
    /// full, partial (something below not up), offline (unreachable).
    state: String,
    children: Vec<Node>,
}

fn probe(h: &Handle, rank: u32, hostname: String) -> Pin<Box<dyn Future<Output = Node> + '_>> {
    Box::pin(async move {
        let status: Status = match h.rpc_json_to("overlay.status", rank, &json!({})).await {
            Ok(status) => status,
            Err(_) => {
                return Node {
                    rank,
                    hostname,
                    state: "offline".into(),
                    children: Vec::new(),
                };
            }
        };
        let mut children = Vec::new();
        for child in status.children {
            let node = match child.state.as_str() {
                "offline" => Node {
                    rank: child.rank,
                    hostname: child.host.clone(),
                    state: "offline".into(),
                    children: Vec::new(),
                },
                _ => probe(h, child.rank, child.host.clone()).await,
            };
            children.push(node);
        }
        let state = if children.iter().all(|c| c.state == "full") {
            "full"
        } else {
            "partial"
        };
        Node {
            rank: status.rank,
            hostname: status.hostname,
            state: state.into(),
            children,
        }
    })
}

fn print(node: &Node, prefix: &str, branch: &str, pretty: bool, down: bool) {
    if !(down && node.state == "full") {
        println!(
            "{prefix}{branch}{} {}: {}",
            node.rank, node.hostname, node.state
        );
    }
    let indent = match (pretty, branch) {
        (_, "") => String::new(),
        (true, "├─ ") => format!("{prefix}│  "),
        _ => format!("{prefix}   "),
    };
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == node.children.len();
        let branch = match (pretty, last) {
            (true, false) => "├─ ",
            (true, true) => "└─ ",
            (false, _) => "   ",
        };
        print(child, &indent, branch, pretty, down);
    }
}

pub async fn run(cmd: Command) -> anyhow::Result<i32> {
    let h = util::connect().await?;
    match cmd {
        Command::Status {
            rank,
            summary,
            down,
            no_pretty,
        } => {
            let root = probe(&h, rank, String::new()).await;
            if root.state == "offline" {
                anyhow::bail!("rank {rank} is not reachable");
            }
            if summary {
                println!("{} {}: {}", root.rank, root.hostname, root.state);
            } else {
                print(&root, "", "", !no_pretty, down);
            }
        }
    }
    Ok(0)
}
