//! `fluxd`: the Flux broker daemon. Starts a broker (or, with `--test-size=N`, N brokers
//! joined in a tree over loopback TCP, all actors of this one process), runs the initial
//! program (or an interactive shell) with `FLUX_URI` set, and exits with its exit code.
//! Started as a job of another instance, it becomes that instance's child (see `child`).

mod child;
mod teardown;

use actix::prelude::*;
use anyhow::{Context as _, bail};
use clap::Parser;
use flux_actors::broker::{BrokerDir, Conf, Signal, default_modules_for};
use flux_actors::overlay::{Boot, InstanceKey, OverlayConfig, Topology};
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

    /// Number of brokers to start in this process, joined as a tree over 127.0.0.1.
    #[arg(long = "test-size", value_name = "N", default_value_t = 1)]
    test_size: u32,

    /// The instance configuration (flux-config(5)): a TOML or JSON file, or a directory
    /// of TOML files. With a `[bootstrap]` table, this broker is one of the multi-node
    /// instance it describes.
    #[arg(short = 'c', long = "config-path", value_name = "PATH")]
    config_path: Option<std::path::PathBuf>,

    /// Do not load the default modules (an empty instance).
    #[arg(long = "no-modules")]
    no_modules: bool,

    /// Run the job's batch script (fetched from the parent instance) as the initial
    /// program, with COMMAND as its arguments (what `flux batch` jobs run).
    #[arg(long = "batch-script")]
    batch_script: bool,

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

fn parse_setattrs(words: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    words
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("-S {kv}: expected NAME=VALUE"))
        })
        .collect()
}

/// The value of the last `-S NAME=...`.
fn setattr<'a>(setattrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    setattrs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The instance configuration: `file` (`--config-path`), then a parent's
/// `flux batch --conf`, then Fluxion's option variables
/// (`FLUXION_QMANAGER_OPTIONS="queue-policy=easy"`, as flux-sched's rc1 honours them:
/// they also select Fluxion as the scheduler).
fn instance_conf(file: &Conf, from_parent: Option<&Conf>) -> anyhow::Result<Conf> {
    let mut conf = match from_parent {
        Some(parent) => file.overlay(parent),
        None => file.clone(),
    };
    for (var, module) in [
        ("FLUXION_RESOURCE_OPTIONS", "sched-fluxion-resource"),
        ("FLUXION_QMANAGER_OPTIONS", "sched-fluxion-qmanager"),
    ] {
        let Ok(options) = std::env::var(var) else {
            continue;
        };
        conf.set(&format!("{module}={{}}"))?;
        for word in options.split_whitespace() {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            conf.set(&format!("{module}.{key}={}", json_string(value)))
                .with_context(|| format!("{var}: {word}"))?;
        }
    }
    Ok(conf)
}

