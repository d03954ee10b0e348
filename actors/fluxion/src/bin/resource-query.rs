//! `resource-query`: load a resource graph and run match commands read from stdin.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use flux_fluxion::policy::MatchPolicy;
use flux_fluxion::query::{Output, Session};
use flux_fluxion::readers::{LoadFormat, load};
use flux_fluxion::traverser::{Traverser, TraverserConfig};
use flux_fluxion::writers::MatchFormat;

#[derive(Debug)]
struct Options {
    load_file: String,
    load_format: String,
    allowlist: Option<String>,
    subsystems: String,
    policy: String,
    match_format: String,
    prune_filters: Option<String>,
    test_output: Option<String>,
    traverser: String,
    disable_prompt: bool,
}

const USAGE: &str = "usage: resource-query -L FILE [-f grug|jgf|rv1exec|hwloc] [-W TYPES] [-S CA] [-P POLICY] \
[-F simple|pretty_simple] [-p HL:LL,...] [-t OUTFILE] [-d]";

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        load_file: "conf/default".into(),
        load_format: "grug".into(),
        allowlist: None,
        subsystems: "CA".into(),
        policy: "first".into(),
        match_format: "simple".into(),
        prune_filters: None,
        test_output: None,
        traverser: "simple".into(),
        disable_prompt: false,
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        // Accept `-X VALUE`, `-XVALUE`, `--long VALUE` and `--long=VALUE`.
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ if a.starts_with('-') && !a.starts_with("--") && a.len() > 2 => {
                (a[..2].to_string(), Some(a[2..].to_string()))
            }
            _ => (a.to_string(), None),
        };
        let flag_only = matches!(
            key.as_str(),
            "-d" | "--disable-prompt" | "-e" | "--elapse-time" | "-h" | "--help"
        );
        let value = if flag_only {
            String::new()
        } else if let Some(v) = inline {
            v
        } else {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| format!("missing value for {key}"))?
        };
        match key.as_str() {
            "-L" | "--load-file" => o.load_file = value,
            "-f" | "--load-format" => o.load_format = value,
            "-W" | "--load-allowlist" => o.allowlist = Some(value),
            "-S" | "--match-subsystems" => o.subsystems = value,
            "-P" | "--match-policy" => o.policy = value,
            "-F" | "--match-format" => o.match_format = value,
            "-p" | "--prune-filters" => {
                o.prune_filters = Some(match o.prune_filters.take() {
                    Some(prev) if !prev.is_empty() => format!("{prev},{value}"),
                    _ => value,
                })
            }
            "-t" | "--test-output" => o.test_output = Some(value),
            "-d" | "--disable-prompt" => o.disable_prompt = true,
            "-T" | "--traverser-policy" => o.traverser = value,
            "-e" | "--elapse-time" | "-r" | "--reserve-vtx-vec" | "-g" | "--graph-format"
            | "-o" | "--graph-output" => {}
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
        i += 1;
    }
    Ok(o)
}

fn subsystem_for(sel: &str) -> Result<&'static str, String> {
    match sel.to_ascii_uppercase().as_str() {
        "CA" | "C+IBA" | "C+IBBA" | "C+PA" | "C+PFS1BA" | "C+P+IBA" | "ALL" => Ok("containment"),
        "IBA" | "IB+IBBA" => Ok("ibnet"),
        "IBBA" => Ok("ibnetbw"),
        "PFS1BA" => Ok("pfs1bw"),
        "PA" => Ok("power"),
        "VA" | "V+PFS1BA" => Ok("virtual1"),
        other => Err(format!("unknown match subsystems: {other}")),
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = parse_args(&args)?;
    let text =
        std::fs::read_to_string(&o.load_file).map_err(|e| format!("{}: {e}", o.load_file))?;
    let format: LoadFormat = o.load_format.parse().map_err(|e| format!("{e}"))?;
    let graph = load(&text, format, o.allowlist.as_deref()).map_err(|e| e.to_string())?;
    let config = TraverserConfig {
        policy: MatchPolicy::parse(&o.policy).map_err(|e| e.to_string())?,
        prune_filters: o
            .prune_filters
            .clone()
            .unwrap_or_else(|| "ALL:core,ALL:node".into()),
        subsystem: subsystem_for(&o.subsystems)?.into(),
        flexible: match o.traverser.as_str() {
            "simple" => false,
            "flexible" => true,
            other => return Err(format!("unknown traverser policy {other}")),
        },
        ..TraverserConfig::default()
    };
    let traverser = Traverser::new(graph, &config).map_err(|e| e.to_string())?;
    let match_format: MatchFormat = o.match_format.parse()?;
    let mut session = Session::new(traverser, match_format);
    let loader = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let mut test_out: Box<dyn Write> = match &o.test_output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| format!("{p}: {e}"))?),
        None => Box::new(std::io::stdout()),
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let mut out = Output::default();
        let go_on = session.execute(&line, &loader, &mut out);
        let io = |e: std::io::Error| e.to_string();
        stderr.write_all(out.stderr.as_bytes()).map_err(io)?;
        stdout.write_all(out.stdout.as_bytes()).map_err(io)?;
        test_out.write_all(out.out.as_bytes()).map_err(io)?;
        if !go_on {
            break;
        }
    }
    test_out.flush().map_err(|e| e.to_string())?;
    let _ = o.disable_prompt;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("resource-query: ERROR: {msg}");
            ExitCode::FAILURE
        }
    }
}
