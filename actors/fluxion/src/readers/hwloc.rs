//! hwloc reader: one machine's hwloc XML topology (v1 or v2, as `lstopo --of xml` writes
//! it) becomes `cluster0 -> node -> socket/numanode/group/cache/core/pu/gpu/storage`, with
//! the object mapping of Fluxion's hwloc reader.
//!
//! hwloc itself loads the XML, with the type filters Fluxion sets (important I/O objects
//! kept, caches only where they bring structure), so a file gives the same graph on any
//! host: the XML backend never looks at the machine it runs on.

use hwlocality::Topology;
use hwlocality::object::TopologyObject;
use hwlocality::object::attributes::ObjectAttributes;
use hwlocality::object::types::{OSDeviceType, ObjectType};
use hwlocality::topology::builder::TypeFilter;

use super::{add_containment_vertex, allowed_types};
use crate::error::ReaderError;
use crate::graph::{ResourceGraph, VertexId};

fn invalid(msg: impl Into<String>) -> ReaderError {
    ReaderError::Invalid(format!("hwloc: {}", msg.into()))
}

/// What one hwloc object becomes.
struct Kind {
    ty: &'static str,
    basename: String,
    /// Full name when it is not `basename + id` (a node is named by its hostname).
    name: Option<String>,
    id: i64,
    size: i64,
    properties: Vec<(String, String)>,
}

impl Kind {
    fn new(ty: &'static str, obj: &TopologyObject) -> Self {
        Self {
            ty,
            basename: ty.to_string(),
            name: None,
            id: obj.logical_index() as i64,
            size: 1,
            properties: Vec::new(),
        }
    }
}

/// Splits a hostname into its stem and numeric suffix (`sierra0042` -> `sierra`, 42);
/// the id is -1 when there is no suffix.
pub(crate) fn split_hostname(host: &str) -> (String, i64) {
    // A suffix too long for i64 keeps the whole name as the stem.
    match super::split_trailing_digits(host) {
        (stem, Some(digits)) if digits.parse::<i64>().is_ok() => {
            (stem.to_string(), digits.parse().unwrap_or(-1))
        }
        _ => (host.to_string(), -1),
    }
}

/// The leading decimal digits of `s` as a number (0 when there are none), like `atoi`.
fn leading_int(s: &str) -> i64 {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().unwrap_or(0)
}

/// A GPU's id, from the OS device name (`cuda3`, `rsmi1`, `opencl0d2`: platform 0,
/// device 2): hwloc numbers OS devices of all kinds together.
fn gpu_id(name: &str, logical_index: i64) -> i64 {
    if let Some(rest) = name
        .strip_prefix("cuda")
        .or_else(|| name.strip_prefix("rsmi"))
    {
        leading_int(rest)
    } else if let Some(rest) = name.strip_prefix("opencl") {
        rest.split_once('d').map_or(0, |(_, dev)| leading_int(dev))
    } else {
        logical_index
    }
}

struct Walker<'a> {
    g: &'a mut ResourceGraph,
    allowed: Option<std::collections::BTreeSet<&'a str>>,
    rank: i64,
    default_host: Option<&'a str>,
}

