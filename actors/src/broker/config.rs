//! What a broker is started with, and the attributes it derives from it.

use std::path::{Path, PathBuf};

use super::attrs::{AttrError, Attrs};
use super::conf::Conf;
use crate::overlay::{OverlayConfig, Topology};

/// The version every broker reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How to start one broker.
#[derive(Debug, Clone, Default)]
pub struct BrokerConfig {
    pub rank: u32,
    pub size: u32,
    /// `-S NAME=VALUE` settings, applied over the defaults.
    pub setattrs: Vec<(String, String)>,
    /// The initial program (rc2); `None` means an interactive shell.
    pub initial_program: Option<Vec<String>>,
    /// Modules loaded at start (the built-in rc1), with their arguments.
    pub modules: Vec<(String, Vec<String>)>,
    /// Whether this broker's shutdown ends the process (not for the followers of a
    /// `--test-size` instance, which share the process with rank 0).
    pub owns_process: bool,
    /// The instance configuration (`--config-path`), served as `config.get`.
    pub conf: Conf,
}

/// The modules a default instance loads, with sched-simple as its scheduler.
pub fn default_modules() -> Vec<(String, Vec<String>)> {
    vec![
        ("heartbeat".to_string(), Vec::new()),
        ("rexec".to_string(), Vec::new()),
        ("kvs".to_string(), Vec::new()),
        ("resource".to_string(), Vec::new()),
        ("job-manager".to_string(), Vec::new()),
        ("job-list".to_string(), Vec::new()),
        ("job-ingest".to_string(), Vec::new()),
        ("job-exec".to_string(), Vec::new()),
        ("sched-simple".to_string(), Vec::new()),
    ]
}

/// Modules every rank loads; the others run on rank 0 only (where requests with nodeid ANY
/// find them by going up the tree).
const ALL_RANK_MODULES: &[&str] = &["heartbeat", "rexec", "resource", "job-exec"];

/// The default modules of `rank`. An instance whose configuration has a
/// `[sched-fluxion-resource]` or `[sched-fluxion-qmanager]` table is scheduled by Fluxion
/// instead of sched-simple (the modules read their options from those tables).
pub fn default_modules_for(rank: u32, conf: &Conf) -> Vec<(String, Vec<String>)> {
    let fluxion = FLUXION_MODULES.iter().any(|name| conf.has_table(name));
    default_modules()
        .into_iter()
        .flat_map(|(name, args)| match name.as_str() {
            "sched-simple" if fluxion => FLUXION_MODULES
                .iter()
                .map(|m| (m.to_string(), Vec::new()))
                .collect(),
            _ => vec![(name, args)],
        })
        .filter(|(name, _)| rank == 0 || ALL_RANK_MODULES.contains(&name.as_str()))
        .collect()
}

/// Fluxion's modules, in load order.
const FLUXION_MODULES: [&str; 2] = ["sched-fluxion-resource", "sched-fluxion-qmanager"];

/// Attributes a tool may set at start but never later.
const SETTABLE_AT_START: &[&str] = &[
    "jobid",
    "rundir",
    "statedir",
    "local-uri",
    "broker.rc1_path",
    "broker.rc3_path",
    "broker.rc2_none",
    "tbon.topo",
    "tbon.fanout",
    "log-ring-size",
    "parent-uri",
    "parent-kvs-namespace",
    "instance-level",
];

/// Build the attribute table: defaults, then `-S` settings. Values that depend on the
/// rundir are filled in later by [`finish_attrs`].
pub fn initial_attrs(config: &BrokerConfig, owner: u32, pid: u32) -> Result<Attrs, AttrError> {
    let mut attrs = Attrs::default();
    for name in [
        "jobid",
        "rundir",
        "statedir",
        "local-uri",
        "broker.rc1_path",
        "broker.rc3_path",
        "broker.rc2_none",
        // Set by fluxd when the instance runs as a job of another one.
        "parent-uri",
        "parent-kvs-namespace",
    ] {
        attrs.define_unset(name, false);
    }
    for name in ["tbon.endpoint", "tbon.parent-endpoint"] {
        attrs.define_unset(name, true);
    }
    attrs.set_default("tbon.topo", "kary:32");
    attrs.set_default("log-ring-size", "1024");
    attrs.set_default("log-stderr-level", "3");
    attrs.set_default("log-level", "7");
    attrs.set_default("broker.quorum", config.size.to_string());
    attrs.set_default("rundir-cleanup", "1");
    attrs.set_default("statedir-cleanup", "1");
    attrs.set_default("instance-level", "0");

    let hostname = hostname();
    attrs.set_readonly("rank", config.rank.to_string());
    attrs.set_readonly("size", config.size.to_string());
    attrs.set_readonly("version", VERSION);
    attrs.set_readonly("security.owner", owner.to_string());
    attrs.set_readonly("broker.pid", pid.to_string());
    attrs.set_readonly("broker.boot-method", "single");
    attrs.set_readonly("broker.mapping", format!("[[0,1,{},1]]", config.size));
    attrs.set_readonly("broker.starttime", format!("{:.6}", now()));
    attrs.set_readonly("hostname", hostname);
    attrs.set_readonly("jobid-path", "/");

    // Applied last, so that read-only attributes refuse them.
    for (name, value) in &config.setattrs {
        if name == "tbon.fanout" {
            // The older spelling of the tree shape.
            attrs.set("tbon.topo", format!("kary:{value}"))?;
        } else {
            attrs.set(name, value.clone())?;
        }
    }
    Ok(attrs)
}

