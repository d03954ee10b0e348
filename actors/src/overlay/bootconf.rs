//! Booting an instance from a config file (flux-config-bootstrap(5), TOML): the hosts of
//! the instance in rank order, their TBON endpoints, and the instance key.
//!
//! ```toml
//! [bootstrap]
//! curve_cert = "/etc/flux/instance.key"      # written by `flux keygen`
//! default_port = 8050
//! default_bind = "tcp://127.0.0.1:%p"
//! default_connect = "tcp://127.0.0.1:%p"
//! hosts = [
//!   { host = "node0", bind = "tcp://127.0.0.1:9001", connect = "tcp://127.0.0.1:9001" },
//!   { host = "node[1-3]" },
//! ]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use flux_proto::types::Hostlist;
use serde::Deserialize;

/// Why a bootstrap config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("config: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("config: [bootstrap]: {0}")]
    Json(#[from] serde_json::Error),
    #[error("config: [bootstrap] has no hosts")]
    NoHosts,
    #[error("config: invalid hostlist '{0}'")]
    Hostlist(String),
    #[error("config: host {0} is not in [bootstrap] hosts")]
    UnknownHost(String),
    #[error("config: {host}: invalid endpoint '{uri}' (expected tcp://ADDR:PORT)")]
    Endpoint { host: String, uri: String },
    #[error("config: {host}: parent {parent} is not a host of the instance")]
    Parent { host: String, parent: String },
    #[error("config: curve_cert is required when the instance has more than one broker")]
    NoKey,
}

#[derive(Deserialize)]
struct File {
    bootstrap: Bootstrap,
}

#[derive(Deserialize)]
struct Bootstrap {
    curve_cert: Option<PathBuf>,
    default_port: Option<u16>,
    default_bind: Option<String>,
    default_connect: Option<String>,
    #[serde(default)]
    hosts: Vec<HostEntry>,
}

#[derive(Deserialize)]
struct HostEntry {
    host: String,
    bind: Option<String>,
    connect: Option<String>,
    parent: Option<String>,
}

/// One broker of the instance as the config describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub host: String,
    pub bind: Option<SocketAddr>,
    pub connect: Option<SocketAddr>,
    /// Rank of the parent (`None` for rank 0).
    pub parent: Option<u32>,
}

/// The instance described by a bootstrap config.
#[derive(Debug, Clone)]
pub struct Boot {
    pub key_path: Option<PathBuf>,
    pub peers: Vec<Peer>,
}

impl Boot {
    /// Parse a bootstrap config.
    pub fn parse(text: &str) -> Result<Boot, BootError> {
        let file: File = toml::from_str(text)?;
        Self::from_bootstrap(file.bootstrap)
    }

    /// The `[bootstrap]` table of an instance configuration (as JSON), if it has one.
    pub fn from_conf(conf: &serde_json::Value) -> Option<Result<Boot, BootError>> {
        let table = conf.get("bootstrap")?;
        Some(
            serde_json::from_value::<Bootstrap>(table.clone())
                .map_err(BootError::from)
                .and_then(Self::from_bootstrap),
        )
    }

