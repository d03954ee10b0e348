//! The module supervisor's bookkeeping: which modules run, since when, with what.

use std::collections::BTreeMap;
use std::time::Instant;

use actix::Recipient;
use serde::Serialize;

use crate::msg::Stop;
use crate::tracer::Probe;

/// A loaded module.
pub struct ModuleRecord {
    pub args: Vec<String>,
    pub services: Vec<String>,
    pub probe: Probe,
    pub stop: Recipient<Stop>,
    pub loaded: Instant,
}

/// One row of `flux module list`.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleRow {
    pub name: String,
    /// Seconds since it last handled a message; `None` if it never did.
    pub idle: Option<f64>,
    /// I (init), R (running), F (finalizing), X (exited).
    pub state: char,
    pub sendq: u64,
    pub recvq: u64,
    /// Services besides the module's own name.
    pub services: Vec<String>,
    pub path: String,
}

/// The loaded modules of one broker, by name.
#[derive(Default)]
pub struct Supervisor {
    modules: BTreeMap<String, ModuleRecord>,
}

impl Supervisor {
    pub fn contains(&self, name: &str) -> bool {
        self.modules.contains_key(name)
    }

    pub fn insert(&mut self, name: &str, record: ModuleRecord) {
        self.modules.insert(name.to_string(), record);
    }

    pub fn remove(&mut self, name: &str) -> Option<ModuleRecord> {
        self.modules.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<&ModuleRecord> {
        self.modules.get(name)
    }

    /// Names in reverse load order (how rc3 unloads).
    pub fn unload_order(&self) -> Vec<String> {
        let mut names: Vec<(&String, Instant)> =
            self.modules.iter().map(|(n, r)| (n, r.loaded)).collect();
        names.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        names.into_iter().map(|(n, _)| n.clone()).collect()
    }

    /// The rows of `flux module list`, by name.
    pub fn rows(&self) -> Vec<ModuleRow> {
        self.modules
            .iter()
            .map(|(name, rec)| {
                let snap = rec.probe.snapshot();
                ModuleRow {
                    name: name.clone(),
                    idle: snap.idle_s,
                    state: 'R',
                    sendq: 0,
                    recvq: snap.mailbox,
                    services: rec
                        .services
                        .iter()
                        .filter(|s| *s != name)
                        .cloned()
                        .collect(),
                    path: format!("builtin:{name}"),
                }
            })
            .collect()
    }
}
