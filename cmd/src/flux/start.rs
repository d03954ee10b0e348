//! `flux start [OPTIONS] [COMMAND...]`: start an instance and run COMMAND in it (an
//! interactive shell by default); exit with COMMAND's exit code.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context as _;

/// Start a Flux instance.
#[derive(clap::Args, Debug)]
#[command(infer_long_args = true)]
pub struct Args {
    /// Start N brokers in test mode (one process)
    #[arg(short = 's', long = "test-size", value_name = "N")]
    test_size: Option<u32>,
    /// Set broker attribute (NAME=VALUE)
    #[arg(short = 'S', long = "setattr", value_name = "ATTR=VAL")]
    setattr: Vec<String>,
    /// Comma-separated options for each broker (e.g. -Sattr=val)
    #[arg(
        short = 'o',
        long = "broker-opts",
        value_name = "OPTS",
        allow_hyphen_values = true
    )]
    broker_opts: Vec<String>,
    /// The instance configuration: a TOML/JSON file or a directory of TOML files
    #[arg(short = 'c', long = "config-path", value_name = "PATH")]
    config_path: Option<String>,
    /// Use DIR as the broker rundir
    #[arg(long, value_name = "DIR")]
    rundir: Option<String>,
    /// Use DIR as the rundir in test mode
    #[arg(long = "test-rundir", value_name = "DIR")]
    test_rundir: Option<String>,
    /// Print the broker command line before running it
    #[arg(short, long)]
    verbose: bool,
    /// Print the broker command line, do not run it
    #[arg(short = 'X', long)]
    noexec: bool,
    /// The initial program and its arguments
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// The broker daemon next to this executable, or `fluxd` from PATH.
pub fn fluxd_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("fluxd")))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("fluxd"))
}

/// The broker's arguments for these options.
fn broker_args(args: &Args) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(n) = args.test_size {
        anyhow::ensure!(n > 0, "--test-size must be at least 1");
        out.push(format!("--test-size={n}"));
    }
    for opts in &args.broker_opts {
        out.extend(
            opts.split(',')
                .filter(|o| !o.is_empty())
                .map(str::to_string),
        );
    }
    for kv in &args.setattr {
        anyhow::ensure!(kv.contains('='), "--setattr {kv}: expected ATTR=VAL");
        out.push(format!("-S{kv}"));
    }
    if let Some(path) = &args.config_path {
        out.push(format!("--config-path={path}"));
    }
    if let Some(dir) = args.rundir.as_ref().or(args.test_rundir.as_ref()) {
        out.push(format!("-Srundir={dir}"));
    }
    if !args.command.is_empty() {
        out.push("--".to_string());
        out.extend(args.command.iter().cloned());
    }
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let fluxd = fluxd_path();
    let argv = broker_args(&args)?;
    if args.verbose || args.noexec {
        eprintln!("{} {}", fluxd.display(), argv.join(" "));
    }
    if args.noexec {
        return Ok(0);
    }
    let mut command = Command::new(&fluxd);
    command.args(&argv);
    // Like flux-core's driver: commands run inside the instance find this `flux` first.
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined =
            std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&path)))?;
        command.env("PATH", joined);
    }
    let err = command.exec();
    Err(err).with_context(|| format!("cannot run {}", fluxd.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: Args,
    }

    fn parse(words: &[&str]) -> Args {
        Wrap::parse_from(std::iter::once("start").chain(words.iter().copied())).args
    }

    #[test]
    fn options_become_broker_arguments() {
        let args = parse(&[
            "-s",
            "1",
            "-o",
            "-Sa=1,-Sb=2",
            "-Sc=3",
            "flux",
            "getattr",
            "-x",
        ]);
        assert_eq!(
            broker_args(&args).unwrap(),
            [
                "--test-size=1",
                "-Sa=1",
                "-Sb=2",
                "-Sc=3",
                "--",
                "flux",
                "getattr",
                "-x"
            ]
        );
    }

    #[test]
    fn bad_setattr_is_refused() {
        assert!(broker_args(&parse(&["-S", "novalue"])).is_err());
        assert!(broker_args(&parse(&["--test-size=0"])).is_err());
    }
}
