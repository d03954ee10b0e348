use super::*;

/// hwloc v2 XML of one machine: `packages` x `cores` x `pus`, with a hostname and
/// extra I/O objects (`io`, placed under the machine).
fn topology(host: Option<&str>, packages: u32, cores: u32, pus: u32, io: &str) -> String {
    let npus = packages * cores * pus;
    let mask = |first: u32, n: u32| format!("0x{:08x}", ((1u64 << n) - 1) << first);
    let sets = |first: u32, n: u32| {
        let m = mask(first, n);
        format!(r#"cpuset="{m}" complete_cpuset="{m}" nodeset="0x1" complete_nodeset="0x1""#)
    };
    let mut gp = 1;
    let mut gp_index = || {
        gp += 1;
        gp
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n\
         <topology version=\"2.0\">\n",
    );
    x += &format!(
        "<object type=\"Machine\" os_index=\"0\" {} allowed_cpuset=\"{}\" allowed_nodeset=\"0x1\" gp_index=\"1\">\n",
        sets(0, npus),
        mask(0, npus)
    );
    if let Some(h) = host {
        x += &format!("<info name=\"HostName\" value=\"{h}\"/>\n");
    }
    x += &format!(
        "<object type=\"NUMANode\" os_index=\"0\" {} gp_index=\"{}\" local_memory=\"1073741824\"/>\n",
        sets(0, npus),
        gp_index()
    );
    for p in 0..packages {
        let first = p * cores * pus;
        x += &format!(
            "<object type=\"Package\" os_index=\"{p}\" {} gp_index=\"{}\">\n",
            sets(first, cores * pus),
            gp_index()
        );
        for c in 0..cores {
            let first = first + c * pus;
            x += &format!(
                "<object type=\"Core\" os_index=\"{}\" {} gp_index=\"{}\">\n",
                p * cores + c,
                sets(first, pus),
                gp_index()
            );
            for u in 0..pus {
                x += &format!(
                    "<object type=\"PU\" os_index=\"{}\" {} gp_index=\"{}\"/>\n",
                    first + u,
                    sets(first + u, 1),
                    gp_index()
                );
            }
            x += "</object>\n";
        }
        x += "</object>\n";
    }
    x += io;
    x += "</object>\n</topology>\n";
    x
}

/// A PCI GPU (class 0302) seen as `cuda1` and `nvml1`, and a SATA disk.
const GPU_AND_DISK: &str = r#"<object type="PCIDev" gp_index="100" pci_busid="0000:04:00.0" pci_type="0302 [10de:15f9] [10de:116b] a1" pci_link_speed="0.000000">
  <object type="OSDev" gp_index="101" name="cuda1" osdev_type="5"><info name="CoProcType" value="CUDA"/></object>
  <object type="OSDev" gp_index="102" name="nvml1" osdev_type="1"/>
</object>
<object type="PCIDev" gp_index="103" pci_busid="0000:00:1f.2" pci_type="0106 [8086:8d02] [8086:0000] 05" pci_link_speed="0.000000">
  <object type="OSDev" gp_index="104" name="sda" osdev_type="0"><info name="Size" value="500107862"/><info name="LinuxDeviceID" value="8:0"/></object>
</object>
"#;

fn read(xml: &str, allowlist: Option<&str>) -> ResourceGraph {
    let mut g = ResourceGraph::new();
    read_hwloc(xml, &mut g, allowlist, 3, None).unwrap();
    g
}

fn paths_of(g: &ResourceGraph, ty: &str) -> Vec<String> {
    let c = g.names.find_subsystem("containment").unwrap();
    let Some(t) = g.names.find_type(ty) else {
        return Vec::new();
    };
    g.by_type[&t]
        .iter()
        .map(|v| g.vertex(*v).paths.get(&c).unwrap().clone())
        .collect()
}

fn parent_type(g: &ResourceGraph, path: &str) -> String {
    let c = g.names.find_subsystem("containment").unwrap();
    let v = g.by_path[path];
    g.type_name(g.edge(g.parent_edge(v, c).unwrap()).source)
        .to_string()
}

#[test]
fn packages_cores_pus_under_a_named_node() {
    let g = read(&topology(Some("fluke42"), 2, 2, 2, ""), None);
    // cluster, node, numanode, 2 sockets, 4 cores, 8 PUs
    assert_eq!(g.vertex_count(), 1 + 1 + 1 + 2 + 4 + 8);
    let node = g.by_path["/cluster0/fluke42"];
    let v = g.vertex(node);
    assert_eq!((v.basename.as_str(), v.id, v.rank), ("fluke", 42, 3));
    assert_eq!(
        paths_of(&g, "core"),
        [
            "/cluster0/fluke42/socket0/core0",
            "/cluster0/fluke42/socket0/core1",
            "/cluster0/fluke42/socket1/core2",
            "/cluster0/fluke42/socket1/core3"
        ]
    );
    assert!(
        g.by_path
            .contains_key("/cluster0/fluke42/socket1/core3/pu7")
    );
    // NUMA nodes are memory children: they come after the packages.
    assert_eq!(paths_of(&g, "numanode"), ["/cluster0/fluke42/numanode0"]);
    let root = g.vertex(
        g.root(g.names.find_subsystem("containment").unwrap())
            .unwrap(),
    );
    assert_eq!(
        (root.name.as_str(), root.rank, root.uniq_id),
        ("cluster0", -1, 0)
    );
    // Unique ids are the insertion order.
    assert!(
        g.vertices
            .iter()
            .enumerate()
            .all(|(i, v)| v.uniq_id == i as i64)
    );
}

#[test]
fn allowlist_skips_types_and_reattaches_children() {
    let g = read(&topology(Some("fluke42"), 2, 2, 2, ""), Some("node,core"));
    assert_eq!(g.vertex_count(), 1 + 1 + 4);
    assert_eq!(parent_type(&g, "/cluster0/fluke42/core2"), "node");
    assert!(
        g.vertices
            .iter()
            .enumerate()
            .all(|(i, v)| v.uniq_id == i as i64)
    );
    // Without node, the cores hang from the cluster.
    let g = read(&topology(Some("fluke42"), 1, 2, 1, ""), Some("core"));
    assert_eq!(paths_of(&g, "core"), ["/cluster0/core0", "/cluster0/core1"]);
}

#[test]
fn a_machine_without_hostname_has_no_node() {
    let g = read(&topology(None, 1, 2, 1, ""), Some("node,socket,core"));
    assert!(g.names.find_type("node").is_none());
    assert_eq!(parent_type(&g, "/cluster0/socket0"), "cluster");
    // A caller may name it (the broker module names it after its own host).
    let mut g = ResourceGraph::new();
    let xml = topology(None, 1, 2, 1, "");
    read_hwloc(&xml, &mut g, None, 0, Some("login2")).unwrap();
    assert_eq!(parent_type(&g, "/cluster0/login2/socket0"), "node");
    let mut g = ResourceGraph::new();
    read_hwloc(
        &topology(Some("fluke1"), 1, 1, 1, ""),
        &mut g,
        None,
        0,
        Some("x"),
    )
    .unwrap();
    assert!(g.by_path.contains_key("/cluster0/fluke1"), "HostName wins");
}

#[test]
fn gpus_and_storage_from_os_devices() {
    let g = read(&topology(Some("sierra7"), 1, 2, 1, GPU_AND_DISK), None);
    // The GPU is named by its CUDA index; its NVML twin is not a second GPU.
    assert_eq!(paths_of(&g, "gpu"), ["/cluster0/sierra7/gpu1"]);
    // Other ids are logical indexes, which hwloc counts over all OS devices.
    let sda = g.vertex(g.by_path["/cluster0/sierra7/storage2"]);
    assert_eq!(sda.size, 500);
    assert_eq!(sda.properties["LinuxDeviceID"], "8:0");
    let g = read(
        &topology(Some("sierra7"), 1, 2, 1, GPU_AND_DISK),
        Some("node,core"),
    );
    assert!(g.names.find_type("gpu").is_none() && g.names.find_type("storage").is_none());
}

#[test]
fn caches_only_where_they_bring_structure() {
    // An L3 whose only child is the package adds no level: hwloc drops it.
    let xml = topology(Some("n1"), 1, 2, 1, "").replace(
        "<object type=\"Package\"",
        "<object type=\"L3Cache\" cpuset=\"0x3\" complete_cpuset=\"0x3\" nodeset=\"0x1\" complete_nodeset=\"0x1\" gp_index=\"90\" cache_size=\"8388608\" depth=\"3\" cache_linesize=\"64\" cache_associativity=\"16\" cache_type=\"0\">\n<object type=\"Package\"",
    );
    let xml = xml.replacen(
        "</object>\n</object>\n</topology>",
        "</object>\n</object>\n</object>\n</topology>",
        1,
    );
    let mut g = ResourceGraph::new();
    read_hwloc(&xml, &mut g, None, -1, None).unwrap();
    assert!(
        g.names.find_type("cache").is_none(),
        "{:?}",
        paths_of(&g, "socket")
    );
}

#[test]
fn hwloc_v1_xml_is_read() {
    // hwloc 1.x wrote no NUMA node for a non-NUMA machine: hwloc makes one from the
    // machine's memory.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE topology SYSTEM "hwloc.dtd">
<topology>
  <object type="Machine" os_index="0" cpuset="0x0000000f" complete_cpuset="0x0000000f" online_cpuset="0x0000000f" allowed_cpuset="0x0000000f" local_memory="8589934592">
    <info name="HostName" value="cab12"/>
    <object type="Socket" os_index="0" cpuset="0x0000000f" complete_cpuset="0x0000000f" online_cpuset="0x0000000f" allowed_cpuset="0x0000000f">
      <object type="Cache" cpuset="0x00000003" complete_cpuset="0x00000003" online_cpuset="0x00000003" allowed_cpuset="0x00000003" cache_size="262144" depth="2" cache_linesize="64" cache_associativity="8" cache_type="0">
        <object type="Core" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" online_cpuset="0x00000001" allowed_cpuset="0x00000001">
          <object type="PU" os_index="0" cpuset="0x00000001" complete_cpuset="0x00000001" online_cpuset="0x00000001" allowed_cpuset="0x00000001"/>
        </object>
        <object type="Core" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" online_cpuset="0x00000002" allowed_cpuset="0x00000002">
          <object type="PU" os_index="1" cpuset="0x00000002" complete_cpuset="0x00000002" online_cpuset="0x00000002" allowed_cpuset="0x00000002"/>
        </object>
      </object>
      <object type="Cache" cpuset="0x0000000c" complete_cpuset="0x0000000c" online_cpuset="0x0000000c" allowed_cpuset="0x0000000c" cache_size="262144" depth="2" cache_linesize="64" cache_associativity="8" cache_type="0">
        <object type="Core" os_index="2" cpuset="0x00000004" complete_cpuset="0x00000004" online_cpuset="0x00000004" allowed_cpuset="0x00000004">
          <object type="PU" os_index="2" cpuset="0x00000004" complete_cpuset="0x00000004" online_cpuset="0x00000004" allowed_cpuset="0x00000004"/>
        </object>
        <object type="Core" os_index="3" cpuset="0x00000008" complete_cpuset="0x00000008" online_cpuset="0x00000008" allowed_cpuset="0x00000008">
          <object type="PU" os_index="3" cpuset="0x00000008" complete_cpuset="0x00000008" online_cpuset="0x00000008" allowed_cpuset="0x00000008"/>
        </object>
      </object>
    </object>
  </object>
</topology>
"#;
    let g = read(xml, None);
    assert_eq!(
        paths_of(&g, "cache"),
        [
            "/cluster0/cab12/socket0/L2cache0",
            "/cluster0/cab12/socket0/L2cache1"
        ]
    );
    let l2 = g.vertex(g.by_path["/cluster0/cab12/socket0/L2cache1"]);
    assert_eq!((l2.basename.as_str(), l2.size), ("L2cache", 256));
    assert!(
        g.by_path
            .contains_key("/cluster0/cab12/socket0/L2cache1/core3/pu3")
    );
}

#[test]
fn malformed_xml_is_a_clear_error() {
    for bad in [
        "",
        "   \n",
        "not xml at all",
        "<topology version=\"2.0\"><object type=\"Machine\"",
        "<?xml version=\"1.0\"?><graphml></graphml>",
    ] {
        let mut g = ResourceGraph::new();
        let err = read_hwloc(bad, &mut g, None, -1, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("hwloc: "), "{bad:?}: {err}");
    }
    let mut g = ResourceGraph::new();
    let no_size =
        topology(Some("n1"), 1, 1, 1, GPU_AND_DISK).replace("name=\"Size\"", "name=\"Sighs\"");
    let err = read_hwloc(&no_size, &mut g, None, -1, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sda has no Size"), "{err}");
}

#[test]
fn hostnames_and_device_names() {
    assert_eq!(split_hostname("sierra0042"), ("sierra".into(), 42));
    assert_eq!(split_hostname("login"), ("login".into(), -1));
    assert_eq!(split_hostname("007"), ("".into(), 7));
    assert_eq!(gpu_id("cuda12", 5), 12);
    assert_eq!(gpu_id("rsmi3", 5), 3);
    assert_eq!(gpu_id("opencl0d2", 5), 2);
    assert_eq!(gpu_id("opencl1", 5), 0);
}
