//! `flux R encode` (build an R from idsets and a hostlist) and `flux R decode` (read R on
//! stdin, print counts, ranks, hosts or the short rlist form).

use std::io::Read;

use anyhow::{Context, Result, bail};
use flux_proto::types::{Hostlist, IdSet, ResourceSet};

/// Encode and decode resource sets.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the R of the given ranks, cores, GPUs and hosts
    Encode(EncodeArgs),
    /// Read R on stdin and print facts about it
    Decode(DecodeArgs),
}

/// Options of `flux R encode`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct EncodeArgs {
    /// Ranks
    #[arg(short, long, default_value = "0")]
    ranks: String,
    /// Core ids of each rank
    #[arg(short, long, default_value = "0")]
    cores: String,
    /// GPU ids of each rank
    #[arg(short, long)]
    gpus: Option<String>,
    /// Host names, one per rank
    #[arg(short = 'H', long)]
    hosts: Option<String>,
    /// Property NAME[:RANKS] (all ranks when RANKS is omitted)
    #[arg(short, long)]
    property: Vec<String>,
}

/// Options of `flux R decode`.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct DecodeArgs {
    /// Print the number of nodes, cores or GPUs
    #[arg(long, value_parser = ["node", "core", "gpu"])]
    count: Option<String>,
    /// Print the short rlist form (`rank[0-1]/core[0-3]`)
    #[arg(long)]
    short: bool,
    /// Print the host list
    #[arg(long)]
    nodelist: bool,
    /// Print the rank idset
    #[arg(long)]
    ranks: bool,
}

/// Run `flux R`.
pub fn run(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Encode(args) => {
            println!("{}", encode(&args)?.to_json());
            Ok(0)
        }
        Command::Decode(args) => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            println!("{}", decode(&args, &text)?);
            Ok(0)
        }
    }
}

fn idset(text: &str, what: &str) -> Result<IdSet> {
    IdSet::parse(text).with_context(|| format!("invalid {what} '{text}'"))
}

fn encode(args: &EncodeArgs) -> Result<ResourceSet> {
    let ranks = idset(&args.ranks, "ranks")?;
    let cores = idset(&args.cores, "cores")?;
    let gpus = match &args.gpus {
        Some(text) => idset(text, "gpus")?,
        None => IdSet::new(),
    };
    let hosts: Vec<Option<String>> = match &args.hosts {
        Some(text) => {
            let list =
                Hostlist::parse(text).with_context(|| format!("invalid hostlist '{text}'"))?;
            if list.len() as u64 != ranks.count() {
                bail!(
                    "{} hosts given for {} ranks: give one host per rank",
                    list.len(),
                    ranks.count()
                );
            }
            list.iter().map(Some).collect()
        }
        None => vec![None; ranks.iter().count()],
    };
    let mut r = ResourceSet::new();
    for (rank, host) in ranks.iter().zip(hosts) {
        r.add_node(rank, host, cores.clone(), gpus.clone())?;
    }
    for prop in &args.property {
        let (name, on) = match prop.split_once(':') {
            Some((name, text)) => (name, idset(text, "property ranks")?),
            None => (prop.as_str(), ranks.clone()),
        };
        r.set_property(name, &on)?;
    }
    Ok(r)
}

fn decode(args: &DecodeArgs, text: &str) -> Result<String> {
    let r = ResourceSet::parse(text).context("invalid R on stdin")?;
    Ok(match args.count.as_deref() {
        Some("node") => r.nnodes().to_string(),
        Some("core") => r.ncores().to_string(),
        Some("gpu") => r.ngpus().to_string(),
        _ if args.short => r.to_rlist_string(),
        _ if args.nodelist => r.nodelist().to_string(),
        _ if args.ranks => r.ranks().to_string(),
        _ => r.to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(
        ranks: &str,
        cores: &str,
        gpus: Option<&str>,
        hosts: Option<&str>,
    ) -> Result<ResourceSet> {
        encode(&EncodeArgs {
            ranks: ranks.into(),
            cores: cores.into(),
            gpus: gpus.map(Into::into),
            hosts: hosts.map(Into::into),
            property: Vec::new(),
        })
    }

    #[test]
    fn encode_builds_grouped_r() {
        let r = enc("0-1", "0-3", Some("0"), Some("pi[0-1]")).unwrap();
        assert_eq!(
            r.to_json(),
            r#"{"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-3","gpu":"0"}}],"starttime":0.0,"expiration":0.0,"nodelist":["pi[0-1]"]}}"#
        );
    }

    #[test]
    fn encode_rejects_bad_input() {
        assert!(enc("0-1", "0", None, Some("a")).is_err());
        assert!(enc("x", "0", None, None).is_err());
        assert!(enc("0", "0-", None, None).is_err());
    }

    #[test]
    fn decode_counts() {
        let text = enc("0-3", "0-7", Some("0-1"), Some("n[0-3]"))
            .unwrap()
            .to_json();
        let args = |count: Option<&str>, short| DecodeArgs {
            count: count.map(Into::into),
            short,
            nodelist: false,
            ranks: false,
        };
        assert_eq!(decode(&args(Some("node"), false), &text).unwrap(), "4");
        assert_eq!(decode(&args(Some("core"), false), &text).unwrap(), "32");
        assert_eq!(decode(&args(Some("gpu"), false), &text).unwrap(), "8");
        assert_eq!(
            decode(&args(None, true), &text).unwrap(),
            "rank[0-3]/core[0-7],gpu[0-1]"
        );
        assert!(decode(&args(None, false), "{").is_err());
    }
}
