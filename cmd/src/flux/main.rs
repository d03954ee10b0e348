//! `flux`: the command line of the Flux resource manager. One file per subcommand.

mod alloc;
mod batch;
mod bulksubmit;
mod cancel;
mod config;
mod content;
mod dashboard;
mod dmesg;
mod event;
mod exec;
mod getattr;
mod job;
mod jobopts;
mod jobs;
mod keygen;
mod kvs;
mod logger;
mod lsattr;
mod module;
mod overlay;
mod ping;
mod proxy;
mod pstree;
mod queue;
mod r;
mod resource;
mod run;
mod setattr;
mod shutdown;
mod start;
mod submit;
mod top;
mod trace;
mod tree;
mod uptime;
mod util;
mod version;
mod watch;

use clap::{Parser, Subcommand};

/// The Flux resource manager.
#[derive(Parser, Debug)]
#[command(
    name = "flux",
    version,
    about = "Flux resource manager command line",
    infer_long_args = true
)]
struct Flux {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a Flux instance and run a command in it
    Start(start::Args),
    /// Submit a job
    Submit(submit::Args),
    /// Run a job interactively
    Run(run::Args),
    /// Submit one job per input
    Bulksubmit(bulksubmit::Args),
    /// Submit a batch script to run in a new Flux instance
    Batch(batch::Args),
    /// Allocate a new Flux instance for interactive use
    Alloc(alloc::Args),
    /// Run a command against the Flux instance of a running job
    Proxy(proxy::Args),
    /// Show the tree of jobs and child instances
    Pstree(pstree::Args),
    /// Run jobs over a hierarchy of Flux instances of a given shape
    Tree(tree::Args),
    /// Follow jobs' output until they end
    Watch(watch::Args),
    /// Work with one job
    #[command(subcommand)]
    Job(job::Command),
    /// List jobs
    Jobs(jobs::Args),
    /// Cancel jobs
    Cancel(cancel::Args),
    /// Control job submission and scheduling
    #[command(subcommand)]
    Queue(queue::Command),
    /// Query the instance configuration
    #[command(subcommand)]
    Config(config::Command),
    /// Print the value of a broker attribute
    Getattr(getattr::Args),
    /// Set a broker attribute
    Setattr(setattr::Args),
    /// List broker attributes
    Lsattr(lsattr::Args),
    /// Manage broker modules
    #[command(subcommand)]
    Module(module::Command),
    /// Print or clear the broker log ring
    Dmesg(dmesg::Args),
    /// Show the tree of brokers
    #[command(subcommand)]
    Overlay(overlay::Command),
    /// Measure round trips to a service or broker
    Ping(ping::Args),
    /// Show how long the instance has been up
    Uptime(uptime::Args),
    /// Publish and subscribe to events
    #[command(subcommand)]
    Event(event::Command),
    /// Run a command on broker ranks
    Exec(exec::Args),
    /// Add an entry to the broker log
    Logger(logger::Args),
    /// Generate an instance key for a multi-node instance
    Keygen(keygen::Args),
    /// Shut the instance down
    Shutdown(shutdown::Args),
    /// Print version information
    Version(version::Args),
    /// Access the key-value store
    Kvs(kvs::Args),
    /// Access the content store
    #[command(subcommand)]
    Content(content::Command),
    /// List and manipulate resources
    #[command(subcommand)]
    Resource(resource::Command),
    /// Print the URL of the instance's tracing dashboard
    Dashboard(dashboard::Args),
    /// Show brokers, the busiest actors and job throughput
    Top(top::Args),
    /// Print the messages the brokers route
    Trace(trace::Args),
    /// Encode and decode resource sets (R)
    #[command(name = "R", subcommand)]
    R(r::Command),
}

