//! The shape of the tree of brokers (TBON): `kary:K` trees, rank 0 at the root.

/// A tree over ranks `0..size`: k-ary (`k == 0` means flat: rank 0 parent of all), or
/// custom, each rank's parent given (booting from a config file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    size: u32,
    k: u32,
    /// Custom trees: the parent of each rank (index 0 unused).
    parents: Option<std::sync::Arc<[u32]>>,
}

/// Why a `tbon.topo` value is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tbon.topo '{0}': expected kary:K")]
pub struct TopoError(String);

impl Topology {
    /// A `kary:k` tree of `size` ranks.
    pub fn kary(size: u32, k: u32) -> Self {
        Topology {
            size: size.max(1),
            k,
            parents: None,
        }
    }

    /// A tree where rank `r` (> 0) has parent `parents[r]`; `parents[0]` is ignored.
    /// Each parent must be a lower rank, which makes it a tree rooted at 0.
    pub fn custom(parents: Vec<u32>) -> Result<Self, TopoError> {
        if parents
            .iter()
            .enumerate()
            .skip(1)
            .any(|(r, p)| *p as usize >= r)
        {
            return Err(TopoError("custom: a parent must have a lower rank".into()));
        }
        Ok(Topology {
            size: parents.len().max(1) as u32,
            k: 0,
            parents: Some(parents.into()),
        })
    }

    /// Parse a `tbon.topo` value (`kary:K`; `kary:0` is flat).
    pub fn parse(size: u32, topo: &str) -> Result<Self, TopoError> {
        let k = topo
            .strip_prefix("kary:")
            .and_then(|k| k.parse::<u32>().ok())
            .ok_or_else(|| TopoError(topo.to_string()))?;
        Ok(Topology::kary(size, k))
    }

    /// Number of ranks.
    pub fn size(&self) -> u32 {
        self.size
    }

    fn fanout(&self) -> u64 {
        if self.k == 0 {
            u64::from(self.size)
        } else {
            u64::from(self.k)
        }
    }

    /// The parent of `rank` (`None` for the root).
    pub fn parent(&self, rank: u32) -> Option<u32> {
        if rank == 0 || rank >= self.size {
            return None;
        }
        match &self.parents {
            Some(parents) => parents.get(rank as usize).copied(),
            None => Some(((u64::from(rank) - 1) / self.fanout()) as u32),
        }
    }

    /// The children of `rank`, in rank order.
    pub fn children(&self, rank: u32) -> std::vec::IntoIter<u32> {
        let children: Vec<u32> = match &self.parents {
            Some(parents) => (1..self.size)
                .filter(|r| parents[*r as usize] == rank)
                .collect(),
            None => {
                let first = u64::from(rank) * self.fanout() + 1;
                let end = (first + self.fanout()).min(u64::from(self.size));
                (first..end.max(first)).map(|r| r as u32).collect()
            }
        };
        children.into_iter()
    }

    /// Depth of `rank` (root is level 0).
    pub fn level(&self, rank: u32) -> u32 {
        let mut level = 0;
        let mut r = rank;
        while let Some(p) = self.parent(r) {
            r = p;
            level += 1;
        }
        level
    }

    /// Depth of the deepest rank.
    pub fn max_level(&self) -> u32 {
        self.level(self.size - 1)
    }

    /// Number of ranks below `rank`.
    pub fn descendants(&self, rank: u32) -> u32 {
        self.children(rank).map(|c| 1 + self.descendants(c)).sum()
    }

    /// The neighbour a message from `rank` to `target` goes to first: the child whose
    /// subtree holds `target`, or else the parent. `None` if `target` is `rank` or absent.
    pub fn next_hop(&self, rank: u32, target: u32) -> Option<u32> {
        if target == rank || target >= self.size {
            return None;
        }
        let mut r = target;
        while let Some(p) = self.parent(r) {
            if p == rank {
                return Some(r);
            }
            r = p;
        }
        self.parent(rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_tree_shape() {
        let t = Topology::parse(7, "kary:2").unwrap();
        assert_eq!(t.parent(0), None);
        assert_eq!(t.parent(5), Some(2));
        assert_eq!(t.children(1).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(t.children(3).count(), 0);
        assert_eq!((t.level(6), t.max_level()), (2, 2));
        assert_eq!(t.descendants(0), 6);
        assert_eq!(t.descendants(2), 2);
    }

    #[test]
    fn next_hop_goes_down_to_the_subtree_or_up() {
        let t = Topology::kary(7, 2);
        assert_eq!(t.next_hop(0, 6), Some(2));
        assert_eq!(t.next_hop(2, 6), Some(6));
        assert_eq!(t.next_hop(3, 6), Some(1));
        assert_eq!(t.next_hop(1, 0), Some(0));
        assert_eq!(t.next_hop(1, 1), None);
        assert_eq!(t.next_hop(1, 9), None);
    }

    #[test]
    fn flat_and_default_trees() {
        let flat = Topology::parse(5, "kary:0").unwrap();
        assert_eq!(flat.children(0).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(flat.max_level(), 1);
        let big = Topology::kary(1024, 32);
        assert_eq!(big.children(0).count(), 32);
        assert_eq!(big.max_level(), 2);
        assert_eq!(big.descendants(0), 1023);
        assert_eq!(big.next_hop(0, 1023), Some(31));
        assert!(Topology::parse(4, "binomial").is_err());
        let custom = Topology::custom(vec![0, 0, 0, 1, 1]).unwrap();
        assert_eq!(custom.children(1).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(custom.next_hop(0, 4), Some(1));
        assert_eq!(custom.max_level(), 2);
        assert!(Topology::custom(vec![0, 2, 0]).is_err());
        assert_eq!(Topology::kary(1, 32).children(0).count(), 0);
    }
}
