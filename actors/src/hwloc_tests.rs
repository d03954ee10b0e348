use std::path::PathBuf;
use std::process::Command;

use super::*;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn synthetic_xml_counts_cores_per_package() {
    let m = from_xml_file(&data("pack2-core16-pu2.xml")).unwrap();
    assert_eq!(m.cores_per_package, vec![16, 16]);
    assert_eq!(m.ncores(), 32);
    assert_eq!(m.ngpus, 0);
    let r = m.to_resource_set(3, "sim");
    assert_eq!(r.to_rlist_string(), "rank3/core[0-31]");
    assert_eq!(r.hostname(3), Some("sim"));
}

#[test]
fn gpus_count_once_per_pci_device() {
    let m = from_xml_file(&data("gpu2-core4.xml")).unwrap();
    assert_eq!(m.ncores(), 4);
    // cuda0+nvml0 and cuda1+nvml1: two GPUs; the NIC is not one.
    assert_eq!(m.ngpus, 2);
    assert_eq!(
        m.to_resource_set(0, "g").to_rlist_string(),
        "rank0/core[0-3],gpu[0-1]"
    );
}

#[test]
fn xml_files_are_cached() {
    let path = data("pack2-core16-pu2.xml");
    let a = from_xml_file(&path).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..1000 {
        assert_eq!(from_xml_file(&path).unwrap(), a);
    }
    // 1000 parses would take seconds; 1000 cache hits take well under that.
    assert!(start.elapsed().as_secs_f64() < 1.0);
}

#[test]
fn bad_xml_is_a_clear_error() {
    let err = from_xml_file(Path::new("/nonexistent/topo.xml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/topo.xml: cannot load hwloc XML: no such file"
    );
    assert!(from_xml("<topology>garbage").is_err());
}

#[test]
fn generated_topologies_load_when_lstopo_exists() {
    let Ok(out) = Command::new("lstopo")
        .args(["--input", "pack:4 core:8 pu:1", "--of", "xml"])
        .output()
    else {
        eprintln!("lstopo not installed: skipped");
        return;
    };
    let xml = String::from_utf8_lossy(&out.stdout);
    let m = from_xml(&xml).unwrap();
    assert_eq!(m.cores_per_package, vec![8; 4]);
}

#[test]
fn host_discovery_works_and_is_stable() {
    // Never assert the host's figures (VMs report unreliable ones): only that it works
    // and that a second call gives the cached answer.
    let a = host().unwrap();
    assert!(a.ncores() >= 1);
    assert_eq!(host().unwrap(), a);
}

#[test]
fn host_xml_describes_this_host() {
    let xml = host_xml().unwrap();
    let again = from_xml(&xml).unwrap();
    assert!(again.ncores() >= 1);
    assert_eq!(again.ncores(), host().unwrap().ncores());
    assert!(xml.contains("HostName"), "hwloc names the machine");
}
