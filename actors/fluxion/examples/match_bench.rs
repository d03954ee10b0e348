//! Match times on a generated cluster of NODES nodes × SOCKETS sockets × CORES cores:
//! `cargo run --release --example match_bench -- [NODES] [SOCKETS] [CORES] [JOBS] [POLICY] [core|node]`
//! (defaults 10000 2 32 10000 first core). A `core` job asks for one core, a `node` job
//! for a whole node (exclusive). Prints the median and p99 of each match and the jobs/s.

use std::time::Instant;

use flux_fluxion::graph::ResourceGraph;
use flux_fluxion::jobspec::Jobspec;
use flux_fluxion::policy::MatchPolicy;
use flux_fluxion::readers::read_grug;
use flux_fluxion::traverser::{MatchOp, Traverser, TraverserConfig};

fn recipe(nodes: u32, sockets: u32, cores: u32) -> String {
    format!(
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
  <key id="type" for="node" attr.name="type" attr.type="string"/>
  <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
  <graph id="g" edgedefault="directed">
    <node id="c"><data key="root">1</data><data key="type">cluster</data></node>
    <node id="n"><data key="type">node</data></node>
    <node id="s"><data key="type">socket</data></node>
    <node id="k"><data key="type">core</data></node>
    <edge source="c" target="n"><data key="multi_scale">{nodes}</data></edge>
    <edge source="n" target="s"><data key="multi_scale">{sockets}</data></edge>
    <edge source="s" target="k"><data key="multi_scale">{cores}</data></edge>
  </graph>
</graphml>"#
    )
}

const CORE_JOB: &str = "version: 9999
resources:
  - type: slot
    count: 1
    label: default
    with:
      - type: core
        count: 1
attributes:
  system:
    duration: 3600
tasks:
  - command: [app]
    slot: default
    count:
      per_slot: 1
";

const NODE_JOB: &str = "version: 9999
resources:
  - type: node
    count: 1
    exclusive: true
    with:
      - type: slot
        count: 1
        label: default
        with:
          - type: core
            count: 1
attributes:
  system:
    duration: 3600
tasks:
  - command: [app]
    slot: default
    count:
      per_slot: 1
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u32| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (nodes, sockets, cores, jobs) = (arg(0, 10_000), arg(1, 2), arg(2, 32), arg(3, 10_000));
    let policy = args.get(4).map(String::as_str).unwrap_or("first");
    let kind = args.get(5).map(String::as_str).unwrap_or("core");
    let t0 = Instant::now();
    let mut g = ResourceGraph::new();
    read_grug(&recipe(nodes, sockets, cores), &mut g)?;
    let vertices = g.vertex_count();
    let config = TraverserConfig {
        policy: MatchPolicy::parse(policy)?,
        ..TraverserConfig::default()
    };
    let mut t = Traverser::new(g, &config)?;
    let load = t0.elapsed().as_secs_f64();
    let js = Jobspec::parse(if kind == "node" { NODE_JOB } else { CORE_JOB })?;
    let mut times = Vec::with_capacity(jobs as usize);
    let mut ok = 0;
    let t1 = Instant::now();
    for id in 1..=i64::from(jobs) {
        let start = Instant::now();
        if t.run(&js, MatchOp::Allocate, id, 0).is_ok() {
            ok += 1;
        }
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    let total = t1.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{nodes} nodes x {sockets} sockets x {cores} cores ({vertices} vertices, loaded in {load:.2} s), {policy}, 1-{kind} jobs: \
         {ok}/{jobs} matched, median {:.1} us, p99 {:.1} us, {:.0} jobs/s",
        pct(0.5),
        pct(0.99),
        f64::from(jobs) / total
    );
    Ok(())
}