impl Walker<'_> {
    fn keeps(&self, ty: &str) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(ty))
    }

    /// The vertex `obj` becomes, or `None` when it is not modelled (or not allowed).
    fn kind(&self, obj: &TopologyObject) -> Result<Option<Kind>, ReaderError> {
        let simple = |ty: &'static str| self.keeps(ty).then(|| Kind::new(ty, obj));
        let cache = |level: u8| {
            let basename = format!("L{level}cache");
            self.keeps(&basename).then(|| {
                let bytes = match obj.attributes() {
                    Some(ObjectAttributes::Cache(c)) => c.size().map_or(0, |s| s.get()),
                    _ => 0,
                };
                Kind {
                    basename,
                    size: i64::try_from(bytes / 1024).unwrap_or(i64::MAX),
                    ..Kind::new("cache", obj)
                }
            })
        };
        Ok(match obj.object_type() {
            ObjectType::Machine => {
                // Without a hostname there is no node (as in Fluxion), unless the caller
                // names the machine: its objects then hang from the cluster.
                let host = obj
                    .info("HostName")
                    .map(|h| h.to_string_lossy().into_owned())
                    .or_else(|| self.default_host.map(str::to_string));
                match host {
                    Some(host) if self.keeps("node") => {
                        let (basename, id) = split_hostname(&host);
                        Some(Kind {
                            basename,
                            name: Some(host),
                            id,
                            ..Kind::new("node", obj)
                        })
                    }
                    _ => None,
                }
            }
            ObjectType::Group => simple("group"),
            ObjectType::NUMANode => simple("numanode"),
            ObjectType::Package => simple("socket"),
            ObjectType::L1Cache => cache(1),
            ObjectType::L2Cache => cache(2),
            ObjectType::L3Cache => cache(3),
            ObjectType::Core => simple("core"),
            ObjectType::PU => simple("pu"),
            ObjectType::OSDevice => self.os_device(obj)?,
            _ => None,
        })
    }

    /// Compute accelerators become `gpu`, block devices `storage` (size in GB).
    fn os_device(&self, obj: &TopologyObject) -> Result<Option<Kind>, ReaderError> {
        let Some(ObjectAttributes::OSDevice(attr)) = obj.attributes() else {
            return Ok(None);
        };
        let name = obj
            .name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match attr.device_type() {
            // AMD GPUs may show up as GPU devices named `rsmiN` rather than co-processors.
            OSDeviceType::CoProcessor => {}
            OSDeviceType::GPU if name.starts_with("rsmi") => {}
            OSDeviceType::Storage => return self.storage(obj, &name),
            _ => return Ok(None),
        }
        if !self.keeps("gpu") {
            return Ok(None);
        }
        let id = gpu_id(&name, obj.logical_index() as i64);
        Ok(Some(Kind {
            id,
            ..Kind::new("gpu", obj)
        }))
    }

    fn storage(&self, obj: &TopologyObject, name: &str) -> Result<Option<Kind>, ReaderError> {
        if !self.keeps("storage") {
            return Ok(None);
        }
        // hwloc gives the size in kB (base 10).
        let kb = obj
            .info("Size")
            .map(|s| leading_int(&s.to_string_lossy()))
            .ok_or_else(|| invalid(format!("block device {name} has no Size")))?;
        if kb == 0 {
            return Err(invalid(format!("block device {name} has a bad Size")));
        }
        let dev = obj
            .info("LinuxDeviceID")
            .map_or_else(|| "-1".to_string(), |d| d.to_string_lossy().into_owned());
        Ok(Some(Kind {
            size: kb / 1_000_000,
            properties: vec![("LinuxDeviceID".into(), dev)],
            ..Kind::new("storage", obj)
        }))
    }

    fn add(&mut self, parent: VertexId, k: Kind) -> VertexId {
        let c = self.g.names.intern_subsystem("containment");
        let name = k.name.unwrap_or_else(|| match k.id {
            -1 => k.basename.clone(),
            id => format!("{}{id}", k.basename),
        });
        let prefix = self
            .g
            .vertex(parent)
            .paths
            .get(&c)
            .cloned()
            .unwrap_or_default();
        let path = format!("{prefix}/{name}");
        let v = add_containment_vertex(
            self.g,
            k.ty,
            &k.basename,
            name,
            k.id,
            self.rank,
            k.size,
            path,
        );
        self.g.vertices[v.idx()].properties.extend(k.properties);
        self.g.add_edge(parent, v, c);
        v
    }

    /// Depth first, children in hwloc's order: normal, memory, I/O, misc. Objects that
    /// are not modelled are skipped; their children attach to the nearest kept ancestor.
    fn walk(&mut self, obj: &TopologyObject, parent: VertexId) -> Result<(), ReaderError> {
        let here = match self.kind(obj)? {
            Some(k) => self.add(parent, k),
            None => parent,
        };
        for child in obj.all_children() {
            self.walk(child, here)?;
        }
        Ok(())
    }
}

/// Loads an hwloc XML document the way Fluxion does.
fn load_topology(xml: &str) -> Result<Topology, ReaderError> {
    if xml.trim().is_empty() {
        return Err(invalid("empty XML document"));
    }
    let fail =
        |e: &dyn std::fmt::Display| invalid(format!("not a loadable hwloc XML topology ({e})"));
    Topology::builder()
        .with_io_type_filter(TypeFilter::KeepImportant)
        .map_err(|e| fail(&e))?
        .with_cpu_cache_type_filter(TypeFilter::KeepStructure)
        .map_err(|e| fail(&e))?
        .with_cpu_icache_type_filter(TypeFilter::KeepStructure)
        .map_err(|e| fail(&e))?
        .from_xml(xml)
        .map_err(|e| fail(&e))?
        .build()
        .map_err(|e| fail(&e))
}

/// Reads one machine's hwloc XML into `g` under a new `cluster0` root; every vertex but
/// the root gets broker rank `rank`. With an `allowlist` (comma-separated types), objects
/// of other types are skipped and their children attach to the nearest kept ancestor.
/// The node is named by the machine's `HostName`, else by `default_host`; with neither
/// there is no node vertex.
pub fn read_hwloc(
    xml: &str,
    g: &mut ResourceGraph,
    allowlist: Option<&str>,
    rank: i64,
    default_host: Option<&str>,
) -> Result<(), ReaderError> {
    let topo = load_topology(xml)?;
    let c = g.names.intern_subsystem("containment");
    let root = add_containment_vertex(
        g,
        "cluster",
        "cluster",
        "cluster0".into(),
        0,
        -1,
        1,
        "/cluster0".into(),
    );
    g.roots.insert(c, root);
    let mut walker = Walker {
        g,
        allowed: allowlist.filter(|l| !l.is_empty()).map(allowed_types),
        rank,
        default_host,
    };
    walker.walk(topo.root_object(), root)
}

#[cfg(test)]
#[path = "hwloc_tests.rs"]
mod tests;
