//! The shape of a `flux tree` hierarchy: how a level splits its jobs and resources among
//! its children, and the performance record each instance writes. Plain data.

use anyhow::bail;

/// What one instance of the tree is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Children per level below this one (`-T2x2` is `[2, 2]`); empty at a leaf.
    pub topology: Vec<u32>,
    pub njobs: u64,
    pub nnodes: u64,
    /// Cores and GPUs per node.
    pub cores: u64,
    pub gpus: u64,
    /// Scheduler policy per level below this one (`-Q easy:fcfs`), may be shorter.
    pub policies: Vec<String>,
}

/// `2x2` -> `[2, 2]`.
pub fn parse_topology(text: &str) -> anyhow::Result<Vec<u32>> {
    text.split('x')
        .map(|n| match n.parse::<u32>() {
            Ok(k) if k > 0 => Ok(k),
            _ => bail!("invalid topology '{text}': expected counts like 2x2"),
        })
        .collect()
}

/// `n` split in `k` parts as evenly as possible, the larger ones first.
fn split(n: u64, k: u64) -> Vec<u64> {
    (0..k).map(|i| n / k + u64::from(i < n % k)).collect()
}

impl Shape {
    /// The shapes of this instance's children, and the scheduler policy they run.
    pub fn children(&self) -> anyhow::Result<Vec<(Shape, Option<String>)>> {
        let Some((&k, rest)) = self.topology.split_first() else {
            return Ok(Vec::new());
        };
        let k = u64::from(k);
        let policy = self.policies.first().cloned();
        let policies = self.policies.iter().skip(1).cloned().collect::<Vec<_>>();
        let jobs = split(self.njobs, k);
        // Whole nodes when there are enough of them, else a share of each node's cores.
        let (nodes, cores, gpus) = if self.nnodes >= k {
            (
                split(self.nnodes, k),
                vec![self.cores; k as usize],
                vec![self.gpus; k as usize],
            )
        } else {
            if self.cores < k {
                bail!(
                    "cannot split {} core(s) per node among {k} children: give more cores (-c)",
                    self.cores
                );
            }
            (
                vec![self.nnodes; k as usize],
                split(self.cores, k),
                split(self.gpus, k),
            )
        };
        Ok((0..k as usize)
            .map(|i| {
                let shape = Shape {
                    topology: rest.to_vec(),
                    njobs: jobs[i],
                    nnodes: nodes[i],
                    cores: cores[i],
                    gpus: gpus[i],
                    policies: policies.clone(),
                };
                (shape, policy.clone())
            })
            .collect())
    }
}

/// One instance's performance record (a line of `-o FILE`).
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    pub id: String,
    pub begin: f64,
    pub end: f64,
    pub njobs: u64,
    pub nnodes: u64,
    pub cores: u64,
    pub gpus: u64,
}

/// The header of the performance file.
pub const HEADER: [&str; 9] = [
    "TreeID",
    "Elapsed(sec)",
    "Begin(Epoch)",
    "End(Epoch)",
    "NJobs",
    "NNodes",
    "CPN",
    "GPN",
    "JobsPerSec",
];

fn row(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| format!("{c:<20}"))
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end()
        .to_string()
}

/// The header line.
pub fn header() -> String {
    row(&HEADER.map(String::from))
}

impl Perf {
    /// The line of this record.
    pub fn line(&self) -> String {
        let elapsed = self.end - self.begin;
        let rate = if elapsed > 0.0 {
            self.njobs as f64 / elapsed
        } else {
            0.0
        };
        row(&[
            self.id.clone(),
            format!("{elapsed:.6}"),
            format!("{:.6}", self.begin),
            format!("{:.6}", self.end),
            self.njobs.to_string(),
            self.nnodes.to_string(),
            self.cores.to_string(),
            self.gpus.to_string(),
            format!("{rate:.1}"),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(topology: &[u32], njobs: u64, nnodes: u64, cores: u64) -> Shape {
        Shape {
            topology: topology.to_vec(),
            njobs,
            nnodes,
            cores,
            gpus: 0,
            policies: vec!["easy".into(), "fcfs".into()],
        }
    }

    #[test]
    fn a_level_splits_jobs_and_cores_of_one_node() {
        let kids = shape(&[2, 2], 5, 1, 4).children().unwrap();
        assert_eq!(kids.len(), 2);
        let (first, policy) = &kids[0];
        assert_eq!(policy.as_deref(), Some("easy"));
        assert_eq!((first.njobs, first.nnodes, first.cores), (3, 1, 2));
        assert_eq!(first.topology, [2]);
        assert_eq!(first.policies, ["fcfs"]);
        assert_eq!(kids[1].0.njobs, 2);
        let leaves = first.children().unwrap();
        assert_eq!(leaves[0].1.as_deref(), Some("fcfs"));
        assert_eq!((leaves[0].0.njobs, leaves[0].0.cores), (2, 1));
        assert!(leaves[0].0.children().unwrap().is_empty());
        // Not enough cores to share.
        assert!(shape(&[4], 4, 1, 2).children().is_err());
    }

    #[test]
    fn a_level_splits_whole_nodes_when_it_can() {
        let kids = shape(&[2], 4, 3, 8).children().unwrap();
        assert_eq!((kids[0].0.nnodes, kids[0].0.cores), (2, 8));
        assert_eq!((kids[1].0.nnodes, kids[1].0.cores), (1, 8));
        assert_eq!(kids[0].1.as_deref(), Some("easy"));
    }

    #[test]
    fn topology_and_perf_lines() {
        assert_eq!(parse_topology("2x3").unwrap(), [2, 3]);
        assert!(parse_topology("2x0").is_err());
        assert!(parse_topology("x").is_err());
        let p = Perf {
            id: "tree.1".into(),
            begin: 10.0,
            end: 12.0,
            njobs: 4,
            nnodes: 1,
            cores: 2,
            gpus: 0,
        };
        let line = p.line();
        assert!(line.starts_with("tree.1               2.000000             10.000000"));
        assert!(line.ends_with("2.0"), "{line}");
        assert!(header().starts_with("TreeID               Elapsed(sec)"));
    }
}