/// `s` as a JSON string, so that `Conf::set` keeps it a string.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn run(mut args: Args) -> anyhow::Result<i32> {
    let file = match &args.config_path {
        Some(path) => Conf::load(path)?,
        None => Conf::default(),
    };
    let conf = instance_conf(&file, None)?;
    if let Some(boot) = Boot::from_conf(&conf.to_json()) {
        return run_from_config(args, boot?, conf);
    }
    let pmi = match args.test_size {
        1 => flux_shell::pmi::PmiClient::from_env()?,
        _ => None,
    };
    let child = match child::parent_from_env() {
        Some((uri, jobid)) if args.test_size == 1 => Some(child::Child::setup(
            &uri,
            &jobid,
            args.batch_script,
            pmi.is_some(),
        )?),
        _ => None,
    };
    let conf = match &child {
        Some(child) => instance_conf(&file, child.conf.as_ref())?,
        None => conf,
    };
    if let Some(child) = &child {
        // The command line's -S come after, so they win.
        let attrs = child.setattrs.iter().map(|(k, v)| format!("{k}={v}"));
        args.setattr.splice(0..0, attrs);
        if let Some(script) = &child.script {
            args.command.insert(0, script.display().to_string());
        }
    } else if args.batch_script {
        bail!("--batch-script: not running as a job of a Flux instance");
    }
    // A child instance stops its jobs before it stops (see `teardown`): it must know
    // its own socket, so it picks its rundir here.
    let mut rundir = None;
    if child.is_some() && !args.setattr.iter().any(|s| s.starts_with("rundir=")) {
        let dir = BrokerDir::prepare(None).context("cannot create rundir")?;
        args.setattr.push(format!("rundir={}", dir.path.display()));
        rundir = Some(dir);
    }
    let code = match pmi {
        Some(pmi) => run_from_pmi(args, pmi, child.is_some(), conf),
        None => run_local(args, child.is_some(), conf),
    };
    if let Some(child) = child {
        child.cleanup();
    }
    if let Some(dir) = rundir {
        let _ = std::fs::remove_dir_all(&dir.path);
    }
    // A child instance stopped by its parent did not succeed, whatever its initial
    // program made of the signal.
    match (code, teardown::stopped_by()) {
        (Ok(0), Some(signum)) => Ok(128 + signum),
        (code, _) => code,
    }
}

/// This broker's `local://` URI, when the command line fixes it.
fn local_uri(setattrs: &[(String, String)], rank: u32) -> Option<String> {
    match (setattr(setattrs, "local-uri"), setattr(setattrs, "rundir")) {
        (Some(uri), _) => Some(uri.to_string()),
        (None, Some(dir)) => Some(format!("local://{dir}/local-{rank}")),
        (None, None) => None,
    }
}

/// One process holding all the brokers of the instance (one, or `--test-size`).
fn run_local(args: Args, is_child: bool, conf: Conf) -> anyhow::Result<i32> {
    let size = args.test_size;
    if size == 0 {
        bail!("--test-size must be at least 1");
    }
    let mut setattrs = parse_setattrs(&args.setattr)?;
    let topo = match (
        setattr(&setattrs, "tbon.topo"),
        setattr(&setattrs, "tbon.fanout"),
    ) {
        (Some(topo), _) => Topology::parse(size, topo)?,
        (None, Some(k)) => Topology::parse(size, &format!("kary:{k}"))?,
        (None, None) => Topology::kary(size, 32),
    };
    // Brokers of a test instance share one rundir and statedir, which this process owns.
    let mut owned = Vec::new();
    if size > 1 {
        raise_fd_limit();
        for name in ["rundir", "statedir"] {
            if setattr(&setattrs, name).is_none() {
                let dir =
                    BrokerDir::prepare(None).with_context(|| format!("cannot create {name}"))?;
                setattrs.push((name.to_string(), dir.path.display().to_string()));
                owned.push(dir);
            }
        }
    }
    let overlays = overlay_configs(&topo)?;
    let teardown = is_child.then(|| local_uri(&setattrs, 0)).flatten();
    let system = System::new();
    let launched = system.block_on(async move {
        let tracer = Tracer::default().start();
        let mut root = None;
        for (rank, overlay) in (0..size).zip(overlays) {
            let config = BrokerConfig {
                rank,
                size,
                setattrs: setattrs.clone(),
                initial_program: (rank == 0 && !args.command.is_empty())
                    .then(|| args.command.clone()),
                modules: if args.no_modules {
                    Vec::new()
                } else {
                    default_modules_for(rank, &conf)
                },
                owns_process: rank == 0,
                conf: conf.clone(),
            };
            let broker = Broker::launch(config, overlay, tracer.clone())
                .with_context(|| format!("rank {rank}"))?;
            root.get_or_insert(broker);
        }
        if let Some(root) = root {
            forward_signals(root, teardown);
        }
        anyhow::Ok(())
    });
    let code = run_system(system, launched);
    for dir in owned {
        dir.cleanup();
    }
    code
}

