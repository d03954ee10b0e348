//! `fluxd`: the Flux broker daemon. Starts a broker, runs the initial program (or an
//! interactive shell) with `FLUX_URI` set, and exits with its exit code.

use actix::prelude::*;
use anyhow::{Context as _, bail};
use clap::Parser;
use flux_actors::broker::{Signal, default_modules};
use flux_actors::tracer::Tracer;
use flux_actors::{Broker, BrokerConfig};

/// The Flux broker.
#[derive(Parser, Debug)]
#[command(
    name = "fluxd",
    version,
    about = "The Flux broker daemon",
    infer_long_args = true
)]
struct Args {
    /// Set broker attribute NAME to VALUE (repeatable).
    #[arg(short = 'S', long = "setattr", value_name = "NAME=VALUE")]
    setattr: Vec<String>,

    /// Number of brokers to simulate in this process.
    #[arg(long = "test-size", value_name = "N", default_value_t = 1)]
    test_size: u32,

    /// Do not load the default modules (an empty instance).
    #[arg(long = "no-modules")]
    no_modules: bool,

    /// The initial program and its arguments (default: an interactive shell).
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn main() {
    let args = Args::parse();
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("fluxd: ERROR: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(args: Args) -> anyhow::Result<i32> {
    if args.test_size != 1 {
        bail!(
            "--test-size={}: only single-broker instances are supported so far",
            args.test_size
        );
    }
    let setattrs = args
        .setattr
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("-S {kv}: expected NAME=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = BrokerConfig {
        rank: 0,
        size: args.test_size,
        setattrs,
        initial_program: (!args.command.is_empty()).then_some(args.command),
        modules: if args.no_modules {
            Vec::new()
        } else {
            default_modules()
        },
    };
    let system = System::new();
    system.block_on(async move {
        let tracer = Tracer::default().start();
        let broker = Broker::launch(config, tracer)?;
        forward_signals(broker);
        anyhow::Ok(())
    })?;
    Ok(system.run_with_code()?)
}

/// Hand SIGINT, SIGTERM and SIGHUP to the broker, which decides what they mean.
fn forward_signals(broker: Addr<Broker>) {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, signum) in [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
    ] {
        let broker = broker.clone();
        let Ok(mut stream) = signal(kind) else {
            continue;
        };
        actix::spawn(async move {
            while stream.recv().await.is_some() {
                broker.do_send(Signal(signum));
            }
        });
    }
}
