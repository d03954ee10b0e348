//! Match throughput on a generated cluster: `cargo run --release --example match_bench
//! -- [NODES] [CORES] [JOBS] [POLICY]` (defaults 10000 32 16384 first).

use std::time::Instant;

use flux_fluxion::graph::ResourceGraph;
use flux_fluxion::jobspec::Jobspec;
use flux_fluxion::policy::MatchPolicy;
use flux_fluxion::readers::read_grug;
use flux_fluxion::traverser::{MatchOp, Traverser, TraverserConfig};

fn recipe(nodes: u32, cores: u32) -> String {
    format!(
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="root" for="node" attr.name="root" attr.type="int"><default>0</default></key>
  <key id="type" for="node" attr.name="type" attr.type="string"/>
  <key id="multi_scale" for="edge" attr.name="multi_scale" attr.type="int"><default>1</default></key>
  <graph id="g" edgedefault="directed">
    <node id="c"><data key="root">1</data><data key="type">cluster</data></node>
    <node id="n"><data key="type">node</data></node>
    <node id="k"><data key="type">core</data></node>
    <edge source="c" target="n"><data key="multi_scale">{nodes}</data></edge>
    <edge source="n" target="k"><data key="multi_scale">{cores}</data></edge>
  </graph>
</graphml>"#
    )
}

const JOB: &str = "version: 9999
resources:
  - type: node
    count: 1
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
    let (nodes, cores, jobs) = (arg(0, 10_000), arg(1, 32), arg(2, 16_384));
    let policy = args.get(3).map(String::as_str).unwrap_or("first");
    let t0 = Instant::now();
    let mut g = ResourceGraph::new();
    read_grug(&recipe(nodes, cores), &mut g)?;
    let vertices = g.vertex_count();
    let config = TraverserConfig {
        policy: MatchPolicy::parse(policy)?,
        ..TraverserConfig::default()
    };
    let mut t = Traverser::new(g, &config)?;
    println!(
        "load: {vertices} vertices in {:.3} s",
        t0.elapsed().as_secs_f64()
    );
    let js = Jobspec::parse(JOB)?;
    let t1 = Instant::now();
    let mut ok = 0;
    for id in 1..=i64::from(jobs) {
        if t.run(&js, MatchOp::Allocate, id, 0).is_ok() {
            ok += 1;
        }
    }
    let per = t1.elapsed().as_secs_f64() * 1e6 / f64::from(jobs.max(1));
    println!("{policy}: {ok}/{jobs} matched, {per:.1} us per match");
    Ok(())
}