/// One broker of an instance described by a bootstrap config; its rank is this host's
/// place in the config's host list (`FLUX_FAKE_HOSTNAME` stands in for the hostname).
fn run_from_config(args: Args, boot: Boot, conf: Conf) -> anyhow::Result<i32> {
    let host = flux_actors::broker::config::hostname();
    let rank = boot.rank_of(&host)?;
    let size = boot.peers.len() as u32;
    let peer = &boot.peers[rank as usize];
    let overlay = if size > 1 {
        let key_path = boot
            .key_path
            .as_ref()
            .context("config: curve_cert is required")?;
        let key = InstanceKey::load(key_path)
            .with_context(|| format!("cannot load key {}", key_path.display()))?;
        let listener = match (boot.children(rank).is_empty(), peer.bind) {
            (true, _) => None,
            (false, Some(addr)) => Some(
                std::net::TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr}"))?,
            ),
            (false, None) => bail!("config: {host} has children but no bind endpoint"),
        };
        let parent = match peer.parent {
            None => None,
            Some(p) => Some(boot.peers[p as usize].connect.with_context(|| {
                format!(
                    "config: {} has no connect endpoint",
                    boot.peers[p as usize].host
                )
            })?),
        };
        let parents = boot.peers.iter().map(|p| p.parent.unwrap_or(0)).collect();
        Some(OverlayConfig {
            key,
            listener,
            parent,
            topology: Some(Topology::custom(parents)?),
            hosts: Some(boot.peers.iter().map(|p| p.host.clone()).collect()),
        })
    } else {
        None
    };
    let config = BrokerConfig {
        rank,
        size,
        setattrs: parse_setattrs(&args.setattr)?,
        initial_program: (rank == 0 && !args.command.is_empty()).then(|| args.command.clone()),
        modules: if args.no_modules {
            Vec::new()
        } else {
            default_modules_for(rank, &conf)
        },
        owns_process: true,
        conf,
    };
    let system = System::new();
    let launched = system.block_on(async move {
        let broker = Broker::launch(config, overlay, Tracer::default().start())?;
        forward_signals(broker, None);
        anyhow::Ok(())
    });
    run_system(system, launched)
}

/// One broker of an instance launched by a parent with simple PMI (a Flux job shell, `srun
/// --mpi=pmi2`, a test harness): rank and size from PMI; every broker with children puts
/// its endpoint ("business card") under its rank, rank 0 also the instance key; after the
/// barrier each reads its parent's card. `FLUX_IPADDR` sets the address to listen on
/// (default 127.0.0.1).
fn run_from_pmi(
    args: Args,
    mut pmi: flux_shell::pmi::PmiClient,
    is_child: bool,
    conf: Conf,
) -> anyhow::Result<i32> {
    let (rank, size) = (pmi.rank, pmi.size);
    let mut setattrs = parse_setattrs(&args.setattr)?;
    let topo = match setattr(&setattrs, "tbon.topo") {
        Some(topo) => Topology::parse(size, topo)?,
        None => Topology::kary(size, 32),
    };
    let ip = std::env::var("FLUX_IPADDR").unwrap_or_else(|_| "127.0.0.1".into());
    let listener = match topo.children(rank).next() {
        Some(_) => Some(
            std::net::TcpListener::bind((ip.as_str(), 0))
                .with_context(|| format!("cannot listen on {ip}"))?,
        ),
        None => None,
    };
    if let Some(l) = &listener {
        pmi.put(&rank.to_string(), &l.local_addr()?.to_string())?;
    }
    if rank == 0 {
        // The PMI key space is private to this launch: it carries the instance key.
        pmi.put("flux.key", &InstanceKey::generate()?.to_hex())?;
    }
    pmi.barrier()?;
    let key_hex = pmi
        .get("flux.key")?
        .context("PMI: rank 0 did not share the instance key")?;
    let key = InstanceKey::from_hex(&key_hex)?;
    let parent = match topo.parent(rank) {
        Some(p) => Some(
            pmi.get(&p.to_string())?
                .with_context(|| format!("PMI: no endpoint from rank {p}"))?
                .parse()
                .context("PMI: invalid endpoint")?,
        ),
        None => None,
    };
    let kvsname = pmi.kvsname.clone();
    pmi.finalize()?;
    if !kvsname.is_empty() {
        setattrs.push(("jobid".into(), kvsname));
    }
    let teardown = is_child.then(|| local_uri(&setattrs, rank)).flatten();
    let overlay = (size > 1).then_some(OverlayConfig {
        key,
        listener,
        parent,
        topology: Some(topo),
        hosts: None,
    });
    let config = BrokerConfig {
        rank,
        size,
        setattrs,
        initial_program: (rank == 0 && !args.command.is_empty()).then(|| args.command.clone()),
        modules: if args.no_modules {
            Vec::new()
        } else {
            default_modules_for(rank, &conf)
        },
        owns_process: true,
        conf,
    };
    let system = System::new();
    let launched = system.block_on(async move {
        let broker = Broker::launch(config, overlay, Tracer::default().start())?;
        forward_signals(broker, teardown);
        anyhow::Ok(())
    });
    run_system(system, launched)
}

