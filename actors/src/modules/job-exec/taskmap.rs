//! Which broker rank runs which tasks of a job ("block" task mapping, RFC 34): each node
//! of R gets as many consecutive tasks as it holds slots, in rank order.

use flux_proto::types::ResourceSet;

/// The tasks of one rank: (broker rank, global task ids).
pub type RankTasks = (u32, Vec<u32>);

/// Map `ntasks` tasks over the nodes of `r`, `cores_per_slot` cores per task slot. Without
/// an R (or when R's slots do not add up to the task count), tasks are spread evenly over
/// the nodes, or all run on `fallback_rank`.
pub fn block(
    r: Option<&ResourceSet>,
    ntasks: u32,
    cores_per_slot: u32,
    fallback_rank: u32,
) -> Vec<RankTasks> {
    let nodes: Vec<(u32, u64)> = r
        .map(|r| r.nodes().map(|n| (n.rank, n.cores.count())).collect())
        .unwrap_or_default();
    if nodes.is_empty() {
        return vec![(fallback_rank, (0..ntasks).collect())];
    }
    let per_slot = u64::from(cores_per_slot.max(1));
    let slots: Vec<u64> = nodes
        .iter()
        .map(|(_, cores)| (cores / per_slot).max(1))
        .collect();
    let counts: Vec<u64> = if slots.iter().sum::<u64>() == u64::from(ntasks) {
        slots
    } else {
        // Spread evenly, the first nodes taking one more when it does not divide.
        let n = nodes.len() as u64;
        (0..n)
            .map(|i| u64::from(ntasks) / n + u64::from(i < u64::from(ntasks) % n))
            .collect()
    };
    let mut next = 0u32;
    nodes
        .iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|((rank, _), count)| {
            let tasks: Vec<u32> = (next..next + count as u32).collect();
            next += count as u32;
            (*rank, tasks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flux_proto::types::IdSet;
    use flux_proto::types::r::Node;

    fn r(cores: &[(u32, &str)]) -> ResourceSet {
        let mut r = ResourceSet::default();
        for (rank, ids) in cores {
            r.insert_node(Node::new(
                *rank,
                Some(format!("n{rank}")),
                IdSet::parse(ids).unwrap(),
                IdSet::new(),
            ))
            .unwrap();
        }
        r
    }

    #[test]
    fn tasks_follow_the_slots_of_each_node() {
        let alloc = r(&[(0, "0-1"), (3, "0-3")]);
        assert_eq!(
            block(Some(&alloc), 6, 1, 0),
            [(0, vec![0, 1]), (3, vec![2, 3, 4, 5])]
        );
        assert_eq!(
            block(Some(&alloc), 3, 2, 0),
            [(0, vec![0]), (3, vec![1, 2])]
        );
    }

    #[test]
    fn uneven_counts_spread_evenly() {
        let alloc = r(&[(1, "0"), (2, "0"), (5, "0")]);
        assert_eq!(
            block(Some(&alloc), 4, 1, 0),
            [(1, vec![0, 1]), (2, vec![2]), (5, vec![3])]
        );
        assert_eq!(block(Some(&alloc), 2, 1, 0), [(1, vec![0]), (2, vec![1])]);
        assert_eq!(block(None, 3, 1, 7), [(7, vec![0, 1, 2])]);
    }
}