/// Attributes that come from the broker's place in the tree.
pub fn tree_attrs(attrs: &mut Attrs, topo: &Topology, rank: u32, overlay: Option<&OverlayConfig>) {
    attrs.set_readonly("tbon.level", topo.level(rank).to_string());
    attrs.set_readonly("tbon.maxlevel", topo.max_level().to_string());
    attrs.set_readonly("tbon.descendants", topo.descendants(rank).to_string());
    let hosts = match overlay.and_then(|o| o.hosts.clone()) {
        Some(hosts) => hosts,
        None => vec![hostname(); topo.size() as usize],
    };
    attrs.set_readonly("hostlist", hosts.join(","));
    let critical: Vec<String> = (0..topo.size())
        .filter(|&r| r == 0 || topo.children(r).next().is_some())
        .map(|r| r.to_string())
        .collect();
    attrs.set_readonly("broker.critical-ranks", critical.join(","));
    if let Some(endpoint) = overlay
        .and_then(|o| o.listener.as_ref())
        .and_then(|l| l.local_addr().ok())
    {
        attrs.set_readonly("tbon.endpoint", format!("tcp://{endpoint}"));
    }
    if let Some(parent) = overlay.and_then(|o| o.parent) {
        attrs.set_readonly("tbon.parent-endpoint", format!("tcp://{parent}"));
    }
}

/// Freeze what may only be set at start, and record the directories actually used.
pub fn finish_attrs(attrs: &mut Attrs, rundir: &Path, statedir: &Path, local_uri: &str) {
    attrs.set_readonly("rundir", rundir.display().to_string());
    attrs.set_readonly("statedir", statedir.display().to_string());
    attrs.set_readonly("local-uri", local_uri);
    for name in SETTABLE_AT_START {
        if let Ok(value) = attrs.get(name).map(str::to_string) {
            attrs.set_readonly(name, value);
        }
    }
}

/// A directory the broker uses, and whether it must remove it at exit.
#[derive(Debug)]
pub struct BrokerDir {
    pub path: PathBuf,
    pub cleanup: bool,
}

impl BrokerDir {
    /// Use `given` (created if missing, then removed at exit only if we created it), or
    /// make a fresh `${TMPDIR:-/tmp}/flux-XXXXXX`, mode 0700, removed at exit.
    pub fn prepare(given: Option<&str>) -> std::io::Result<BrokerDir> {
        use std::os::unix::fs::DirBuilderExt;
        match given {
            Some(path) => {
                let path = PathBuf::from(path);
                let created = !path.exists();
                if created {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&path)?;
                }
                Ok(BrokerDir {
                    path,
                    cleanup: created,
                })
            }
            None => {
                use std::os::unix::fs::PermissionsExt;
                let path = tempfile::Builder::new().prefix("flux-").tempdir()?.keep();
                // Only the owner may reach the sockets inside, whatever the umask.
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
                Ok(BrokerDir {
                    path,
                    cleanup: true,
                })
            }
        }
    }

    /// Remove the directory if it is ours to remove.
    pub fn cleanup(&self) {
        if self.cleanup {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// This host's name (`FLUX_FAKE_HOSTNAME` overrides it, so tests can play several hosts).
pub fn hostname() -> String {
    if let Ok(fake) = std::env::var("FLUX_FAKE_HOSTNAME")
        && !fake.is_empty()
    {
        return fake;
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates within it
    // when the name fits, and we also cap at the first NUL ourselves.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Seconds since the epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(setattrs: &[(&str, &str)]) -> BrokerConfig {
        BrokerConfig {
            rank: 0,
            size: 1,
            setattrs: setattrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_fluxion_table_replaces_sched_simple() {
        let names = |conf: &Conf, rank| -> Vec<String> {
            default_modules_for(rank, conf)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        let plain = names(&Conf::default(), 0);
        assert!(plain.contains(&"sched-simple".to_string()));
        let conf = Conf::from_json(serde_json::json!({"sched-fluxion-qmanager": {}})).unwrap();
        let fluxion = names(&conf, 0);
        assert!(!fluxion.contains(&"sched-simple".to_string()));
        let at = |n: &str| fluxion.iter().position(|m| m == n).unwrap();
        assert!(at("resource") < at("sched-fluxion-resource"));
        assert!(at("sched-fluxion-resource") < at("sched-fluxion-qmanager"));
        assert!(!names(&conf, 1).iter().any(|n| n.starts_with("sched")));
    }

    #[test]
    fn setattr_overrides_defaults_but_not_readonly() {
        let attrs = initial_attrs(
            &config(&[("log-stderr-level", "7"), ("tbon.fanout", "4")]),
            1000,
            42,
        )
        .unwrap();
        assert_eq!(attrs.get("log-stderr-level"), Ok("7"));
        assert_eq!(attrs.get("tbon.topo"), Ok("kary:4"));
        assert_eq!(attrs.get("security.owner"), Ok("1000"));
        assert_eq!(attrs.get("broker.pid"), Ok("42"));
        assert!(initial_attrs(&config(&[("rank", "3")]), 0, 1).is_err());
    }

    #[test]
    fn start_only_attributes_freeze() {
        let mut attrs = initial_attrs(&config(&[]), 0, 1).unwrap();
        finish_attrs(
            &mut attrs,
            Path::new("/r"),
            Path::new("/s"),
            "local:///r/local-0",
        );
        assert_eq!(attrs.get("local-uri"), Ok("local:///r/local-0"));
        assert!(attrs.set("rundir", "/x").is_err());
        assert!(attrs.set("tbon.topo", "kary:2").is_err());
        assert!(attrs.set("log-stderr-level", "5").is_ok());
    }

    #[test]
    fn prepare_makes_and_removes_private_dirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = BrokerDir::prepare(None).unwrap();
        let mode = std::fs::metadata(&dir.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        dir.cleanup();
        assert!(!dir.path.exists());
    }
}