    fn from_bootstrap(b: Bootstrap) -> Result<Boot, BootError> {
        if b.hosts.is_empty() {
            return Err(BootError::NoHosts);
        }
        let port = b.default_port.unwrap_or(8050);
        // (host, entry index) in rank order; a hostlist entry expands to several ranks.
        let mut names = Vec::new();
        for (i, entry) in b.hosts.iter().enumerate() {
            let hosts: Hostlist = entry
                .host
                .parse()
                .map_err(|_| BootError::Hostlist(entry.host.clone()))?;
            names.extend(hosts.iter().map(|h| (h.to_string(), i)));
        }
        let rank_of = |name: &str| names.iter().position(|(h, _)| h == name).map(|r| r as u32);
        let endpoint = |host: &str,
                        uri: Option<&String>,
                        default: Option<&String>|
         -> Result<Option<SocketAddr>, BootError> {
            let Some(template) = uri.or(default) else {
                return Ok(None);
            };
            let uri = template
                .replace("%p", &port.to_string())
                .replace("%h", host);
            uri.strip_prefix("tcp://")
                .and_then(|a| a.parse().ok())
                .map(Some)
                .ok_or(BootError::Endpoint {
                    host: host.to_string(),
                    uri,
                })
        };
        let mut peers = Vec::new();
        for (rank, (host, i)) in names.iter().enumerate() {
            let entry = &b.hosts[*i];
            let parent = match (&entry.parent, rank) {
                (_, 0) => None,
                (Some(p), _) => Some(rank_of(p).ok_or_else(|| BootError::Parent {
                    host: host.clone(),
                    parent: p.clone(),
                })?),
                // The default tree for config boot: rank 0 is everyone's parent.
                (None, _) => Some(0),
            };
            peers.push(Peer {
                host: host.clone(),
                bind: endpoint(host, entry.bind.as_ref(), b.default_bind.as_ref())?,
                connect: endpoint(host, entry.connect.as_ref(), b.default_connect.as_ref())?,
                parent,
            });
        }
        if peers.len() > 1 && b.curve_cert.is_none() {
            return Err(BootError::NoKey);
        }
        Ok(Boot {
            key_path: b.curve_cert,
            peers,
        })
    }

    /// This host's rank.
    pub fn rank_of(&self, hostname: &str) -> Result<u32, BootError> {
        self.peers
            .iter()
            .position(|p| p.host == hostname)
            .map(|r| r as u32)
            .ok_or_else(|| BootError::UnknownHost(hostname.to_string()))
    }

    /// The ranks whose parent is `rank`.
    pub fn children(&self, rank: u32) -> Vec<u32> {
        (0..self.peers.len() as u32)
            .filter(|r| self.peers[*r as usize].parent == Some(rank))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = r#"
        [bootstrap]
        curve_cert = "/tmp/key"
        default_port = 9000
        default_bind = "tcp://127.0.0.1:%p"
        default_connect = "tcp://127.0.0.1:%p"
        hosts = [
            { host = "node0", bind = "tcp://127.0.0.1:9100", connect = "tcp://127.0.0.1:9100" },
            { host = "node[1-3]" },
            { host = "leaf", parent = "node1" },
        ]
    "#;

    #[test]
    fn hosts_expand_in_rank_order() {
        let boot = Boot::parse(CONF).unwrap();
        assert_eq!(boot.peers.len(), 5);
        assert_eq!(boot.rank_of("node2").unwrap(), 2);
        assert_eq!(boot.peers[0].bind, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(
            boot.peers[3].connect,
            Some("127.0.0.1:9000".parse().unwrap())
        );
        assert_eq!(boot.peers[4].parent, Some(1));
        assert_eq!(boot.children(0), [1, 2, 3]);
        assert_eq!(boot.children(1), [4]);
        assert!(matches!(
            boot.rank_of("elsewhere"),
            Err(BootError::UnknownHost(_))
        ));
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        assert!(matches!(
            Boot::parse("[bootstrap]\nhosts = []"),
            Err(BootError::NoHosts)
        ));
        assert!(matches!(
            Boot::parse("[bootstrap]\nhosts = [{host=\"a\"},{host=\"b\"}]"),
            Err(BootError::NoKey)
        ));
        let bad_parent =
            "[bootstrap]\ncurve_cert=\"k\"\nhosts = [{host=\"a\"},{host=\"b\", parent=\"z\"}]";
        assert!(matches!(
            Boot::parse(bad_parent),
            Err(BootError::Parent { .. })
        ));
        let bad_uri = "[bootstrap]\nhosts = [{host=\"a\", bind=\"ipc://x\"}]";
        assert!(matches!(
            Boot::parse(bad_uri),
            Err(BootError::Endpoint { .. })
        ));
        assert!(matches!(Boot::parse("not toml ["), Err(BootError::Toml(_))));
    }
}