impl Command {
    /// The name used in `flux-NAME: ERROR: ...` messages.
    fn name(&self) -> &'static str {
        match self {
            Command::Start(_) => "start",
            Command::Submit(_) => "submit",
            Command::Run(_) => "run",
            Command::Bulksubmit(_) => "bulksubmit",
            Command::Batch(_) => "batch",
            Command::Alloc(_) => "alloc",
            Command::Proxy(_) => "proxy",
            Command::Pstree(_) => "pstree",
            Command::Tree(_) => "tree",
            Command::Watch(_) => "watch",
            Command::Job(_) => "job",
            Command::Jobs(_) => "jobs",
            Command::Cancel(_) => "cancel",
            Command::Queue(_) => "queue",
            Command::Config(_) => "config",
            Command::Getattr(_) => "getattr",
            Command::Setattr(_) => "setattr",
            Command::Lsattr(_) => "lsattr",
            Command::Module(_) => "module",
            Command::Dmesg(_) => "dmesg",
            Command::Overlay(_) => "overlay",
            Command::Ping(_) => "ping",
            Command::Uptime(_) => "uptime",
            Command::Event(_) => "event",
            Command::Exec(_) => "exec",
            Command::Logger(_) => "logger",
            Command::Keygen(_) => "keygen",
            Command::Shutdown(_) => "shutdown",
            Command::Version(_) => "version",
            Command::Kvs(_) => "kvs",
            Command::Content(_) => "content",
            Command::Resource(_) => "resource",
            Command::Dashboard(_) => "dashboard",
            Command::Top(_) => "top",
            Command::Trace(_) => "trace",
            Command::R(_) => "R",
        }
    }

    fn run(self) -> anyhow::Result<i32> {
        match self {
            Command::Start(args) => start::run(args),
            Command::Submit(args) => util::block_on(submit::run(args)),
            Command::Run(args) => util::block_on(run::run(args)),
            Command::Bulksubmit(args) => util::block_on(bulksubmit::run(args)),
            Command::Batch(args) => util::block_on(batch::run(args)),
            Command::Alloc(args) => util::block_on(alloc::run(args)),
            Command::Proxy(args) => util::block_on(proxy::run(args)),
            Command::Pstree(args) => util::block_on(pstree::run(args)),
            Command::Tree(args) => util::block_on(tree::run(args)),
            Command::Watch(args) => util::block_on(watch::run(args)),
            Command::Job(cmd) => util::block_on(job::run(cmd)),
            Command::Jobs(args) => util::block_on(jobs::run(args)),
            Command::Cancel(args) => util::block_on(cancel::run(args)),
            Command::Queue(cmd) => util::block_on(queue::run(cmd)),
            Command::Config(cmd) => util::block_on(config::run(cmd)),
            Command::Getattr(args) => util::block_on(getattr::run(args)),
            Command::Setattr(args) => util::block_on(setattr::run(args)),
            Command::Lsattr(args) => util::block_on(lsattr::run(args)),
            Command::Module(cmd) => util::block_on(module::run(cmd)),
            Command::Dmesg(args) => util::block_on(dmesg::run(args)),
            Command::Overlay(cmd) => util::block_on(overlay::run(cmd)),
            Command::Ping(args) => util::block_on(ping::run(args)),
            Command::Uptime(args) => util::block_on(uptime::run(args)),
            Command::Event(cmd) => util::block_on(event::run(cmd)),
            Command::Exec(args) => util::block_on(exec::run(args)),
            Command::Logger(args) => util::block_on(logger::run(args)),
            Command::Keygen(args) => keygen::run(args),
            Command::Shutdown(args) => util::block_on(shutdown::run(args)),
            Command::Version(args) => util::block_on(version::run(args)),
            Command::Kvs(args) => util::block_on(kvs::run(args)),
            Command::Content(cmd) => util::block_on(content::run(cmd)),
            Command::Resource(cmd) => util::block_on(resource::run(cmd)),
            Command::Dashboard(args) => util::block_on(dashboard::run(args)),
            Command::Top(args) => util::block_on(top::run(args)),
            Command::Trace(args) => util::block_on(trace::run(args)),
            Command::R(cmd) => r::run(cmd),
        }
    }
}

fn main() {
    let flux = util::parse_args::<Flux>();
    let name = flux.command.name();
    match flux.command.run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("flux-{name}: ERROR: {e:#}");
            std::process::exit(1);
        }
    }
}