/// Run the actor system once the brokers are launched. If a launch failed, the actors
/// already started (the tracer) are stopped inside the runtime, not dropped outside it.
fn run_system(system: actix::SystemRunner, launched: anyhow::Result<()>) -> anyhow::Result<i32> {
    match launched {
        Ok(()) => Ok(system.run_with_code()?),
        Err(e) => {
            system.block_on(async { System::current().stop() });
            let _ = system.run();
            Err(e)
        }
    }
}

/// One overlay configuration per rank (none for a single broker): a shared random key,
/// listeners on 127.0.0.1 for the ranks that have children, each rank's parent endpoint.
fn overlay_configs(topo: &Topology) -> anyhow::Result<Vec<Option<OverlayConfig>>> {
    if topo.size() == 1 {
        return Ok(vec![None]);
    }
    let key = InstanceKey::generate().context("cannot generate the instance key")?;
    let mut listeners = Vec::new();
    for rank in 0..topo.size() {
        let listener = match topo.children(rank).next() {
            Some(_) => Some(
                std::net::TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?,
            ),
            None => None,
        };
        listeners.push(listener);
    }
    let addrs: Vec<_> = listeners
        .iter()
        .map(|l| l.as_ref().and_then(|l| l.local_addr().ok()))
        .collect();
    Ok(listeners
        .into_iter()
        .enumerate()
        .map(|(rank, listener)| {
            let parent = topo.parent(rank as u32).and_then(|p| addrs[p as usize]);
            Some(OverlayConfig {
                key: key.clone(),
                listener,
                parent,
                topology: None,
                hosts: None,
            })
        })
        .collect())
}

/// Each broker holds a few sockets: make sure a thousand of them fit.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Hand SIGINT, SIGTERM, SIGHUP and SIGALRM (a parent's time limit) to the broker, which
/// decides what they mean. A child instance (`teardown`: its own URI) first stops its jobs.
fn forward_signals(broker: Addr<Broker>, teardown: Option<String>) {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, signum) in [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::alarm(), libc::SIGALRM),
    ] {
        let broker = broker.clone();
        let Ok(mut stream) = signal(kind) else {
            continue;
        };
        let teardown = teardown.clone();
        actix::spawn(async move {
            while stream.recv().await.is_some() {
                if teardown.is_some() && signum != libc::SIGHUP {
                    teardown::STOPPED_BY.store(signum, std::sync::atomic::Ordering::Relaxed);
                }
                if let Some(uri) = &teardown
                    && let Err(e) = teardown::stop_jobs(uri).await
                {
                    eprintln!("fluxd: cannot stop the instance's jobs: {e:#}");
                }
                broker.do_send(Signal(signum));
            }
        });
    }
}
