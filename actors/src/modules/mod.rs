//! Broker modules: services loaded by name (`flux module load NAME [key=value ...]`).
//!
//! Each module is an actor of its own, in its own folder, talking to the rest of the
//! instance only through messages routed by its broker. The [`REGISTRY`] lists the modules
//! this build knows.

mod common;
pub mod heartbeat;
#[path = "job-exec/mod.rs"]
pub mod job_exec;
#[path = "job-ingest/mod.rs"]
pub mod job_ingest;
#[path = "job-list/mod.rs"]
pub mod job_list;
#[path = "job-manager/mod.rs"]
pub mod job_manager;
pub mod kvs;
mod kvs_jobs;
pub mod resource;
pub mod rexec;
mod rpc;
#[path = "sched-fluxion-qmanager/mod.rs"]
pub mod sched_fluxion_qmanager;
#[path = "sched-fluxion-resource/mod.rs"]
pub mod sched_fluxion_resource;
pub mod sched_protocol;
#[path = "sched-simple/mod.rs"]
pub mod sched_simple;

use actix::prelude::*;

use crate::broker::{Attrs, Broker, Conf};
use crate::msg::{Deliver, Stop};
use crate::tracer::Probe;

pub use common::{ModuleArgs, handle_common, unknown_method};
pub use rpc::RpcClient;

/// What a module gets when it starts.
pub struct ModuleContext {
    /// The name it was loaded under (its route id and main service).
    pub name: String,
    pub args: ModuleArgs,
    pub rank: u32,
    /// The broker's attributes when the module was loaded (`statedir`, `rundir`, ...).
    pub attrs: Attrs,
    /// The instance configuration (its `[NAME]` table holds the module's defaults).
    pub conf: Conf,
    pub broker: Addr<Broker>,
    pub probe: Probe,
}

impl ModuleContext {
    /// The instance owner's uid (`security.owner`).
    pub fn owner(&self) -> u32 {
        self.attrs
            .get("security.owner")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The module's arguments over the defaults of its configuration table (`[NAME]`,
    /// as flux-config(5) gives them to Fluxion's modules).
    pub fn args_with_conf(&self) -> ModuleArgs {
        let mut args = self.args.clone();
        if let Some(serde_json::Value::Object(table)) = self.conf.get(&self.name) {
            args.or_defaults(table);
        }
        args
    }

    /// An rpc client sending as this module, with the owner's credentials.
    pub fn rpc(&self) -> RpcClient {
        RpcClient::new(self.name.clone(), self.owner(), self.broker.clone())
    }
}

/// How the broker reaches a running module.
pub struct ModuleHandle {
    pub deliver: Recipient<Deliver>,
    pub stop: Recipient<Stop>,
}

impl ModuleHandle {
    /// The handle of a module actor that takes [`Deliver`] and [`Stop`].
    pub fn of<A>(addr: Addr<A>) -> Self
    where
        A: Actor<Context = Context<A>> + Handler<Deliver> + Handler<Stop>,
    {
        ModuleHandle {
            deliver: addr.clone().recipient(),
            stop: addr.recipient(),
        }
    }
}

/// A module this build can load.
pub struct ModuleSpec {
    pub name: &'static str,
    /// Services it provides besides its own name.
    pub services: &'static [&'static str],
    /// Start the module's actor; an error (bad arguments) leaves nothing running.
    pub start: fn(ModuleContext) -> Result<ModuleHandle, String>,
}

/// Every module of this build.
pub static REGISTRY: &[ModuleSpec] = &[
    ModuleSpec {
        name: "rexec",
        services: &[],
        start: rexec::start,
    },
    ModuleSpec {
        name: "heartbeat",
        services: &[],
        start: heartbeat::start,
    },
    ModuleSpec {
        name: "kvs",
        services: &["kvs-watch", "content"],
        start: kvs::start,
    },
    ModuleSpec {
        name: "resource",
        services: &[],
        start: resource::start,
    },
    ModuleSpec {
        name: "job-ingest",
        services: &[],
        start: job_ingest::start,
    },
    ModuleSpec {
        name: "job-manager",
        services: &[],
        start: job_manager::start,
    },
    ModuleSpec {
        name: "job-list",
        services: &[],
        start: job_list::start,
    },
    ModuleSpec {
        name: "job-exec",
        services: &[],
        start: job_exec::start,
    },
    ModuleSpec {
        name: "sched-simple",
        services: &["sched"],
        start: sched_simple::start,
    },
    ModuleSpec {
        name: "sched-fluxion-resource",
        services: &[],
        start: sched_fluxion_resource::start,
    },
    ModuleSpec {
        name: "sched-fluxion-qmanager",
        services: &["sched"],
        start: sched_fluxion_qmanager::start,
    },
];

/// Look a module up by name.
pub fn find(name: &str) -> Option<&'static ModuleSpec> {
    REGISTRY.iter().find(|spec| spec.name == name)
}
