//! What hwloc says about a machine, behind one small module: hwlocality's alpha API changes
//! between releases, so nothing else in the project names it.
//!
//! Discovery of this host (which honours `HWLOC_XMLFILE`) and of XML files is cached per
//! process: a `--test-size=1024` instance runs 1024 brokers in one process, and each must
//! not walk the machine again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use flux_proto::types::{IdSet, ResourceSet};
use hwlocality::Topology;
use hwlocality::object::TopologyObject;
use hwlocality::object::types::ObjectType;
use hwlocality::topology::builder::TypeFilter;
use hwlocality::topology::export::xml::XMLExportFlags;

/// Why a topology could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HwlocError {
    /// hwloc failed to discover this host.
    #[error("hwloc topology discovery failed: {0}")]
    Discover(String),
    /// An XML topology could not be loaded.
    #[error("{path}: cannot load hwloc XML: {reason}")]
    Xml {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The resources of one machine, as the resource module needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Core count of each package, in logical order.
    pub cores_per_package: Vec<u32>,
    /// Number of GPUs (CUDA, OpenCL, NVML or ROCm devices; one per PCI device).
    pub ngpus: u32,
    /// Total memory in bytes (unreliable on VMs: never assert it).
    pub memory: u64,
}

impl Machine {
    /// Number of cores.
    pub fn ncores(&self) -> u32 {
        self.cores_per_package.iter().sum()
    }

    /// This machine as one execution target of R: cores `0..ncores-1`, GPUs
    /// `0..ngpus-1` (logical ids, as Flux numbers them).
    pub fn to_resource_set(&self, rank: u32, hostname: &str) -> ResourceSet {
        let ids = |n: u32| match n {
            0 => IdSet::new(),
            n => IdSet::from_range(0, n - 1),
        };
        let mut r = ResourceSet::new();
        // A fresh set has no ranks: adding one cannot collide.
        let _ = r.add_node(
            rank,
            Some(hostname.to_string()),
            ids(self.ncores()),
            ids(self.ngpus),
        );
        r
    }

    fn from_topology(topo: &Topology) -> Machine {
        let packages = topo.objects_with_type(ObjectType::Package).count();
        let mut cores_per_package = vec![0u32; packages.max(1)];
        for core in topo.objects_with_type(ObjectType::Core) {
            let package = core
                .first_ancestor_with_type(ObjectType::Package)
                .map_or(0, TopologyObject::logical_index);
            if let Some(slot) = cores_per_package.get_mut(package) {
                *slot += 1;
            }
        }
        Machine {
            cores_per_package,
            ngpus: count_gpus(topo),
            memory: topo.root_object().total_memory(),
        }
    }
}

/// OS device name prefixes that denote a compute GPU.
const GPU_PREFIXES: &[&str] = &["cuda", "opencl", "nvml", "rsmi"];

/// GPUs are counted once per PCI device, since one GPU shows up as several OS devices
/// (`cuda0` and `nvml0` under the same PCI function).
fn count_gpus(topo: &Topology) -> u32 {
    let mut parents = std::collections::BTreeSet::new();
    let mut orphans = 0u32;
    for dev in topo.objects_with_type(ObjectType::OSDevice) {
        let name = dev
            .name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if !GPU_PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        match dev.first_ancestor_with_type(ObjectType::PCIDevice) {
            Some(pci) => {
                parents.insert(pci.global_persistent_index());
            }
            None => orphans += 1,
        }
    }
    u32::try_from(parents.len()).unwrap_or(u32::MAX) + orphans
}

fn builder() -> Result<hwlocality::topology::builder::TopologyBuilder, String> {
    Topology::builder()
        .with_io_type_filter(TypeFilter::KeepImportant)
        .map_err(|e| e.to_string())
}

/// Discover this host (or the XML file named by `HWLOC_XMLFILE`), once per process.
pub fn host() -> Result<Machine, HwlocError> {
    static HOST: OnceLock<Result<Machine, HwlocError>> = OnceLock::new();
    HOST.get_or_init(|| {
        let topo = builder()
            .and_then(|b| b.build().map_err(|e| e.to_string()))
            .map_err(HwlocError::Discover)?;
        Ok(Machine::from_topology(&topo))
    })
    .clone()
}

/// Load an hwloc XML topology file (a simulated machine), once per path per process.
pub fn from_xml_file(path: &Path) -> Result<Machine, HwlocError> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Machine>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.lock()
        && let Some(m) = map.get(path)
    {
        return Ok(m.clone());
    }
    let xml_err = |reason: String| HwlocError::Xml {
        path: path.display().to_string(),
        reason,
    };
    // hwloc's own message for a missing file is a bare errno: say what it is.
    if !path.is_file() {
        return Err(xml_err("no such file".into()));
    }
    let topo = builder()
        .map_err(&xml_err)?
        .from_xml_file(path)
        .map_err(|e| xml_err(e.to_string()))?
        .build()
        .map_err(|e| xml_err(e.to_string()))?;
    let machine = Machine::from_topology(&topo);
    if let Ok(mut map) = cache.lock() {
        map.insert(path.to_path_buf(), machine.clone());
    }
    Ok(machine)
}

/// This host's topology (or `HWLOC_XMLFILE`'s) as hwloc XML, important I/O devices
/// included: the input of Fluxion's hwloc reader.
pub fn host_xml() -> Result<String, HwlocError> {
    let topo = builder()
        .and_then(|b| b.build().map_err(|e| e.to_string()))
        .map_err(HwlocError::Discover)?;
    let xml = topo
        .export_xml(XMLExportFlags::empty())
        .map_err(|e| HwlocError::Discover(e.to_string()))?;
    let text: &str = xml.as_ref();
    Ok(text.to_owned())
}

/// Load a topology from XML text (not cached).
pub fn from_xml(xml: &str) -> Result<Machine, HwlocError> {
    let xml_err = |reason: String| HwlocError::Xml {
        path: "<buffer>".into(),
        reason,
    };
    let topo = builder()
        .map_err(&xml_err)?
        .from_xml(xml)
        .map_err(|e| xml_err(e.to_string()))?
        .build()
        .map_err(|e| xml_err(e.to_string()))?;
    Ok(Machine::from_topology(&topo))
}

#[cfg(test)]
#[path = "hwloc_tests.rs"]
mod tests;
