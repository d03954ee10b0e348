//! The PMI exchange of a job spread over several shells, held by the leader: each shell
//! arrives with the puts its tasks made since the last barrier; once all have arrived,
//! every shell gets everyone's puts and releases its tasks.

/// PMI keys and values.
pub type Puts = Vec<(String, String)>;

/// One barrier round; `W` is how to answer a shell (a request, or the local shell).
#[derive(Debug)]
pub struct Exchange<W> {
    nshells: usize,
    arrived: Vec<(u32, W)>,
    puts: Puts,
}

impl<W> Exchange<W> {
    /// A job with `nshells` shells.
    pub fn new(nshells: usize) -> Self {
        Exchange {
            nshells,
            arrived: Vec::new(),
            puts: Vec::new(),
        }
    }

    /// Shell `shell_rank` arrived. When it is the last, returns who to answer and the
    /// puts of all, and starts the next round. A shell arriving twice in a round is
    /// counted once.
    pub fn arrive(
        &mut self,
        shell_rank: u32,
        waiter: W,
        puts: Vec<(String, String)>,
    ) -> Option<(Vec<W>, Puts)> {
        if self.arrived.iter().any(|(r, _)| *r == shell_rank) {
            return None;
        }
        self.arrived.push((shell_rank, waiter));
        self.puts.extend(puts);
        if self.arrived.len() < self.nshells {
            return None;
        }
        let waiters = std::mem::take(&mut self.arrived)
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        Some((waiters, std::mem::take(&mut self.puts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_shell_releases_everyone() {
        let kv = |k: &str| (k.to_string(), "v".to_string());
        let mut x = Exchange::new(3);
        assert!(x.arrive(0, "a", vec![kv("0")]).is_none());
        assert!(x.arrive(0, "again", vec![]).is_none());
        assert!(x.arrive(2, "c", vec![kv("2")]).is_none());
        let (waiters, puts) = x.arrive(1, "b", vec![]).unwrap();
        assert_eq!(waiters, ["a", "c", "b"]);
        assert_eq!(puts, [kv("0"), kv("2")]);
        // The next round starts empty.
        assert!(x.arrive(1, "b", vec![]).is_none());
    }
}
